"""Column converters for ingest: Python values (from JSON) or Arrow arrays to typed Arrow arrays.

Each converter checks a whole column at once (type set, then one Arrow conversion) and only on
failure walks the values to name every offending position. Problems are collected, not raised one
at a time, so a client learns about all of its mistakes (up to a limit) from one response.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelmon.config.durations import format_duration
from modelmon.exceptions import ModelmonError, SchemaError, ValidationError

__all__ = [
    "EventTimeBounds",
    "LocFn",
    "Now",
    "Problems",
    "bool_column",
    "check_ids",
    "label_text",
    "numeric_column",
    "text_column",
    "timestamp_column",
]

#: Maps a row position to the field path reported in errors, e.g. ``("records", 3, "score")``.
LocFn = Callable[[int], tuple[str | int, ...]]

_NUMBER_TYPES = frozenset({int, float, type(None)})
_PLAIN_NUMBERS = frozenset({int, float})
_ONLY_NONE = frozenset({type(None)})
_TEXT_TYPES = frozenset({str, int, bool, type(None)})
_TS = pa.timestamp("us", tz="UTC")


class Problems:
    """Collects validation problems; :meth:`raise_if_any` raises them as one error."""

    def __init__(self, limit: int = 50) -> None:
        self.limit = limit
        self.items: list[ModelmonError] = []
        self.total = 0

    def __bool__(self) -> bool:
        return bool(self.items)

    @property
    def full(self) -> bool:
        return len(self.items) >= self.limit

    def add(self, code: str, message: str, loc: Sequence[str | int]) -> None:
        self.total += 1
        if len(self.items) < self.limit:
            cls = SchemaError if code in _SCHEMA_CODES else ValidationError
            self.items.append(cls(message, code=code, loc=tuple(loc)))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        first = self.items[0]
        more = self.total - 1
        message = first.message if not more else f"{first.message} (and {more} more problems)"
        err = type(first)(message, code=first.code, loc=first.loc)
        err.errors = tuple(self.items)
        raise err


_SCHEMA_CODES = frozenset(
    {"unknown_feature", "missing_feature", "invalid_feature_type", "invalid_prediction",
     "unknown_segment"}
)


def label_text(value: Any) -> str:
    """Class labels are stored as text: ``1`` -> ``"1"``, ``True`` -> ``"true"``, ``1.0`` -> ``"1"``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_FLOAT64 = pa.float64()
_STRING = pa.string()


def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "object", type(None): "null"}.get(type(value), type(value).__name__)


def numeric_column(
    values: Sequence[Any] | pa.Array | pa.ChunkedArray,
    loc: LocFn,
    problems: Problems,
    *,
    what: str,
    code: str = "invalid_feature_type",
    nullable: bool = True,
    nan_is_null: bool = True,
    low: float | None = None,
    high: float | None = None,
    null_code: str = "invalid_value",
) -> pa.Array:
    """Float64 column. Accepts ints and floats (not booleans or numeric strings).

    NaN becomes null when ``nan_is_null`` (features: NaN means missing), else it is an error;
    infinities are always errors; null is an error unless ``nullable``.
    """
    if isinstance(values, pa.ChunkedArray | pa.Array):
        arr = _arrow_numeric(values, loc, problems, what=what, code=code)
    else:
        kinds = set(map(type, values))
        if kinds == _ONLY_NONE:  # an optional field nobody sent
            arr = pa.nulls(len(values), pa.float64())
            if not nullable:
                _report_nulls(arr, loc, problems, what, null_code)
            return arr
        if kinds <= _PLAIN_NUMBERS:
            # The common case (no nulls): one NumPy conversion, checks on the array.
            try:
                data = np.asarray(values, dtype=np.float64)
            except OverflowError:
                return _numeric_column_checked(_numeric_slow(values, loc, problems, what=what,
                                                             code=code), loc, problems, what=what,
                                               nullable=nullable, nan_is_null=nan_is_null,
                                               low=low, high=high, null_code=null_code)
            if not len(data) or (np.isfinite(data).all() and (
                    low is None or data.min() >= low) and (high is None or data.max() <= high)):
                return pa.array(data)
            arr = pa.array(data)
        elif kinds <= _NUMBER_TYPES:
            try:
                arr = pa.array(values, type=pa.float64())
            except (pa.ArrowInvalid, OverflowError):
                arr = _numeric_slow(values, loc, problems, what=what, code=code)
        else:
            arr = _numeric_slow(values, loc, problems, what=what, code=code)
    return _numeric_column_checked(arr, loc, problems, what=what, nullable=nullable,
                                   nan_is_null=nan_is_null, low=low, high=high,
                                   null_code=null_code)


