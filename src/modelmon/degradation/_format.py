"""Numbers as people read them in a status line: "accuracy 0.71 vs baseline 0.86 (−17.4 %)"."""

from __future__ import annotations

import math

MINUS = "\u2212"


def fmt_value(v: float) -> str:
    """Three significant digits without exponent in the usual range, trailing zeros dropped.

    >>> fmt_value(0.7100), fmt_value(0.86123), fmt_value(1234.5), fmt_value(-0.0123), fmt_value(2e-5)
    ('0.71', '0.861', '1234', '−0.0123', '2e-05')
    """
    if not math.isfinite(v):
        return "n/a"
    if v == 0:
        return "0"
    a = abs(v)
    if 1e-3 <= a < 1e6:
        digits = max(0, 2 - math.floor(math.log10(a)))
        s = f"{v:.{digits}f}"
        if "." in s:
            s = s.rstrip("0").rstrip(".")
    else:
        s = f"{v:.3g}"
    return s.replace("-", MINUS, 1) if s.startswith("-") else s


def fmt_percent(p: float) -> str:
    """Signed percentage with one decimal and a true minus sign.

    >>> fmt_percent(-17.44), fmt_percent(3.0), fmt_percent(float("nan"))
    ('−17.4 %', '+3.0 %', 'n/a')
    """
    if not math.isfinite(p):
        return "n/a"
    s = f"{p:+.1f} %"
    return s.replace("-", MINUS, 1)


def fmt_p(p: float) -> str:
    """A p-value as "p < 0.001", "p = 0.004", "p = 0.41".

    >>> fmt_p(1e-9), fmt_p(0.0042), fmt_p(0.4123)
    ('p < 0.001', 'p = 0.004', 'p = 0.41')
    """
    if not math.isfinite(p):
        return "p n/a"
    if p < 0.001:
        return "p < 0.001"
    if p < 0.01:
        return f"p = {p:.3f}"
    return f"p = {p:.2f}"
