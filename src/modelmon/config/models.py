"""What modelmon knows about a monitored model: task, features, prediction fields, segments.

A :class:`ModelSpec` comes from the deployment's YAML file or from the models API. It is the schema
that ingested predictions are validated against, and it decides what the evaluator computes.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from modelmon.config.durations import format_duration, parse_duration

__all__ = [
    "NAME_PATTERN",
    "BaselineSpec",
    "BusinessSpec",
    "DriftSpec",
    "Feature",
    "FeatureType",
    "FinanceSpec",
    "ModelSpec",
    "PredictionSpec",
    "Preset",
    "ReferenceSpec",
    "Task",
]

#: Record fields of a prediction; features and segments cannot take these names (bulk tables hold
#: features and segments as columns beside them).
RESERVED_NAMES = frozenset(
    {"model", "version", "prediction_id", "timestamp", "features", "prediction", "score",
     "probabilities", "latency_seconds", "latency_ms", "segments", "status", "error", "actual"}
)

#: Model, version, feature and segment names: letters, digits, ``_ . -``; 1–128 characters.
NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}$"
_NAME_RE = re.compile(NAME_PATTERN)


class Task(enum.StrEnum):
    """What the model predicts."""

    BINARY = "binary_classification"
    MULTICLASS = "multiclass_classification"
    REGRESSION = "regression"

    @property
    def is_classification(self) -> bool:
        return self is not Task.REGRESSION


class FeatureType(enum.StrEnum):
    """How a feature's values are stored and compared."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"


class Preset(enum.StrEnum):
    """Monitoring level: sensible windows, metrics and alert rules without writing any.

    ``basic``: hourly and daily windows, quality and drift. ``standard``: adds 5-minute windows,
    a concept-drift detector on errors, degradation against the baseline and fairness.
    ``advanced``: adds multivariate drift, every applicable metric and stricter thresholds.
    """

    BASIC = "basic"
    STANDARD = "standard"
    ADVANCED = "advanced"