def _numeric_column_checked(
    arr: pa.Array, loc: LocFn, problems: Problems, *, what: str, nullable: bool,
    nan_is_null: bool, low: float | None, high: float | None, null_code: str,
) -> pa.Array:
    if len(arr) == 0:
        return arr
    data = arr.to_numpy(zero_copy_only=False)
    finite = np.isfinite(data)
    if not finite.all():
        valid = ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        bad_inf = np.isinf(data) & valid
        for i in np.flatnonzero(bad_inf)[: problems.limit]:
            problems.add("invalid_value", f"{what} must be finite; got {data[i]}", loc(int(i)))
        nan = np.isnan(data) & valid
        if nan.any():
            if nan_is_null:
                arr = pc.if_else(pa.array(nan), pa.scalar(None, pa.float64()), arr)
            else:
                for i in np.flatnonzero(nan)[: problems.limit]:
                    problems.add("invalid_value", f"{what} must not be NaN", loc(int(i)))
    if not nullable and arr.null_count:
        _report_nulls(arr, loc, problems, what, null_code)
    if low is not None or high is not None:
        data = arr.to_numpy(zero_copy_only=False)
        with np.errstate(invalid="ignore"):
            out = np.zeros(len(data), dtype=bool)
            if low is not None:
                out |= data < low
            if high is not None:
                out |= data > high
        for i in np.flatnonzero(out)[: problems.limit]:
            rng = f"[{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]"
            problems.add("invalid_value", f"{what} must be in {rng}; got {data[i]}", loc(int(i)))
    return arr


def _arrow_numeric(
    values: pa.Array | pa.ChunkedArray, loc: LocFn, problems: Problems, *, what: str, code: str
) -> pa.Array:
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if arr.type == _FLOAT64:
        return arr
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type) or pa.types.is_null(arr.type):
        return arr.cast(_FLOAT64)
    problems.add(code, f"{what} must be numeric; got a column of type {arr.type}", _col_loc(loc))
    return pa.nulls(len(arr), pa.float64())


def _col_loc(loc: LocFn) -> tuple[str | int, ...]:
    """For a whole column (bulk input), the loc without the row: the column's path."""
    parts = [p for p in loc(0) if not isinstance(p, int)]
    if parts and parts[0] == "rows":  # bulk tables: the column as a whole is at fault
        parts[0] = "columns"
    return tuple(parts)


def _numeric_slow(
    values: Sequence[Any], loc: LocFn, problems: Problems, *, what: str, code: str
) -> pa.Array:
    out: list[float | None] = []
    for i, v in enumerate(values):
        t = type(v)
        if t is float or t is int:
            if t is int and abs(v) > 2**63:
                problems.add("invalid_value", f"{what} is out of range; got {v}", loc(i))
                out.append(None)
            else:
                out.append(float(v))
        elif v is None:
            out.append(None)
        else:
            problems.add(code, f"{what} must be a number; got {_type_name(v)} {v!r:.40}", loc(i))
            out.append(None)
    return pa.array(out, type=pa.float64())


def text_column(
    values: Sequence[Any] | pa.Array | pa.ChunkedArray,
    loc: LocFn,
    problems: Problems,
    *,
    what: str,
    code: str = "invalid_feature_type",
    nullable: bool = True,
    max_length: int = 1024,
    null_code: str = "invalid_value",
) -> pa.Array:
    """String column. Accepts strings, integers and booleans (converted to text)."""
    if isinstance(values, pa.ChunkedArray | pa.Array):
        arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        if arr.type == _STRING:
            pass
        elif pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) or pa.types.is_null(arr.type):
            arr = arr.cast(_STRING)
        elif pa.types.is_integer(arr.type) or pa.types.is_boolean(arr.type):
            arr = pa.array([None if v is None else label_text(v) for v in arr.to_pylist()], pa.string())
        else:
            problems.add(code, f"{what} must be text; got a column of type {arr.type}", _col_loc(loc))
            return pa.nulls(len(arr), pa.string())
    else:
        kinds = set(map(type, values))
        if kinds <= {str, type(None)}:
            arr = pa.array(values, type=pa.string())
        elif kinds <= {int, type(None)}:
            try:
                arr = pa.array(values, type=pa.int64()).cast(pa.string())
            except OverflowError:  # beyond 64 bits
                arr = _as_text(values)
        elif kinds <= _TEXT_TYPES:
            arr = _as_text(values)
        else:
            out: list[str | None] = []
            for i, v in enumerate(values):
                if v is None or type(v) in _TEXT_TYPES:
                    out.append(None if v is None else label_text(v))
                elif type(v) is float and v.is_integer():
                    out.append(label_text(v))
                else:
                    problems.add(code, f"{what} must be a string; got {_type_name(v)} {v!r:.40}",
                                 loc(i))
                    out.append(None)
            arr = pa.array(out, type=pa.string())
    if _may_be_longer(values, arr, max_length):
        too_long = (
            pc.greater(pc.utf8_length(arr), max_length).fill_null(False).to_numpy(zero_copy_only=False)
        )
        for i in np.flatnonzero(too_long)[: problems.limit]:
            problems.add("invalid_value", f"{what} is longer than {max_length} characters", loc(int(i)))
    if not nullable and arr.null_count:
        _report_nulls(arr, loc, problems, what, null_code)
    return arr


