"""The data a backtest runs on: predictions and realised returns by date and symbol.

A :class:`Panel` holds wide matrices of shape ``(n_dates, n_symbols)``, dates ascending. Row
``t`` of ``predictions`` is what the model said at date ``t``; row ``t`` of ``returns`` is the
realised simple return of each symbol over the period that **starts** at ``t`` (the actual the
prediction forecast). A strategy decides at ``t`` from predictions up to ``t`` and earns the
returns of ``t``: no look-ahead as long as each prediction was made before its period began.
NaN marks a missing value (a symbol not listed yet, a day without a prediction).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelmon._validation import as_1d, as_1d_float, check_consistent_length
from modelmon.exceptions import ValidationError

__all__ = ["Panel"]


def _matrix(x: ArrayLike, name: str, shape: tuple[int, int] | None) -> NDArray[np.float64]:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1 and shape is not None and shape[1] == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValidationError(
            f"The {name!r} argument of Panel must be a 2-D array (dates x symbols). Got shape "
            f"{arr.shape} instead.", code="invalid_shape", loc=(name,))
    if shape is not None and arr.shape != shape:
        raise ValidationError(
            f"The {name!r} argument of Panel has shape {arr.shape}, expected {shape}.",
            code="length_mismatch", loc=(name,))
    if np.isinf(arr).any():
        raise ValidationError(f"The {name!r} argument of Panel contains infinity.", loc=(name,))
    return np.ascontiguousarray(arr)


@dataclass(frozen=True)
class Panel:
    """Predictions and realised returns by date (rows) and symbol (columns).

    Parameters
    ----------
    predictions : array-like of shape (n_dates, n_symbols)
        The model's output at each date: a predicted return, a valuation, a score.
    returns : array-like of shape (n_dates, n_symbols)
        Realised simple returns over the period starting at each date; each >= -1.
    dates : array-like of shape (n_dates,), optional
        Strictly increasing labels (datetime64, dates, ints); default ``0 .. n_dates-1``.
    symbols : array-like of shape (n_symbols,), optional
        Column labels; default ``"0" .. "n_symbols-1"``.
    prices : array-like of shape (n_dates, n_symbols), optional
        A reference price per cell (an IPO's offer price): rules on the valuation gap
        ``prediction / price - 1`` need it.
    benchmark : array-like of shape (n_dates,), optional
        Returns of a benchmark over the same periods (an index, the equal-weighted universe).

    Examples
    --------
    >>> p = Panel.from_long(dates=[1, 1, 2, 2], symbols=["a", "b", "a", "b"],
    ...                     predictions=[0.1, -0.2, 0.0, 0.3], returns=[0.01, -0.02, 0.0, 0.04])
    >>> p.shape, p.symbols.tolist()
    ((2, 2), ['a', 'b'])
    """

    predictions: NDArray[np.float64]
    returns: NDArray[np.float64]
    dates: NDArray[Any] = field(default_factory=lambda: np.empty(0))
    symbols: NDArray[Any] = field(default_factory=lambda: np.empty(0))
    prices: NDArray[np.float64] | None = None
    benchmark: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        pred = _matrix(self.predictions, "predictions", None)
        ret = _matrix(self.returns, "returns", pred.shape)
        if (ret < -1.0).any():
            raise ValidationError(
                "The 'returns' argument of Panel must hold simple returns >= -1 (a long "
                f"position cannot lose more than it holds). Got {float(np.nanmin(ret))!r}.",
                loc=("returns",))
        n_dates, n_symbols = pred.shape
        dates = np.arange(n_dates) if len(self.dates) == 0 else as_1d(self.dates, "dates", "Panel")
        symbols = (np.array([str(i) for i in range(n_symbols)]) if len(self.symbols) == 0
                   else as_1d(self.symbols, "symbols", "Panel"))
        check_consistent_length([dates, pred], ["dates", "predictions"], "Panel")
        if len(symbols) != n_symbols:
            raise ValidationError(
                f"The 'symbols' argument of Panel has {len(symbols)} labels for {n_symbols} "
                "columns.", code="length_mismatch", loc=("symbols",))
        if n_dates > 1 and not bool(np.all(dates[1:] > dates[:-1])):
            raise ValidationError("The 'dates' of a Panel must be strictly increasing.",
                                  loc=("dates",))
        object.__setattr__(self, "predictions", pred)
        object.__setattr__(self, "returns", ret)
        object.__setattr__(self, "dates", dates)
        object.__setattr__(self, "symbols", symbols)
        if self.prices is not None:
            prices = _matrix(self.prices, "prices", pred.shape)
            if (prices <= 0).any():
                raise ValidationError("The 'prices' of a Panel must be > 0.", loc=("prices",))
            object.__setattr__(self, "prices", prices)
        if self.benchmark is not None:
            bench = as_1d_float(self.benchmark, "benchmark", "Panel")
            check_consistent_length([dates, bench], ["dates", "benchmark"], "Panel")
            object.__setattr__(self, "benchmark", bench)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_dates, n_symbols)``."""
        return (int(self.predictions.shape[0]), int(self.predictions.shape[1]))

    @classmethod
    def from_long(
        cls,
        *,
        dates: ArrayLike,
        symbols: ArrayLike,
        predictions: ArrayLike,
        returns: ArrayLike,
        prices: ArrayLike | None = None,
        benchmark: Mapping[Any, float] | None = None,
    ) -> Panel:
        """Build a panel from one row per (date, symbol), in any order.

        Cells without a row are NaN. A (date, symbol) pair given twice is an error.
        ``benchmark`` maps a date to the benchmark's return over the period starting then.
        """
        owner = "Panel.from_long"
        d = as_1d(dates, "dates", owner)
        s = as_1d(symbols, "symbols", owner)
        pred = as_1d_float(predictions, "predictions", owner, allow_nan=True)
        ret = as_1d_float(returns, "returns", owner, allow_nan=True)
        price = None if prices is None else as_1d_float(prices, "prices", owner, allow_nan=True)
        check_consistent_length([d, s, pred, ret, price],
                                ["dates", "symbols", "predictions", "returns", "prices"], owner)
        udates, di = np.unique(d, return_inverse=True)
        usyms, si = np.unique(s.astype(str), return_inverse=True)
        cell = di * len(usyms) + si
        if np.unique(cell).size != cell.size:
            raise ValidationError(f"{owner}: some (date, symbol) pairs appear more than once.",
                                  code="conflict", loc=("symbols",))
        shape = (len(udates), len(usyms))

        def wide(values: NDArray[np.float64]) -> NDArray[np.float64]:
            out = np.full(shape, np.nan)
            out.ravel()[cell] = values
            return out

        bench = None
        if benchmark is not None:
            bench = np.array([float(benchmark.get(k, np.nan)) for k in udates.tolist()])
            bench = np.nan_to_num(bench, nan=0.0)
        return cls(wide(pred), wide(ret), udates, usyms,
                   None if price is None else wide(price), bench)

    @classmethod
    def from_frame(
        cls,
        frame: Any,
        *,
        date: str = "date",
        symbol: str = "symbol",
        prediction: str = "prediction",
        realised: str = "realised",
        price: str | None = None,
    ) -> Panel:
        """Build a panel from a long table (pandas or polars data frame, a pyarrow table, a
        dict of columns): one row per date and symbol, columns named by the arguments."""

        def column(name: str) -> NDArray[Any]:
            try:
                col = frame[name]
            except (KeyError, IndexError, TypeError, ValueError):
                raise ValidationError(f"The table has no column {name!r}.",
                                      code="missing_field", loc=(name,)) from None
            if hasattr(col, "to_numpy"):
                try:
                    return np.asarray(col.to_numpy(zero_copy_only=False))
                except TypeError:
                    return np.asarray(col.to_numpy())
            return np.asarray(col)

        return cls.from_long(dates=column(date), symbols=column(symbol),
                             predictions=column(prediction), returns=column(realised),
                             prices=None if price is None else column(price))

    def slice(self, start: int, stop: int) -> Panel:
        """The rows ``start:stop`` as a panel of their own."""
        return Panel(self.predictions[start:stop], self.returns[start:stop],
                     self.dates[start:stop], self.symbols,
                     None if self.prices is None else self.prices[start:stop],
                     None if self.benchmark is None else self.benchmark[start:stop])
