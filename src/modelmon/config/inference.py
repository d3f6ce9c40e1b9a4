"""Completing a model spec from its reference data set: feature names and types.

A model whose YAML lists no ``features`` but names a ``reference`` file gets one feature per
column of that file, typed by the column's type: floating point and integer columns are numeric,
booleans boolean, text and dictionary (categorical) columns categorical. Columns named like record
fields (``prediction``, ``score``, ``actual`` ...), the model's segments and the columns its
``reference.columns`` maps (id, timestamp, target, outputs, exclusions) are not features.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from modelmon.config.models import RESERVED_NAMES, Feature, FeatureType, ModelSpec
from modelmon.exceptions import ConfigError

__all__ = ["check_reference", "complete_spec", "infer_feature_type", "read_reference"]

log = logging.getLogger("modelmon.config")


def read_reference(path: str, fmt: str = "auto") -> pa.Table:
    """Read a reference data set (Parquet or CSV) as an Arrow table.

    Errors name the file by its name only, never its folder or what the parser found in it:
    their text reaches API clients and ``/health``. The parser's message goes to the log.
    """
    p, kind = Path(path), _format(path, fmt)
    with _reading(p, kind):
        if kind == "csv":
            import pyarrow.csv as pcsv

            return pcsv.read_csv(p)
        import pyarrow.parquet as pq

        return pq.read_table(p)


def check_reference(path: str, fmt: str = "auto", *, shown: str | None = None) -> pa.Schema:
    """The columns of a reference data set, read from its header only (Parquet footer, first
    CSV block): a cheap check that :func:`read_reference` can read it, with the same errors
    (naming the file ``shown``, by default its file name)."""
    p, kind = Path(path), _format(path, fmt)
    with _reading(p, kind, shown):
        if not p.is_file():  # Parquet would read a folder as a data set of its files
            raise FileNotFoundError(path)
        if kind == "csv":
            import pyarrow.csv as pcsv

            with pcsv.open_csv(p) as reader:
                return reader.schema
        import pyarrow.parquet as pq

        return pq.read_schema(p)


def _format(path: str, fmt: str) -> str:
    return fmt if fmt != "auto" else ("csv" if Path(path).suffix.lower() in (".csv", ".txt")
                                      else "parquet")


@contextlib.contextmanager
def _reading(p: Path, kind: str, shown: str | None = None) -> Iterator[None]:
    name = p.name if shown is None else shown
    try:
        yield
    except FileNotFoundError:
        raise ConfigError(f"reference data set {name!r:.300} does not exist",
                          loc=("reference", "path")) from None
    except (pa.ArrowException, OSError) as exc:
        log.warning("cannot read reference data set %s as %s: %s", p, kind, exc)
        raise ConfigError(f"reference data set {name!r:.300} cannot be read as {kind}",
                          loc=("reference", "path")) from None


def infer_feature_type(dtype: pa.DataType) -> FeatureType | None:
    """The feature type for an Arrow column type (None: not usable as a feature).

    >>> infer_feature_type(pa.float32()), infer_feature_type(pa.string())
    (<FeatureType.NUMERIC: 'numeric'>, <FeatureType.CATEGORICAL: 'categorical'>)
    """
    if pa.types.is_boolean(dtype):
        return FeatureType.BOOLEAN
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return FeatureType.NUMERIC
    if (pa.types.is_string(dtype) or pa.types.is_large_string(dtype)
            or pa.types.is_dictionary(dtype)):
        return FeatureType.CATEGORICAL
    return None


def complete_spec(spec: ModelSpec) -> ModelSpec:
    """Return ``spec`` with features inferred from its reference when it lists none."""
    if spec.features or spec.reference is None:
        return spec
    table = read_reference(spec.reference.path, spec.reference.format)
    skip = RESERVED_NAMES | set(spec.segments) | spec.reference.columns.mapped
    features = []
    for field in table.schema:
        if field.name in skip:
            continue
        ftype = infer_feature_type(field.type)
        if ftype is not None:
            features.append(Feature(name=field.name, type=ftype))
    if not features:
        raise ConfigError(
            f"model {spec.name!r}: no usable feature columns in reference {spec.reference.path}",
            loc=("models", spec.name, "features"),
        )
    return ModelSpec.model_validate({**spec.model_dump(), "features": [f.model_dump() for f in features]})
