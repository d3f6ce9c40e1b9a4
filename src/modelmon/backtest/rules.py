"""Strategies (what to hold) and position sizing (how much), both vectorised over the panel.

A strategy turns a :class:`~modelmon.backtest.Panel` into a **signal** matrix of the panel's
shape: +1 long, -1 short, 0 flat, values in between scale the size (0.5: half a position),
NaN "no view: keep what is held". Row ``t`` may use predictions up to ``t`` only. A strategy is
either a declarative rule (:class:`Threshold`, :class:`TopK`) or any small function
``f(panel) -> matrix`` (wrapped by :func:`as_strategy`).

A sizer turns signals into target positions: a fraction of equity per position
(:class:`FractionOfEquity`), an equal split of a gross exposure (:class:`EqualWeight`), a fixed
amount of money (:class:`FixedAmount`) or a volatility target (:class:`VolatilityTarget`).
Thresholds accept a fraction or an explicit percentage (``0.02`` or ``"2%"``), read by
:func:`modelmon.metrics.parse_threshold`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from modelmon._validation import check_int, check_option, check_real
from modelmon.backtest.panel import Panel
from modelmon.exceptions import ParameterError, ValidationError
from modelmon.metrics.finance import parse_threshold

__all__ = [
    "EqualWeight",
    "FixedAmount",
    "FractionOfEquity",
    "FunctionStrategy",
    "Sizer",
    "Strategy",
    "Threshold",
    "TopK",
    "VolatilityTarget",
    "as_strategy",
    "sizer_from_spec",
    "strategy_from_spec",
]

SCORES = ("prediction", "gap")


@runtime_checkable
class Strategy(Protocol):
    """What the backtest needs from a strategy."""

    @property
    def name(self) -> str:
        """Label in results."""
        ...

    def signals(self, panel: Panel) -> NDArray[np.float64]:
        """Signals of shape ``panel.shape`` (see the module docstring)."""
        ...


def _score(panel: Panel, on: str, owner: str) -> NDArray[np.float64]:
    check_option(on, "on", owner, SCORES)
    if on == "prediction":
        return panel.predictions
    if panel.prices is None:
        raise ValidationError(
            f"{owner}(on='gap') needs the panel's prices (the valuation gap is prediction / "
            "price - 1).", code="missing_field", loc=("prices",))
    out: NDArray[np.float64] = panel.predictions / panel.prices - 1.0
    return out


def _threshold(value: float | str | None, name: str, owner: str) -> float | None:
    return None if value is None else parse_threshold(value, name=name, owner=owner)


@dataclass(frozen=True)
class Threshold:
    """Long when the score is above ``long_above``, short when below ``short_below``.

    The score is the prediction (``on="prediction"``: a predicted return) or the valuation gap
    ``prediction / price - 1`` (``on="gap"``: an IPO valued 20 % above its offer price has a gap
    of 0.2). Cells without a prediction are flat.

    Parameters
    ----------
    long_above : float or str or None, default=0.0
        Go long when ``score > long_above`` (``0.01`` or ``"1%"``); None: never long.
    short_below : float or str or None, default=None
        Go short when ``score < short_below``; None: never short.
    on : {"prediction", "gap"}, default="prediction"
        What the thresholds apply to.
    name : str, default="threshold"
        Label in results.

    Examples
    --------
    >>> p = Panel(np.array([[0.02, -0.03, 0.0]]), np.zeros((1, 3)))
    >>> Threshold(long_above="1%", short_below="-1%").signals(p)
    array([[ 1., -1.,  0.]])
    """

    long_above: float | str | None = 0.0
    short_below: float | str | None = None
    on: str = "prediction"
    name: str = "threshold"

    def signals(self, panel: Panel) -> NDArray[np.float64]:
        """+1 above ``long_above``, -1 below ``short_below``, else 0."""
        owner = "Threshold"
        score = _score(panel, self.on, owner)
        long_above = _threshold(self.long_above, "long_above", owner)
        short_below = _threshold(self.short_below, "short_below", owner)
        out = np.zeros(score.shape)
        with np.errstate(invalid="ignore"):
            if long_above is not None:
                out[score > long_above] = 1.0
            if short_below is not None:
                out[score < short_below] = -1.0
        return out

    def to_dict(self) -> dict[str, Any]:
        """The rule's parameters."""
        return {"rule": "threshold", **asdict(self)}


