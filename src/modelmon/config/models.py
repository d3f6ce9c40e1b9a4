"""What modelmon knows about a monitored model: task, features, prediction fields, segments.

A :class:`ModelSpec` comes from the deployment's YAML file or from the models API. It is the schema
that ingested predictions are validated against, and it decides what the evaluator computes.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from modelmon.config.durations import parse_duration
from modelmon.metrics.registry import metric_names
from modelmon.vocabulary import Metric, Severity, Task
from modelmon.windows import WindowScheme, parse_window

__all__ = [
    "FINANCE_METRICS",
    "NAME_PATTERN",
    "BaselineSpec",
    "BusinessSpec",
    "DriftSpec",
    "Feature",
    "FeatureType",
    "FinanceSpec",
    "JudgementSpec",
    "LimitSpec",
    "ModelSpec",
    "PredictionSpec",
    "Preset",
    "ReferenceColumns",
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


class FeatureType(enum.StrEnum):
    """How a feature's values are stored and compared."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"


class Preset(enum.StrEnum):
    """Monitoring level: sensible windows, metrics and judgement without writing any.

    Every preset evaluates quality, operations, data quality, feature and output drift, concept
    drift on the error stream and fairness, and judges every window against its baseline.
    ``basic``: hourly and daily windows, the headline quality metrics, the strictest judgement
    (a false finding in about one stable window in 1,000). ``standard``: adds 5-minute windows
    and the usual diagnostic metrics (one in 100). ``advanced``: every applicable metric and the
    most sensitive judgement (one in 20, no minimum practical change).
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


def known_metric_names() -> set[str]:
    """Every metric name a limit or a per-metric setting may name."""
    return set(metric_names()) | {str(m) for m in Metric}


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


class ReferenceColumns(_Strict):
    """Which columns of a reference file are not input features, named as the file names them.

    ``id`` and ``timestamp`` identify rows (the timestamp also cuts the reference into windows
    for its bands); ``target`` is the true outcome (it gives the baseline quality);
    ``prediction`` the model's output (label or value); ``score`` a binary model's probability
    of the positive class; ``probabilities`` a multiclass model's probability columns, in the
    order of ``prediction.classes``. Every other column is a feature unless listed in
    ``exclude``. Columns named like record fields (``prediction``, ``score`` ...) are never
    features.
    """

    id: str | None = None
    timestamp: str | None = None
    target: str | None = None
    prediction: str | None = None
    score: str | None = None
    probabilities: list[str] | None = None
    exclude: list[str] = Field(default_factory=list)

    @property
    def mapped(self) -> set[str]:
        """Every column named here (none of them is a feature)."""
        names = {self.id, self.timestamp, self.target, self.prediction, self.score,
                 *(self.probabilities or []), *self.exclude}
        return {n for n in names if n}


class ReferenceSpec(_Strict):
    """A reference data set (what "normal" looks like) in Parquet or CSV.

    ``columns`` maps the file's own column names (see :class:`ReferenceColumns`). Without a
    timestamp the file is cut into ``chunks`` consecutive row chunks to learn how much each
    statistic varies by chance (NannyML's default is also 10).
    """

    path: str
    format: Literal["parquet", "csv", "auto"] = "auto"
    columns: ReferenceColumns = Field(default_factory=ReferenceColumns)
    chunks: int = Field(10, ge=3, le=1000)


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


class RetentionSpec(_Strict):
    """How long a model's data is kept: raw ``predictions`` (with their actuals) and window
    ``results`` (metrics, drift, verdicts, detector events, reports), as durations (``90d``);
    unset keeps them for ever. Results are usually kept much longer than the rows they
    summarise."""

    predictions: str | None = None
    results: str | None = None

    @model_validator(mode="after")
    def _durations(self) -> RetentionSpec:
        for value in (self.predictions, self.results):
            if value is not None:
                parse_duration(value)
        return self


class DriftSpec(_Strict):
    """Per-feature overrides of the drift library's automatic choices.

    ``correction`` defaults to Holm: a monitored model is tested window after window, feature
    after feature, and without a correction chance alone flags some stable feature in most small
    windows (p-value tests judge windows under 1,000 rows). ``multivariate`` chooses the tests
    of how the inputs vary together (docs/evaluation.md).
    """

    tests: dict[str, str] = Field(default_factory=dict)
    thresholds: dict[str, float] = Field(default_factory=dict)
    correction: Literal["none", "bonferroni", "holm", "bh"] = "holm"
    drift_share: float = Field(0.5, gt=0.0, le=1.0)
    #: Multivariate drift methods (``pca_reconstruction``, ``domain_classifier``); unset: PCA
    #: reconstruction for the standard and advanced presets, none for basic; ``[]``: none.
    multivariate: list[Literal["pca_reconstruction", "domain_classifier"]] | None = None


class LimitSpec(_Strict):
    """A fixed limit on one metric: ``min`` and/or ``max``, and how severe crossing it is."""

    min: float | None = None
    max: float | None = None
    severity: Severity = Severity.HIGH

    @model_validator(mode="after")
    def _some(self) -> LimitSpec:
        if self.min is None and self.max is None:
            raise ValueError("a limit needs 'min' or 'max'")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"a limit's min ({self.min}) is above its max ({self.max})")
        return self


class JudgementSpec(_Strict):
    """How the model's windows are judged; unset values come from the preset.

    ``window``: the window size whose newest complete window sets the model's status (default:
    the smallest size whose windows usually hold ``min_window_rows`` predictions).
    ``baseline_windows``: windows of each size that form the baseline when no baseline period
    is given. ``quality_alpha`` / ``drift_alpha``: chance of a false finding in a stable window.
    ``min_relative_change`` (and per metric ``min_change``): smaller changes are no finding
    unless beyond ``strong_sigmas`` standard deviations. ``limits``: fixed limits per metric,
    e.g. ``accuracy: {min: 0.8}`` or ``latency_p95_seconds: {max: 1.0, severity: critical}``.
    """

    window: str | None = None
    min_window_rows: int = Field(200, ge=1)
    baseline_windows: int = Field(12, ge=4, le=10_000)
    quality_alpha: float | None = Field(None, gt=0, lt=0.5)
    drift_alpha: float | None = Field(None, gt=0, lt=0.5)
    min_relative_change: float | None = Field(None, ge=0)
    min_change: dict[str, float] = Field(default_factory=dict)
    strong_sigmas: float = Field(6.0, gt=0)
    min_labelled: int = Field(30, ge=1)
    error_rate: float | None = Field(None, gt=0, le=1)
    missing_share: float | None = Field(None, gt=0, le=1)
    limits: dict[str, LimitSpec] = Field(default_factory=dict)

    @field_validator("window")
    @classmethod
    def _window(cls, v: str | None) -> str | None:
        return None if v is None else parse_window(v).name

    @field_validator("min_change", "limits")
    @classmethod
    def _known_metrics(cls, v: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(v) - known_metric_names())
        if unknown:
            raise ValueError(f"unknown metric(s) {unknown}; known: {sorted(known_metric_names())}")
        return v


class FinanceSpec(_Strict):
    """Finance metrics for a regression model whose outputs are returns (``kind: change``) or
    price levels in time order (``kind: level``), or IPO valuations / first-day returns.
    Strategy metrics take a position from the sign of each prediction. ``metrics`` chooses among
    :data:`FINANCE_METRICS` (units and conventions: docs/metrics.md#finance)."""

    kind: Literal["change", "level"] = "change"
    metrics: list[str] = Field(default_factory=lambda: [
        "directional_accuracy", "hit_rate", "sharpe_ratio", "max_drawdown", "value_at_risk",
        "expected_shortfall"])
    periods_per_year: float = Field(252.0, gt=0)
    risk_free_rate: float = 0.0
    var_level: float = Field(0.95, gt=0.5, lt=1.0)
    #: first_day_return_accuracy: largest miss that counts as right, 0.05 or "5%".
    tolerance: float | str = 0.05

    @field_validator("metrics")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(FINANCE_METRICS))
        if unknown:
            raise ValueError(f"unknown finance metrics {unknown}; choose from {list(FINANCE_METRICS)}")
        return v

    @field_validator("tolerance")
    @classmethod
    def _tolerance(cls, v: float | str) -> float | str:
        from modelmon.metrics.finance import parse_threshold

        parse_threshold(v, name="tolerance", owner="finance")
        return v


