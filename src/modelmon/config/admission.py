"""What a model spec registered over the API may ask of the server.

A spec from the configuration file is the operator's: it may name any reference file. A spec from
an API client is not: the server would read whatever file it names (``/etc/passwd``, parsed as
CSV, once put a line of the file into an error message). So a reference path sent over the API
must lie inside one of ``registry.reference_dirs`` once resolved (``..`` and symbolic links
followed), and must name a readable Parquet or CSV file; the spec is stored with the resolved
path. Errors name the path as the client wrote it, never the server's folders.

A spec also costs the server one column per feature and segment (a model of 3,000 features took
seconds to register), so their number is bounded by ``registry.max_features``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from modelmon.config.inference import check_reference
from modelmon.config.models import ModelSpec
from modelmon.config.settings import RegistrySettings
from modelmon.exceptions import ConfigError, ValidationError

__all__ = ["admit_spec", "check_size", "confine_path"]


def check_size(body: Mapping[str, Any], settings: RegistrySettings) -> None:
    """Refuse a spec body with more than ``registry.max_features`` features or segments, before
    anything parses them (a 64 MiB body holds a million features)."""
    limit = settings.max_features
    for key in ("features", "segments"):
        items = body.get(key)
        if isinstance(items, list) and len(items) > limit:
            raise ValidationError(
                f"a model registered over the API has at most {limit} {key} "
                f"(registry.max_features); got {len(items)}", code="invalid_value", loc=(key,))


def confine_path(path: str, dirs: Sequence[str]) -> Path | None:
    """``path`` resolved (a relative path: against the first of ``dirs``) when it lies inside one
    of ``dirs``, else None.

    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> confine_path("refs/a.parquet", [root]) == Path(root).resolve() / "refs" / "a.parquet"
    True
    >>> confine_path("../a.parquet", [root]) is None, confine_path("/etc/passwd", [root]) is None
    (True, True)
    """
    try:
        roots = [Path(d).resolve() for d in dirs]
        if not roots:
            return None
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = roots[0] / candidate
        resolved = candidate.resolve()
    except (OSError, ValueError, RuntimeError):  # a NUL byte, a symbolic-link loop
        return None
    return resolved if any(resolved.is_relative_to(root) for root in roots) else None


def admit_spec(spec: ModelSpec, settings: RegistrySettings) -> ModelSpec:
    """``spec`` as the server stores it when an API client registers it: a reference path
    resolved inside ``registry.reference_dirs`` and readable; a 422 ``invalid_value`` naming
    ``reference.path`` otherwise."""
    check_size({"features": spec.features, "segments": spec.segments}, settings)
    if spec.reference is None:
        return spec
    given = spec.reference.path
    loc = ("reference", "path")
    if not settings.reference_dirs:
        raise ValidationError(
            "this server reads no reference files for models registered over the API "
            "(registry.reference_dirs is empty); register the model in the configuration file "
            "or ask the operator to set registry.reference_dirs", code="invalid_value", loc=loc)
    resolved = confine_path(given, settings.reference_dirs)
    if resolved is None:
        raise ValidationError(
            f"reference path {given!r:.300} is outside the folders this server reads reference "
            "data from (registry.reference_dirs); give a path relative to that folder",
            code="invalid_value", loc=loc)
    try:
        check_reference(str(resolved), spec.reference.format, shown=given)
    except ConfigError as exc:  # its message names the path as given
        raise ValidationError(exc.message, code="invalid_value", loc=loc) from None
    reference = spec.reference.model_copy(update={"path": str(resolved)})
    return spec.model_copy(update={"reference": reference})