@dataclass(frozen=True)
class TopK:
    """Each date, long the ``k`` symbols with the highest score (and short the ``k`` lowest).

    Ties are broken by column order; cells without a prediction are never chosen, and a date
    with fewer than ``k`` scored symbols uses those it has.

    Parameters
    ----------
    k : int
        Positions per side.
    long_short : bool, default=False
        Also short the ``k`` lowest scores.
    min_score : float or str or None, default=None
        A long must also score above this (``"0%"``: only predicted gains).
    on : {"prediction", "gap"}, default="prediction"
        What to rank.
    name : str, default="top_k"
        Label in results.

    Examples
    --------
    >>> p = Panel(np.array([[0.3, -0.1, 0.2, 0.0]]), np.zeros((1, 4)))
    >>> TopK(k=1, long_short=True).signals(p)
    array([[ 1., -1.,  0.,  0.]])
    """

    k: int
    long_short: bool = False
    min_score: float | str | None = None
    on: str = "prediction"
    name: str = "top_k"

    def signals(self, panel: Panel) -> NDArray[np.float64]:
        """+1 for the top ``k`` of each row (and -1 for the bottom ``k``)."""
        owner = "TopK"
        k = check_int(self.k, "k", owner, low=1)
        score = _score(panel, self.on, owner)
        n_dates, n_symbols = score.shape
        out = np.zeros(score.shape)
        if n_symbols == 0 or n_dates == 0:
            return out
        k = min(k, n_symbols)
        valid = ~np.isnan(score)
        rows = np.arange(n_dates)[:, None]
        # stable sorts: equal scores keep column order
        high = np.argsort(np.where(valid, -score, np.inf), axis=1, kind="stable")[:, :k]
        chosen = valid[rows, high]
        floor = _threshold(self.min_score, "min_score", owner)
        if floor is not None:
            chosen &= score[rows, high] > floor
        out[rows, high] = np.where(chosen, 1.0, 0.0)
        if self.long_short:
            low = np.argsort(np.where(valid, score, np.inf), axis=1, kind="stable")[:, :k]
            take = valid[rows, low] & (out[rows, low] == 0.0)
            current = out[rows, low]
            out[rows, low] = np.where(take, -1.0, current)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The rule's parameters."""
        return {"rule": "top_k", **asdict(self)}


@dataclass(frozen=True)
class FunctionStrategy:
    """A strategy written as a small function ``func(panel) -> signals``.

    Examples
    --------
    >>> s = FunctionStrategy(lambda p: np.sign(p.predictions), name="sign")
    >>> s.signals(Panel(np.array([[0.5, -2.0]]), np.zeros((1, 2))))
    array([[ 1., -1.]])
    """

    func: Callable[[Panel], Any]
    name: str = "function"

    def signals(self, panel: Panel) -> NDArray[np.float64]:
        """Call the function and check the shape of what it returns."""
        out = np.asarray(self.func(panel), dtype=np.float64)
        if out.shape != panel.shape:
            raise ValidationError(
                f"The strategy {self.name!r} returned signals of shape {out.shape}; the panel "
                f"has shape {panel.shape}.", code="invalid_shape", loc=("strategy",))
        if np.isinf(out).any():
            raise ValidationError(f"The strategy {self.name!r} returned infinite signals.",
                                  loc=("strategy",))
        return out

    def to_dict(self) -> dict[str, Any]:
        """The function's name."""
        return {"rule": "function", "name": self.name,
                "function": getattr(self.func, "__qualname__", repr(self.func))}


def as_strategy(strategy: Strategy | Callable[[Panel], Any]) -> Strategy:
    """Return ``strategy`` as a :class:`Strategy` (a plain function is wrapped)."""
    if isinstance(strategy, Strategy):
        return strategy
    if callable(strategy):
        return FunctionStrategy(strategy, getattr(strategy, "__name__", "function"))
    raise ParameterError(
        "The 'strategy' parameter of backtest must be a rule (Threshold, TopK ...) or a "
        f"function of the panel. Got {strategy!r} instead.", loc=("strategy",))


# --- sizing ---------------------------------------------------------------------------------------


class Sizer(Protocol):
    """Turns held signals into target sizes: ``(sizes, "weight" | "amount")``."""

    def sizes(
        self, held: NDArray[np.float64], panel: Panel
    ) -> tuple[NDArray[np.float64], str]:
        """``held`` are the signals in force (NaN carried forward); NaN sizes are allowed
        where ``held`` is NaN."""
        ...