def check_ids(arr: pa.Array, loc: LocFn, problems: Problems, *, what: str) -> None:
    """Ids must not be empty or hold NUL characters (both were stored, and neither can be asked
    for again)."""
    if not len(arr) or arr.null_count == len(arr):
        return
    bad = pc.or_(pc.equal(pc.utf8_length(arr), 0), pc.match_substring(arr, "\x00"))
    for i in np.flatnonzero(bad.fill_null(False).to_numpy(zero_copy_only=False))[: problems.limit]:
        problems.add("invalid_value", f"{what} must not be empty or hold NUL characters",
                     loc(int(i)))


def _as_text(values: Sequence[Any]) -> pa.Array:
    return pa.array([None if v is None else label_text(v) for v in values], pa.string())


def _report_nulls(arr: pa.Array, loc: LocFn, problems: Problems, what: str, code: str) -> None:
    text = f"{what} is required" if code == "missing_field" else f"{what} must not be null"
    for i in np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[: problems.limit]:
        problems.add(code, text, loc(int(i)))


def _may_be_longer(values: Any, arr: pa.Array, max_length: int) -> bool:
    """Whether a string of ``arr`` may be longer than ``max_length`` characters: exact for short
    Python lists; otherwise bounded by the longest value in bytes (a string has at most as many
    characters as bytes), so the caller's exact check runs only when it can find something."""
    if isinstance(values, list) and len(values) <= 64:
        return max((len(v) for v in values if type(v) is str), default=0) > max_length
    if not len(arr) or arr.null_count == len(arr):
        return False
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset:arr.offset + len(arr) + 1]
    return int(np.diff(offsets).max()) > max_length


def bool_column(
    values: Sequence[Any] | pa.Array | pa.ChunkedArray,
    loc: LocFn,
    problems: Problems,
    *,
    what: str,
    code: str = "invalid_feature_type",
    nullable: bool = True,
) -> pa.Array:
    """Boolean column: ``true``/``false`` only (not 0/1 or strings)."""
    if isinstance(values, pa.ChunkedArray | pa.Array):
        arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        if not (pa.types.is_boolean(arr.type) or pa.types.is_null(arr.type)):
            problems.add(code, f"{what} must be boolean; got a column of type {arr.type}", _col_loc(loc))
            return pa.nulls(len(arr), pa.bool_())
        arr = arr.cast(pa.bool_())
    else:
        kinds = set(map(type, values))
        if kinds <= {bool, type(None)}:
            arr = pa.array(values, type=pa.bool_())
        else:
            out: list[bool | None] = []
            for i, v in enumerate(values):
                if v is None or type(v) is bool:
                    out.append(v)
                else:
                    problems.add(code, f"{what} must be true or false; got {_type_name(v)} {v!r:.40}",
                                 loc(i))
                    out.append(None)
            arr = pa.array(out, type=pa.bool_())
    if not nullable and arr.null_count:
        for i in np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[: problems.limit]:
            problems.add("invalid_value", f"{what} must not be null", loc(int(i)))
    return arr


@dataclass(frozen=True)
class EventTimeBounds:
    """The server's time and the event times ingest accepts around it: from ``max_age`` before
    ``now`` to ``max_future`` after it (``ingest.max_event_age``, ``ingest.max_future_skew``).

    Ingest functions take either this or a bare ``now`` (then the default bounds apply). A time
    outside is a ``timestamp_out_of_range`` error: year 1 or epoch 0 is a client's bug, and stored
    it breaks evaluation (windows before year 1) or becomes a 1970 baseline.

    >>> b = EventTimeBounds(datetime(2026, 1, 1, tzinfo=UTC))
    >>> b.earliest.year, b.latest.isoformat()
    (2016, '2026-01-02T00:00:00+00:00')
    """

    now: datetime
    max_age: timedelta = timedelta(days=3650)
    max_future: timedelta = timedelta(days=1)

    @classmethod
    def of(cls, now: datetime | EventTimeBounds) -> EventTimeBounds:
        return now if isinstance(now, EventTimeBounds) else cls(now)

    @property
    def earliest(self) -> datetime:
        return self.now - self.max_age

    @property
    def latest(self) -> datetime:
        return self.now + self.max_future

    def micros(self) -> tuple[int, int, int]:
        """Now, earliest and latest, in microseconds since the epoch."""
        return _micros(self.now), _micros(self.earliest), _micros(self.latest)

    def describe(self) -> str:
        return (f"[{self.earliest.isoformat()}, {self.latest.isoformat()}] (ingest.max_event_age "
                f"{format_duration(self.max_age)}, ingest.max_future_skew "
                f"{format_duration(self.max_future)})")


