"""Input adapters: every frame kind gives the same summaries; category counting is exact."""

from __future__ import annotations

import collections
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as hs

from modelmon.drift import Reference, compare, summarize_categorical
from modelmon.exceptions import SchemaError, UndefinedMetricWarning, ValidationError

text = hs.text(
    alphabet=hs.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12
)


def counts_of(values: list[Any]) -> dict[Any, int]:
    return dict(collections.Counter(v for v in values if v is not None))


def as_dict(summary: Any) -> dict[Any, int]:
    return dict(zip(summary.categories, summary.counts.tolist()))


@given(hs.lists(text, min_size=0, max_size=60))
def test_numpy_unicode_counts_are_exact(values: list[str]) -> None:
    s = summarize_categorical(np.array(values, dtype=str))
    assert as_dict(s) == counts_of(values)


@given(hs.lists(hs.binary(max_size=8).filter(lambda b: not b.endswith(b"\x00")), max_size=60))
def test_numpy_bytes_counts_are_exact(values: list[bytes]) -> None:
    s = summarize_categorical(np.array(values, dtype=bytes))
    assert as_dict(s) == {k.decode("utf-8", "replace"): v for k, v in counts_of(values).items()}


@given(hs.lists(hs.one_of(hs.none(), text), max_size=60))
def test_arrow_string_counts_are_exact(values: list[str | None]) -> None:
    expected = counts_of(values)
    n_missing = values.count(None)
    for arr in (pa.array(values, pa.string()), pa.array(values, pa.large_string())):
        s = summarize_categorical(arr)
        assert as_dict(s) == expected
        assert s.n_missing == n_missing
        if len(values) > 3:  # sliced arrays carry an offset into their buffers
            sl = arr.slice(2)
            assert as_dict(summarize_categorical(sl)) == counts_of(values[2:])
            assert summarize_categorical(sl).n_missing == values[2:].count(None)


def test_high_cardinality_counts_beyond_the_small_table() -> None:
    rng = np.random.default_rng(0)
    values = np.array([f"id{i}" for i in rng.integers(0, 9000, 30_000)])
    expected = counts_of(values.tolist())
    assert len(expected) > 4096
    assert as_dict(summarize_categorical(values)) == expected
    assert as_dict(summarize_categorical(pa.array(values.tolist()))) == expected


def test_chunked_and_dictionary_arrow_columns() -> None:
    chunked = pa.chunked_array([["a", "b", None], ["b", "c"], []])
    assert as_dict(summarize_categorical(chunked)) == {"a": 1, "b": 2, "c": 1}
    assert summarize_categorical(chunked).n_missing == 1
    dictionary = pa.array(["x", "y", None, "x"]).dictionary_encode()
    s = summarize_categorical(dictionary)
    assert (as_dict(s), s.n_missing) == ({"x": 2, "y": 1}, 1)
    view = pa.array(["p", "q", "p", None], pa.string()).cast(pa.string_view())
    s = summarize_categorical(view)
    assert (as_dict(s), s.n_missing) == ({"p": 2, "q": 1}, 1)


def test_pandas_columns() -> None:
    cat = pd.Series(pd.Categorical(["a", "b", None, "a"], categories=["a", "b", "unused"]))
    s = summarize_categorical(cat)
    assert (s.categories, s.counts.tolist(), s.n_missing) == (("a", "b"), [2, 1], 1)
    obj = pd.Series(["a", None, float("nan"), "b"], dtype=object)
    assert (as_dict(summarize_categorical(obj)), summarize_categorical(obj).n_missing) == (
        {"a": 1, "b": 1},
        2,
    )
    arrow_str = pd.Series(["a", None, "b", "b"], dtype="string[pyarrow]")
    assert as_dict(summarize_categorical(arrow_str)) == {"a": 1, "b": 2}
    python_str = pd.Series(["a", None, "b"], dtype="string[python]")
    assert as_dict(summarize_categorical(python_str)) == {"a": 1, "b": 1}
    ints = pd.Series([1, None, 2, 2], dtype="Int64")
    s = summarize_categorical(ints)
    assert (as_dict(s), s.n_missing) == ({1: 1, 2: 2}, 1)
    flags = pd.Series([True, None, False, True], dtype="boolean")
    s = summarize_categorical(flags)
    assert (as_dict(s), s.n_missing) == ({False: 1, True: 2}, 1)


def test_polars_columns() -> None:
    s = summarize_categorical(pl.Series(["a", None, "b", "a"]))
    assert (as_dict(s), s.n_missing) == ({"a": 2, "b": 1}, 1)
    s = summarize_categorical(pl.Series(["a", None, "b", "a"]).cast(pl.Categorical))
    assert (as_dict(s), s.n_missing) == ({"a": 2, "b": 1}, 1)
    s = summarize_categorical(pl.Series([True, False, None]))
    assert (as_dict(s), s.n_missing) == ({False: 1, True: 1}, 1)