@dataclass(frozen=True)
class FractionOfEquity:
    """Each position is ``signal * fraction`` of the portfolio's equity when it is ordered.

    Examples
    --------
    >>> FractionOfEquity(0.1).sizes(np.array([[1.0, -0.5, 0.0]]), None)[0]
    array([[ 0.1 , -0.05,  0.  ]])
    """

    fraction: float | str = 0.1

    def sizes(self, held: NDArray[np.float64], panel: Any) -> tuple[NDArray[np.float64], str]:
        """Weights ``held * fraction``."""
        f = parse_threshold(self.fraction, name="fraction", owner="FractionOfEquity")
        check_real(f, "fraction", "FractionOfEquity", low=0.0)
        return held * f, "weight"

    def to_dict(self) -> dict[str, Any]:
        """The sizer's parameters."""
        return {"sizing": "fraction_of_equity", **asdict(self)}


@dataclass(frozen=True)
class EqualWeight:
    """The gross exposure ``gross`` split equally over the positions held at each date.

    With ``n`` non-zero signals in force at ``t``, each gets weight ``signal * gross / n``.

    Examples
    --------
    >>> EqualWeight().sizes(np.array([[1.0, -1.0, 0.0, 1.0]]), None)[0]
    array([[ 0.3333..., -0.3333...,  0. ,  0.3333...]])
    """

    gross: float | str = 1.0

    def sizes(self, held: NDArray[np.float64], panel: Any) -> tuple[NDArray[np.float64], str]:
        """Weights ``held * gross / n_active``."""
        g = parse_threshold(self.gross, name="gross", owner="EqualWeight")
        check_real(g, "gross", "EqualWeight", low=0.0)
        active = np.sum(np.nan_to_num(held) != 0, axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            w = np.where(active > 0, held * g / np.maximum(active, 1), 0.0)
        return np.where(np.isnan(held), np.nan, w), "weight"

    def to_dict(self) -> dict[str, Any]:
        """The sizer's parameters."""
        return {"sizing": "equal_weight", **asdict(self)}


@dataclass(frozen=True)
class FixedAmount:
    """Each position is ``signal * amount`` in money (the cash limit may scale buys down).

    Examples
    --------
    >>> FixedAmount(10_000).sizes(np.array([[1.0, 0.0]]), None)
    (array([[10000.,     0.]]), 'amount')
    """

    amount: float = 10_000.0

    def sizes(self, held: NDArray[np.float64], panel: Any) -> tuple[NDArray[np.float64], str]:
        """Amounts ``held * amount``."""
        a = check_real(self.amount, "amount", "FixedAmount", low=0.0)
        return held * a, "amount"

    def to_dict(self) -> dict[str, Any]:
        """The sizer's parameters."""
        return {"sizing": "fixed_amount", **asdict(self)}


@dataclass(frozen=True)
class VolatilityTarget:
    """Positions scaled to a target annualised volatility each, split over the positions held.

    Symbol ``s`` held with ``n`` positions at ``t`` gets weight
    ``signal * min(target / vol_s, max_leverage) / n``, where ``vol_s`` is the standard deviation
    (``ddof=1``) of its realised returns over the ``lookback`` periods **before** ``t``,
    times ``sqrt(periods_per_year)``. Until ``lookback`` returns exist (or when they are
    constant) the weight is 0.

    Examples
    --------
    >>> r = np.array([[0.01], [-0.01], [0.01], [0.0]])
    >>> p = Panel(np.ones((4, 1)), r)
    >>> w, kind = VolatilityTarget(target=0.1, lookback=3).sizes(np.ones((4, 1)), p)
    >>> np.round(w[:, 0], 4).tolist()
    [0.0, 0.0, 0.0, 0.5455]
    """

    target: float | str = 0.10
    lookback: int = 20
    periods_per_year: float = 252.0
    max_leverage: float = 1.0

    def sizes(self, held: NDArray[np.float64], panel: Panel) -> tuple[NDArray[np.float64], str]:
        """Weights from the trailing volatility of each symbol."""
        owner = "VolatilityTarget"
        target = parse_threshold(self.target, name="target", owner=owner)
        check_real(target, "target", owner, low=0.0, closed="neither")
        lookback = check_int(self.lookback, "lookback", owner, low=2)
        q = check_real(self.periods_per_year, "periods_per_year", owner, low=0.0,
                       closed="neither")
        cap = check_real(self.max_leverage, "max_leverage", owner, low=0.0)
        vol = trailing_volatility(panel.returns, lookback) * np.sqrt(q)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(vol > 0, np.minimum(target / vol, cap), 0.0)
        active = np.sum(np.nan_to_num(held) != 0, axis=1, keepdims=True)
        w = held * scale / np.maximum(active, 1)
        return np.where(np.isnan(held), np.nan, w), "weight"

    def to_dict(self) -> dict[str, Any]:
        """The sizer's parameters."""
        return {"sizing": "volatility_target", **asdict(self)}


def trailing_volatility(returns: NDArray[np.float64], lookback: int) -> NDArray[np.float64]:
    """Standard deviation (``ddof=1``) of the ``lookback`` returns before each row; NaN before
    that many exist or when one of them is missing; 0 when they are constant."""
    n_dates, n_symbols = returns.shape
    out = np.full(returns.shape, np.nan)
    if n_dates <= lookback:
        return out
    missing = np.isnan(returns)
    r = np.where(missing, 0.0, returns)
    zero = np.zeros((1, n_symbols))
    c0 = np.cumsum(np.r_[zero, missing.astype(np.float64)], axis=0)
    c1 = np.cumsum(np.r_[zero, r], axis=0)
    c2 = np.cumsum(np.r_[zero, r**2], axis=0)
    gaps = c0[lookback:-1] - c0[: n_dates - lookback]
    s1 = c1[lookback:-1] - c1[: n_dates - lookback]
    s2 = c2[lookback:-1] - c2[: n_dates - lookback]
    var = (s2 - s1**2 / lookback) / (lookback - 1)
    # the running sums cancel to rounding noise, not to 0, on a constant window
    var = np.where(var <= 1e-12 * s2 / lookback, 0.0, var)
    out[lookback:] = np.where(gaps > 0, np.nan, np.sqrt(np.maximum(var, 0.0)))
    return out


_RULES: dict[str, type] = {"threshold": Threshold, "top_k": TopK}
_SIZERS: dict[str, type] = {"equal": EqualWeight, "fraction": FractionOfEquity,
                            "amount": FixedAmount, "vol": VolatilityTarget}


def _value(text: str) -> Any:
    low = text.strip().lower()
    if low in ("true", "yes"):
        return True
    if low in ("false", "no"):
        return False
    if low in ("none", "null"):
        return None
    try:
        return int(low)
    except ValueError:
        pass
    try:
        return float(low)
    except ValueError:
        return text.strip()  # "2%", "10bp": read by parse_threshold


def strategy_from_spec(text: str) -> Strategy:
    """Build a rule from a one-line spec, as the CLI takes it: ``RULE[:key=value,...]``.

    Examples
    --------
    >>> strategy_from_spec("top_k:k=10,long_short=true")
    TopK(k=10, long_short=True, min_score=None, on='prediction', name='top_k:k=10,long_short=true')
    >>> strategy_from_spec("threshold:long_above=2%,on=gap").long_above
    '2%'
    """
    rule, _, args = text.partition(":")
    cls = _RULES.get(rule.strip())
    if cls is None:
        raise ParameterError(
            f"Unknown strategy rule {rule!r} in {text!r}; choose from {sorted(_RULES)} "
            "(e.g. 'threshold:long_above=1%' or 'top_k:k=10').", loc=("strategy",))
    kwargs: dict[str, Any] = {"name": text}
    for part in filter(None, (p.strip() for p in args.split(","))):
        key, eq, value = part.partition("=")
        if not eq:
            raise ParameterError(f"Expected key=value in strategy spec {text!r}; got {part!r}.",
                                 loc=("strategy",))
        kwargs[key.strip()] = _value(value)
    try:
        out: Strategy = cls(**kwargs)
    except TypeError as exc:
        raise ParameterError(f"Bad strategy spec {text!r}: {exc}.", loc=("strategy",)) from None
    out.signals(Panel(np.zeros((1, 1)), np.zeros((1, 1)),
                      prices=np.ones((1, 1))))  # validate its parameters now
    return out


def sizer_from_spec(kind: str, size: float | str | None = None, **extra: Any) -> Any:
    """A sizer by name (``equal``, ``fraction``, ``amount``, ``vol``) and its main parameter.

    Examples
    --------
    >>> sizer_from_spec("fraction", "10%")
    FractionOfEquity(fraction='10%')
    """
    cls = _SIZERS.get(kind)
    if cls is None:
        raise ParameterError(f"Unknown sizing {kind!r}; choose from {sorted(_SIZERS)}.",
                             loc=("sizing",))
    if size is None:
        return cls(**extra)
    first = {"equal": "gross", "fraction": "fraction", "amount": "amount", "vol": "target"}[kind]
    value: Any = float(size) if kind == "amount" else size
    return cls(**{first: value}, **extra)