#: What ingest functions take as ``now``.
Now = datetime | EventTimeBounds

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_UNIT_MICROS = {"s": 1_000_000, "ms": 1_000, "us": 1}


def _micros(value: datetime) -> int:
    """Exact microseconds since the epoch (naive means UTC), for any year 1-9999."""
    return ((value if value.tzinfo else value.replace(tzinfo=UTC)) - _EPOCH) // _MICRO


def _parse_timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise TypeError(type(value).__name__)


def timestamp_column(
    values: Sequence[Any] | pa.Array | pa.ChunkedArray,
    loc: LocFn,
    problems: Problems,
    *,
    what: str,
    now: Now,
) -> pa.Array:
    """UTC timestamps from ISO 8601 text (``Z`` or offset; naive means UTC) or epoch seconds.

    Nulls are filled with the server's time. Times outside the accepted range (see
    :class:`EventTimeBounds`: by default ten years back to one day ahead) are
    ``timestamp_out_of_range`` errors: almost always clock or unit mistakes (milliseconds sent as
    seconds, 0, year 1).
    """
    bounds = EventTimeBounds.of(now)
    now_us, low_us, high_us = bounds.micros()
    n = len(values)
    micros = np.full(n, now_us, dtype=np.int64)
    outside = np.zeros(n, dtype=bool)
    if isinstance(values, pa.ChunkedArray | pa.Array):
        arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) or pa.types.is_null(arr.type):
            return timestamp_column(arr.to_pylist(), loc, problems, what=what, now=bounds)
        valid = np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        if pa.types.is_timestamp(arr.type):
            # Whole units, compared with the bounds before scaling: no overflow, no rounding.
            raw = arr.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
            if arr.type.unit == "ns":
                scaled = raw // 1000
                inside = valid & (scaled >= low_us) & (scaled <= high_us)
            else:
                unit = _UNIT_MICROS[arr.type.unit]
                inside = valid & (raw >= low_us // unit) & (raw <= high_us // unit)
                scaled = np.where(inside, raw, 0) * unit
        elif pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
            secs = arr.cast(pa.float64(), safe=False).fill_null(np.nan).to_numpy(
                zero_copy_only=False)
            with np.errstate(invalid="ignore", over="ignore"):
                scaled_f = secs * 1e6
                inside = valid & (scaled_f >= low_us) & (scaled_f <= high_us)
            valid &= ~np.isnan(secs)  # NaN: no time sent, like null
            scaled = np.where(inside, scaled_f, 0).astype(np.int64)
        else:
            problems.add("invalid_timestamp", f"{what} must be a timestamp; got a column of type "
                         f"{arr.type}", _col_loc(loc))
            return pa.array(micros).cast(_TS)
        micros = np.where(inside, scaled, micros)
        outside = valid & ~inside
        raw_values: Any = raw if pa.types.is_timestamp(arr.type) else secs
    elif values.count(None) == n:  # no event times sent: all server time
        return pa.array(micros).cast(_TS)
    else:
        raw_values = values
        for i, v in enumerate(values):
            if v is None:
                continue
            try:
                if type(v) is int or type(v) is float:
                    if not math.isfinite(v):
                        raise ValueError("not finite")
                    if not low_us <= v * 1e6 <= high_us:
                        outside[i] = True
                        continue
                    us = _micros(datetime.fromtimestamp(v, UTC))
                else:
                    us = _micros(_parse_timestamp(v))
            except (ValueError, TypeError, OverflowError, OSError):
                problems.add(
                    "invalid_timestamp",
                    f"{what} must be ISO 8601 text (e.g. '2026-01-31T12:00:00Z') or epoch seconds; "
                    f"got {v!r:.40}",
                    loc(i),
                )
                continue
            if low_us <= us <= high_us:
                micros[i] = us
            else:
                outside[i] = True
    for i in np.flatnonzero(outside)[: problems.limit]:
        got = raw_values[i]
        got = got.item() if isinstance(got, np.generic) else got
        problems.add(
            "timestamp_out_of_range",
            f"{what} {got!r:.40} is outside the accepted range {bounds.describe()}; check the clock "
            "and the unit (epoch seconds, not milliseconds)",
            loc(int(i)),
        )
    return pa.array(micros).cast(_TS)