_PRESET_WINDOWS: dict[Preset, list[str]] = {
    Preset.BASIC: ["1h", "1d"],
    Preset.STANDARD: ["5m", "1h", "1d"],
    Preset.ADVANCED: ["5m", "1h", "1d"],
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


def _check_name(value: str, what: str) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise ValueError(
            f"{what} must be 1-128 characters of letters, digits, '_', '.', '-' "
            f"(not starting with '.' or '-'); got {value!r}"
        )
    return value


class Feature(_Strict):
    """One input feature of a model.

    ``required``: the key must be present in every prediction (``missing_feature`` otherwise).
    ``nullable``: ``null`` is accepted as a missing value (counted in data quality).

    A segment may share a feature's name (segment by ``country`` when ``country`` is a feature):
    its value is then taken from the feature unless the record's ``segments`` gives one.
    """

    name: str
    type: FeatureType
    required: bool = True
    nullable: bool = True
    description: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_name(v, "feature name")


class PredictionSpec(_Strict):
    """Which prediction fields the model sends.

    Classification: ``label`` (predicted class) and/or ``score`` (probability of
    ``positive_class``, binary) or ``probabilities`` (one per class, multiclass). Regression: a
    numeric ``value``. ``classes`` lists the class labels (as strings); when omitted they are
    learned from the data. ``threshold`` turns a binary score into a label when no label is sent.
    """

    classes: list[str] | None = None
    positive_class: str | None = None
    threshold: float = Field(0.5, gt=0.0, lt=1.0)
    score: bool = False
    probabilities: bool = False

    @field_validator("classes", mode="before")
    @classmethod
    def _classes_as_str(cls, v: Any) -> Any:
        if v is None:
            return v
        if not isinstance(v, list):
            raise ValueError("classes must be a list of class labels")
        out = [_label_text(x) for x in v]
        if len(set(out)) != len(out):
            raise ValueError(f"classes must be unique; got {out}")
        return out

    @field_validator("positive_class", mode="before")
    @classmethod
    def _pos_as_str(cls, v: Any) -> Any:
        return None if v is None else _label_text(v)


def _label_text(value: Any) -> str:
    """Class labels are stored as text: ``1`` -> ``"1"``, ``True`` -> ``"true"``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class ReferenceSpec(_Strict):
    """A reference data set (what "normal" looks like) in Parquet or CSV."""

    path: str
    format: Literal["parquet", "csv", "auto"] = "auto"


class BaselineSpec(_Strict):
    """A baseline period of stored predictions, used when no reference file is given.

    Either ``start``/``end`` (ISO timestamps) or ``first`` (e.g. ``"7d"``: the first seven days of
    data the model received).
    """

    start: str | None = None
    end: str | None = None
    first: str | None = None

    @model_validator(mode="after")
    def _one_way(self) -> BaselineSpec:
        if self.first is None and (self.start is None or self.end is None):
            raise ValueError("baseline needs either 'first' (e.g. '7d') or both 'start' and 'end'")
        if self.first is not None:
            parse_duration(self.first)
        return self


class DriftSpec(_Strict):
    """Per-feature overrides of the drift library's automatic choices.

    ``correction`` defaults to Holm: a monitored model is tested window after window, feature
    after feature, and without a correction chance alone flags some stable feature in most small
    windows (p-value tests judge windows under 1,000 rows).
    """

    tests: dict[str, str] = Field(default_factory=dict)
    thresholds: dict[str, float] = Field(default_factory=dict)
    correction: Literal["none", "bonferroni", "holm", "bh"] = "holm"
    drift_share: float = Field(0.5, gt=0.0, le=1.0)


class FinanceSpec(_Strict):
    """Finance metrics for a regression model whose outputs are returns (``kind: change``) or
    price levels in time order (``kind: level``). Strategy metrics take a position from the sign
    of each prediction. ``metrics`` chooses among: directional_accuracy, hit_rate, sharpe_ratio,
    information_ratio, max_drawdown, profit_loss_ratio, value_at_risk, expected_shortfall."""

    kind: Literal["change", "level"] = "change"
    metrics: list[str] = Field(default_factory=lambda: [
        "directional_accuracy", "hit_rate", "sharpe_ratio", "max_drawdown", "value_at_risk",
        "expected_shortfall"])
    periods_per_year: float = Field(252.0, gt=0)
    risk_free_rate: float = 0.0
    var_level: float = Field(0.95, gt=0.5, lt=1.0)

    @field_validator("metrics")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        allowed = {"directional_accuracy", "hit_rate", "sharpe_ratio", "information_ratio",
                   "max_drawdown", "profit_loss_ratio", "value_at_risk", "expected_shortfall"}
        unknown = sorted(set(v) - allowed)
        if unknown:
            raise ValueError(f"unknown finance metrics {unknown}; choose from {sorted(allowed)}")
        return v


class BusinessSpec(_Strict):
    """Business metrics from logged events (``POST /v1/events`` with ``kind: business``):
    conversions (value 1/0, linked to predictions by ``prediction_id``) and revenue."""

    conversion_event: str = "conversion"
    revenue_event: str = "revenue"


class ModelSpec(_Strict):
    """A monitored model: its schema and how to evaluate it."""

    name: str
    task: Task
    features: list[Feature] = Field(default_factory=list)
    prediction: PredictionSpec = Field(default_factory=PredictionSpec)
    segments: list[str] = Field(default_factory=list)
    reference: ReferenceSpec | None = None
    baseline: BaselineSpec | None = None
    windows: list[Annotated[str, Field(description="e.g. 5m, 1h, 1d")]] | None = None
    preset: Preset = Preset.STANDARD
    metrics: list[str] | None = None
    drift: DriftSpec = Field(default_factory=DriftSpec)
    finance: FinanceSpec | None = None
    business: BusinessSpec | None = None
    description: str = ""
    owner: str = ""
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_name(v, "model name")

    @field_validator("segments")
    @classmethod
    def _segments(cls, v: list[str]) -> list[str]:
        for s in v:
            _check_name(s, "segment name")
        if len(set(v)) != len(v):
            raise ValueError(f"segments must be unique; got {v}")
        return v

    @field_validator("windows")
    @classmethod
    def _windows(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        if not v:
            raise ValueError("windows must not be empty (omit it to use the preset's windows)")
        return [format_duration(parse_duration(w)) for w in v]

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        names = [f.name for f in self.features]
        dupes = sorted(n for n, k in Counter(names).items() if k > 1)
        if dupes:
            raise ValueError(f"feature names must be unique; repeated: {dupes}")
        reserved = sorted(set(names) & RESERVED_NAMES)
        if reserved:
            raise ValueError(
                f"feature names {reserved} are reserved for record fields; rename the features"
            )
        reserved = sorted(set(self.segments) & RESERVED_NAMES)
        if reserved:
            raise ValueError(f"segment names {reserved} are reserved for record fields")
        p = self.prediction
        if self.finance is not None and self.task is not Task.REGRESSION:
            raise ValueError("finance metrics need a regression model (returns or prices)")
        if self.task is Task.REGRESSION and (p.score or p.probabilities or p.classes):
            raise ValueError("a regression model has no classes, score or probabilities")
        if self.task is Task.BINARY:
            if p.probabilities:
                raise ValueError("a binary model sends 'score' (probability of the positive class)")
            if p.classes is not None and len(p.classes) != 2:
                raise ValueError(f"a binary model has exactly 2 classes; got {p.classes}")
            if p.positive_class is not None and p.classes and p.positive_class not in p.classes:
                raise ValueError(f"positive_class {p.positive_class!r} is not in classes {p.classes}")
        if self.task is Task.MULTICLASS:
            if p.score:
                raise ValueError("a multiclass model sends 'probabilities', not 'score'")
            if p.probabilities and not p.classes:
                raise ValueError("a multiclass model with probabilities must list its classes")
        return self

    # --- derived views -------------------------------------------------------------------------
    @property
    def feature_map(self) -> dict[str, Feature]:
        return {f.name: f for f in self.features}

    @property
    def window_durations(self) -> list[timedelta]:
        """Evaluation windows, from the spec or the preset."""
        texts = self.windows if self.windows is not None else _PRESET_WINDOWS[self.preset]
        return [parse_duration(w) for w in texts]

    @property
    def positive_class(self) -> str:
        """The positive class of a binary model (explicit, else the second class, else ``"1"``)."""
        p = self.prediction
        if p.positive_class is not None:
            return p.positive_class
        if p.classes:
            return p.classes[-1]
        return "1"

    def schema_fingerprint(self) -> dict[str, str]:
        """Feature name -> type: what a schema-change event compares."""
        return {f.name: f.type.value for f in self.features}
