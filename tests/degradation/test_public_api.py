"""The public surface of modelmon.degradation: exports, docs, and a light import."""

from __future__ import annotations

import inspect
import subprocess
import sys

import modelmon.degradation as degradation


def test_all_is_complete_and_importable() -> None:
    public = {
        name
        for name, obj in vars(degradation).items()
        if not name.startswith("_") and not inspect.ismodule(obj) and name != "annotations"
    }
    assert set(degradation.__all__) == public
    for name in degradation.__all__:
        assert getattr(degradation, name) is not None


def test_every_public_function_and_class_has_a_docstring_with_an_example() -> None:
    for name in degradation.__all__:
        obj = getattr(degradation, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)) or name == "Direction":
            continue  # constants; Direction is documented in modelmon.metrics.registry
        doc = inspect.getdoc(obj) or ""
        assert ">>>" in doc, f"{name} has no example"


def test_import_is_light() -> None:
    code = (
        "import sys, modelmon.degradation; "
        "heavy = [m for m in ('numba', 'pandas', 'polars', 'pyarrow', 'sklearn') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