#: Finance metrics a model's ``finance:`` section may ask for (those computed from a window's
#: predicted and realised values; the greenshoe metrics need 0/1 outcomes and are not here).
FINANCE_METRICS = (
    "directional_accuracy", "hit_rate", "trade_hit_rate", "sharpe_ratio", "sortino_ratio",
    "information_ratio", "calmar_ratio", "annual_return", "annual_volatility", "max_drawdown",
    "max_drawdown_signed", "profit_loss_ratio", "value_at_risk", "expected_shortfall",
    "first_day_return_sign_accuracy", "first_day_return_accuracy", "underpricing_error",
    "overvaluation_rate", "valuation_mape",
)


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
    judgement: JudgementSpec = Field(default_factory=JudgementSpec)
    retention: RetentionSpec | None = None
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
        names = [parse_window(w).name for w in v]
        if len(set(names)) != len(names):
            raise ValueError(f"windows must be unique; got {names}")
        return names

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        unknown = sorted(set(v) - set(metric_names()))
        if unknown:
            raise ValueError(f"unknown metric(s) {unknown}; known: {metric_names()}")
        return v

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
        if self.metrics is not None:
            kind = {Task.BINARY: "binary", Task.MULTICLASS: "multiclass",
                    Task.REGRESSION: "regression"}[self.task]
            wrong = sorted(set(self.metrics) - set(metric_names(kind)))
            if wrong:
                raise ValueError(f"metric(s) {wrong} do not apply to a {self.task.value} model; "
                                 f"choose from {metric_names(kind)}")
        if self.judgement.window is not None and self.judgement.window not in {
                w.name for w in self.window_schemes}:
            raise ValueError(f"judgement.window {self.judgement.window!r} is not one of the "
                             f"model's windows {[w.name for w in self.window_schemes]}")
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
    def window_schemes(self) -> list[WindowScheme]:
        """Evaluation window schemes, from the spec or the preset, smallest first."""
        texts = self.windows if self.windows is not None else _PRESET_WINDOWS[self.preset]
        return sorted((parse_window(w) for w in texts), key=lambda w: w.approx_seconds)

    @property
    def windows_are_default(self) -> bool:
        """True when the windows come from the preset (they then fit the data's span)."""
        return self.windows is None

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