def test_object_arrays_with_mixed_labels() -> None:
    s = summarize_categorical(np.array([1, "1", None, 1, np.int64(1)], dtype=object))
    assert as_dict(s) == {1: 3, "1": 1}
    with pytest.raises(ValidationError, match="unhashable"):
        summarize_categorical([*np.array([[1], [2]], dtype=object).reshape(-1).tolist(), [3]])


# ----------------------------------------------------------------------- whole frames


def _frame_kinds(data: dict[str, Any]) -> dict[str, Any]:
    pdf = pd.DataFrame(data)
    return {
        "dict": data,
        "pandas": pdf,
        "polars": pl.DataFrame(data),
        "arrow": pa.table(data),
        "arrow_batch": pa.RecordBatch.from_pydict(data),
        "pandas_numpy_strings": pdf.astype({"s": object}),
    }


def test_every_frame_kind_gives_identical_results() -> None:
    rng = np.random.default_rng(1)

    def make(n: int, shift: float) -> dict[str, Any]:
        x = rng.normal(shift, 1, n)
        x[::17] = np.nan
        return {
            "x": x,
            "i": rng.integers(0, 1000, n),
            "k": rng.integers(0, 4, n),
            "b": rng.random(n) < 0.3 + shift / 10,
            "s": rng.choice(["red", "green", "blue"], n),
        }

    ref, cur = make(3000, 0.0), make(2500, 0.5)
    expected = compare(ref, cur).to_dict()
    assert Reference.fit(ref).feature_types == {
        "x": "numeric",
        "i": "numeric",
        "k": "categorical",
        "b": "categorical",
        "s": "categorical",
    }
    for kind_ref, frame_ref in _frame_kinds(ref).items():
        for kind_cur, frame_cur in _frame_kinds(cur).items():
            got = compare(frame_ref, frame_cur).to_dict()
            assert got == expected, (kind_ref, kind_cur)


def test_nullable_and_null_numeric_columns() -> None:
    ref = {
        "x": pd.Series([1.0, None, 3.0, 4.0], dtype="Float64"),
        "n": pa.array([None] * 4, pa.null()),
    }
    with pytest.warns(UndefinedMetricWarning, match=r"\['n'\]: ks_test is undefined"):
        res = compare(
            ref,
            {"x": [1.0, 2.0, None, 5.0], "n": [1.0, 2.0, 3.0, 4.0]},
            tests={"x": "ks", "n": "ks"},
        )
    assert res["x"].n_reference == 3
    assert res["x"].missing_share_reference == 0.25
    assert res["x"].missing_share_current == 0.25
    assert res["n"].missing_share_reference == 1.0


def test_object_column_of_numbers_is_numeric() -> None:
    ref = Reference.fit({"x": [1.5, None, 2.5, 3.5], "y": ["a", None, "b", "a"]})
    assert ref.feature_types == {"x": "numeric", "y": "categorical"}
    assert ref["x"].n_missing == 1


def test_unsupported_dtype_names_the_column() -> None:
    frame = {"when": np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]")}
    with pytest.raises(
        ValidationError, match="Feature 'when' of the reference data has dtype datetime64"
    ):
        Reference.fit(frame)


def test_frame_errors() -> None:
    with pytest.raises(ValidationError, match="inconsistent lengths"):
        Reference.fit({"a": [1.0, 2.0], "b": [1.0]})
    with pytest.raises(ValidationError, match="must be a pandas or polars DataFrame"):
        Reference.fit([[1.0, 2.0]])
    with pytest.raises(ValidationError, match=r"call \.collect\(\) first"):
        Reference.fit(pl.DataFrame({"a": [1.0]}).lazy())
    with pytest.raises(ValidationError, match="duplicate column names"):
        Reference.fit(pd.DataFrame([[1.0, 2.0]], columns=["a", "a"]))
    with pytest.raises(ValidationError, match="1-dimensional"):
        Reference.fit({"a": 3.0})
    with pytest.raises(SchemaError, match="must hold numbers"):
        compare({"a": [1.0, 2.0]}, {"a": ["x", "y"]})


def test_arrow_strings_around_the_packed_length() -> None:
    base = "abcdefghijklmnopqrst"
    values = [base[:k] for k in range(20)] + [base[:k] + "\x00" for k in range(18)]
    values += [base[:15] + "x", base[:16] + "x", "é" * 8, "é" * 9, ""] * 3
    s = summarize_categorical(pa.array(values))
    assert as_dict(s) == counts_of(values)
    assert len(s.categories) == len(set(values))
