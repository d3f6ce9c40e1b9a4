"""docs/backtesting.md: its Python examples run and print what the page says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "backtesting.md"
PARTS = re.findall(r"```python\n(.*?)```\n\nprints\n\n```\n(.*?)```", DOC.read_text(), flags=re.S)


@pytest.mark.parametrize(("code", "printed"), PARTS, ids=["ipo", "returns"])
def test_examples_print_what_the_page_says(code: str, printed: str) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(DOC), "exec"), {})
    got = out.getvalue().splitlines()
    for want, line in zip(printed.splitlines(), got, strict=True):
        if "..." in want:
            assert line.startswith(want.split("...")[0].rstrip(" ,"))
        else:
            assert line == want
