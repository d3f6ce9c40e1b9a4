"""Small helpers shared by the benchmark modules: timing and table printing."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any


def best_of(fn: Callable[[], Any], repeat: int = 3) -> float:
    """Best wall-clock time in seconds of ``repeat`` calls (the first call warms caches too)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def print_table(title: str, rows: Sequence[dict[str, Any]]) -> str:
    """Print rows as a Markdown table and return the text (so run.py can write it to docs)."""
    if not rows:
        text = f"### {title}\n\n(no rows)\n"
        print(text)
        return text
    cols = list(rows[0].keys())
    for r in rows[1:]:
        for c in r:
            if c not in cols:
                cols.append(c)

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            if v != v:
                return "n/a"
            if abs(v) >= 100:
                return f"{v:,.0f}"
            if abs(v) >= 1:
                return f"{v:.2f}"
            return f"{v:.4f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    lines = [f"### {title}", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(fmt(r.get(c, "")) for c in cols) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    return text
