"""Completing a model spec from its reference data set: feature names and types.

A model whose YAML lists no ``features`` but names a ``reference`` file gets one feature per
column of that file, typed by the column's type: floating point and integer columns are numeric,
booleans boolean, text and dictionary (categorical) columns categorical. Columns named like record
fields (``prediction``, ``score``, ``actual`` ...), the model's segments and the columns its
``reference.columns`` maps (id, timestamp, target, outputs, exclusions) are not features.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from modelmon.config.models import RESERVED_NAMES, Feature, FeatureType, ModelSpec
from modelmon.exceptions import ConfigError

__all__ = ["complete_spec", "infer_feature_type", "read_reference"]


def read_reference(path: str, fmt: str = "auto") -> pa.Table:
    """Read a reference data set (Parquet or CSV) as an Arrow table."""
    p = Path(path)
    kind = fmt if fmt != "auto" else ("csv" if p.suffix.lower() in (".csv", ".txt") else "parquet")
    try:
        if kind == "csv":
            import pyarrow.csv as pcsv

            return pcsv.read_csv(p)
        import pyarrow.parquet as pq

        return pq.read_table(p)
    except FileNotFoundError:
        raise ConfigError(f"reference data set {p} does not exist", loc=("reference", "path")) from None
    except (pa.ArrowException, OSError) as exc:
        raise ConfigError(f"cannot read reference data set {p} as {kind}: {exc}",
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
