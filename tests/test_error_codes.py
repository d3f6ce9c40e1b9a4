"""docs/errors.md and the code agree on every error code and its HTTP status."""

from __future__ import annotations

import re
from pathlib import Path

from modelmon.exceptions import ERROR_CODES, ModelmonError
from modelmon.service.errors import status_for

DOC = Path(__file__).resolve().parents[1] / "docs" / "errors.md"


def _documented() -> dict[str, int]:
    rows = re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", DOC.read_text(), flags=re.M)
    return {code: int(status) for code, status in rows}


def test_every_code_is_documented_and_nothing_else() -> None:
    assert set(_documented()) == set(ERROR_CODES)


def test_documented_status_matches_the_service() -> None:
    from modelmon import exceptions as ex

    by_class = {
        "model_not_found": ex.NotFoundError, "version_not_found": ex.NotFoundError,
        "not_found": ex.NotFoundError, "conflict": ex.ConflictError,
        "store_unavailable": ex.StoreError, "overloaded": ex.OverloadedError,
        "internal_error": ModelmonError, "invalid_config": ex.ConfigError,
    }
    for code, status in _documented().items():
        cls = by_class.get(code, ex.ValidationError)
        assert status_for(cls("x", code=code)) == status, code


def test_unknown_code_is_refused() -> None:
    import pytest

    with pytest.raises(KeyError):
        ModelmonError("x", code="no_such_code")
