"""Column converters: the length check on text columns."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from modelmon.ingest._values import Problems, text_column


def _too_long(values: Any, max_length: int) -> list[tuple[str | int, ...]]:
    problems = Problems()
    text_column(values, lambda i: ("rows", i, "f"), problems, what="f", max_length=max_length)
    return [p.loc for p in problems.items]


@pytest.mark.parametrize("values", [
    ["ab", "é" * 3, None, "abcd"],                      # short list: counted in Python
    ["ab", "é" * 3, None, "abcd"] * 20,                 # long list: through Arrow
    pa.array(["ab", "é" * 3, None, "abcd"] * 20),
])
def test_characters_not_bytes_are_counted(values: Any) -> None:
    # "ééé" is 6 bytes but 3 characters; only "abcd" is longer than 3
    expected = [("rows", i, "f") for i in range(len(values)) if i % 4 == 3]
    assert _too_long(values, 3) == expected
    assert _too_long(values, 4) == []


def test_a_slice_is_checked_on_its_own_values() -> None:
    arr = pa.array(["x" * 50, "ab", "cd", "x" * 50])
    assert _too_long(arr.slice(1, 2), 3) == []
    assert _too_long(arr.slice(2, 2), 3) == [("rows", 1, "f")]


@pytest.mark.parametrize("values", [[], [None] * 100, pa.array([], pa.string()),
                                    pa.nulls(5, pa.string()), pa.nulls(5)])
def test_empty_and_all_null(values: Any) -> None:
    assert _too_long(values, 0) == []
