"""The words every layer shares: tasks, statuses, severities, reason kinds, metric names and the
way each metric gets better.

One module holds them so that the evaluator that writes a metric, the judgement that reads it,
the alert rules, the dashboard, the reports and ``/metrics`` all spell it the same way; every
other module imports these names instead of writing them as string literals. The enums are
:class:`enum.StrEnum` (except :class:`Direction`), so a member *is* its text: it compares equal
to the stored string and serialises as one.

Pure: standard library only (the numerical layers import it).

>>> Status.DEGRADED == "degraded", Severity.CRITICAL.rank > Severity.WARNING.rank
(True, True)
>>> Metric.LATENCY_P95, direction_of_operational(Metric.LATENCY_P95)
(<Metric.LATENCY_P95: 'latency_p95_seconds'>, <Direction.LOWER: 'lower'>)
"""

from __future__ import annotations

import enum

__all__ = [
    "ESTIMATED",
    "HEADLINE",
    "OPERATIONAL_DIRECTIONS",
    "OUTPUT_FEATURE",
    "STATUSES",
    "DetectorSignal",
    "Direction",
    "Health",
    "Metric",
    "ReasonKind",
    "Severity",
    "Status",
    "Task",
    "contribution_feature",
    "contribution_metric",
    "direction_of_operational",
    "estimated_metric",
    "estimation_gap_metric",
    "realized_of",
    "standard_error_metric",
]


class Task(enum.StrEnum):
    """What the model predicts."""

    BINARY = "binary_classification"
    MULTICLASS = "multiclass_classification"
    REGRESSION = "regression"

    @property
    def is_classification(self) -> bool:
        return self is not Task.REGRESSION


class Direction(enum.Enum):
    """Which way a metric gets better.

    ``TARGET`` metrics are best at a value (``MetricInfo.target``): bias at 0, a parity ratio at 1.
    ``UNKNOWN`` is an explicit state: degradation detection reports "changed" but never guesses
    whether the change is good or bad.
    """

    HIGHER = "higher"
    LOWER = "lower"
    TARGET = "target"
    UNKNOWN = "unknown"


class Status(enum.StrEnum):
    """A model's (or one window's) verdict.

    ``no_data``: nothing to judge (no predictions yet, or none in the window); ``healthy``: no
    finding; ``warning``: a finding worth a look (drift, a quality value outside its band once,
    data quality); ``degraded``: the model got worse (a quality metric far outside its band or
    persistently below it, failing predictions).
    """

    HEALTHY = "healthy"
    WARNING = "warning"
    DEGRADED = "degraded"
    NO_DATA = "no_data"

    @property
    def rank(self) -> int:
        """Order of concern: healthy < no_data < warning < degraded."""
        return _STATUS_RANK[self]


_STATUS_RANK = {Status.HEALTHY: 0, Status.NO_DATA: 1, Status.WARNING: 2, Status.DEGRADED: 3}

#: Every status, in the order the overview counts them.
STATUSES: tuple[Status, ...] = (Status.HEALTHY, Status.WARNING, Status.DEGRADED, Status.NO_DATA)


class Severity(enum.StrEnum):
    """How much a single reason matters.

    ``info`` never changes a status; ``warning`` makes it at least ``warning``; ``high`` and
    ``critical`` make it ``degraded`` (``critical``: act now, e.g. page someone; ``high``: act
    today). Alerting maps severities to receivers.
    """

    INFO = "info"
    WARNING = "warning"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


class Health(enum.StrEnum):
    """A service component's health (``/health``), apart from models' statuses."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


class DetectorSignal(enum.StrEnum):
    """What a streaming detector signalled on a model's error stream."""

    WARNING = "warning"
    DRIFT = "drift"


class ReasonKind(enum.StrEnum):
    """What a reason is about: one kind per judgement rule family."""

    QUALITY = "quality"                    # a quality metric against its baseline band
    LIMIT = "limit"                        # a fixed limit crossed (accuracy < 0.8, PSI > 0.2)
    LATENCY = "latency"                    # latency against its baseline band
    ERRORS = "errors"                      # failing predictions
    DRIFT = "drift"                        # an input feature's distribution moved
    PREDICTION_DRIFT = "prediction_drift"  # the model output's distribution moved
    DATA_QUALITY = "data_quality"          # missing values, out-of-range values, unseen categories
    SCHEMA_CHANGE = "schema_change"        # features added, removed or retyped
    CONCEPT_DRIFT = "concept_drift"        # a streaming detector fired on the error stream
    FAIRNESS = "fairness"                  # a gap between segments beyond its band
    IMPORTANCE = "importance"              # the model leans on different features
    NO_DATA = "no_data"                    # no predictions where some were expected
    PARTIAL_WINDOW = "partial_window"      # a finding in a window that is still filling
    BASELINE = "baseline"                  # the baseline or reference is missing or forming
    EVALUATION = "evaluation"              # evaluation itself failed
    ESTIMATED_QUALITY = "estimated_quality"  # quality estimated without labels against its band
    ESTIMATION_GAP = "estimation_gap"      # realized quality far from its estimate (concept drift)
    MULTIVARIATE_DRIFT = "multivariate_drift"  # how the inputs vary together moved


class Metric(enum.StrEnum):
    """Names of the metrics the evaluator derives beside the quality metrics.

    Quality metrics (``accuracy``, ``roc_auc``, ``mae`` ...) are named by the metric registry
    (:mod:`modelmon.metrics.registry`), where each declares its direction.
    """

    PREDICTION_COUNT = "prediction_count"
    THROUGHPUT = "throughput_per_second"
    ERROR_RATE = "error_rate"
    LATENCY_P50 = "latency_p50_seconds"
    LATENCY_P95 = "latency_p95_seconds"
    LATENCY_P99 = "latency_p99_seconds"
    LABELLED_COUNT = "labelled_count"
    LABEL_COVERAGE = "label_coverage_ratio"
    DRIFT_SHARE = "drift_share"
    DRIFTED_FEATURES = "drifted_features"
    PREDICTION_DRIFT = "prediction_drift_score"
    MISSING_SHARE = "missing_share"
    WORST_GROUP_ACCURACY = "worst_group_accuracy"
    RECONSTRUCTION_ERROR = "reconstruction_error"
    DOMAIN_CLASSIFIER_AUC = "domain_classifier_auc"


#: Direction of each derived metric, with a note saying why (deliberate UNKNOWNs included).
OPERATIONAL_DIRECTIONS: dict[str, tuple[Direction, str]] = {
    Metric.PREDICTION_COUNT: (Direction.UNKNOWN,
                              "predictions per window: volume is neither better nor worse"),
    Metric.THROUGHPUT: (Direction.UNKNOWN,
                        "predictions per second: more traffic is neither better nor worse"),
    Metric.ERROR_RATE: (Direction.LOWER, "share of predictions that failed"),
    Metric.LATENCY_P50: (Direction.LOWER, "median latency, seconds"),
    Metric.LATENCY_P95: (Direction.LOWER, "95th percentile latency, seconds"),
    Metric.LATENCY_P99: (Direction.LOWER, "99th percentile latency, seconds"),
    Metric.LABELLED_COUNT: (Direction.UNKNOWN,
                            "predictions with actuals per window: volume, not quality"),
    Metric.LABEL_COVERAGE: (Direction.UNKNOWN,
                            "share of predictions with actuals: depends on label delay"),
    Metric.DRIFT_SHARE: (Direction.LOWER, "share of input features that drifted"),
    Metric.DRIFTED_FEATURES: (Direction.LOWER, "number of input features that drifted"),
    Metric.PREDICTION_DRIFT: (Direction.LOWER, "drift statistic of the model output"),
    Metric.MISSING_SHARE: (Direction.LOWER, "largest share of missing values over the features"),
    Metric.WORST_GROUP_ACCURACY: (Direction.HIGHER,
                                  "accuracy of the segment group with the lowest accuracy"),
    Metric.RECONSTRUCTION_ERROR: (Direction.LOWER,
                                  "mean PCA reconstruction error of the numeric inputs: larger "
                                  "means their joint distribution moved"),
    Metric.DOMAIN_CLASSIFIER_AUC: (Direction.LOWER,
                                   "ROC AUC of a classifier telling the window from the "
                                   "reference: 0.5 means indistinguishable"),
}


def direction_of_operational(name: str) -> Direction | None:
    """The direction of a derived metric, or None when ``name`` is not one."""
    entry = OPERATIONAL_DIRECTIONS.get(name)
    return None if entry is None else entry[0]


#: The name under which the model output's drift is reported beside the input features (no
#: feature may take it: ``prediction`` is a reserved record field).
OUTPUT_FEATURE = "prediction"

#: Quality metrics estimated for every window without labels, per task (confidence-based
#: estimation for classifiers, direct loss estimation for regression; modelmon.estimation).
ESTIMATED: dict[Task, tuple[str, ...]] = {
    Task.BINARY: ("accuracy", "precision", "recall", "specificity", "f1", "roc_auc",
                  "average_precision"),
    Task.MULTICLASS: ("accuracy", "precision", "recall", "specificity", "f1", "roc_auc",
                      "average_precision"),
    Task.REGRESSION: ("mae", "mse", "rmse", "mape"),
}

_ESTIMATED = "estimated_"
_GAP = "estimation_gap_"
_STANDARD_ERROR = "_standard_error"
_CONTRIBUTION = "reconstruction_error."


def estimated_metric(metric: str) -> str:
    """The series of a quality metric estimated without labels.

    >>> estimated_metric("accuracy"), realized_of("estimated_accuracy")
    ('estimated_accuracy', 'accuracy')
    """
    return _ESTIMATED + metric


def estimation_gap_metric(metric: str) -> str:
    """The series of realized minus estimated ``metric`` on a window's labelled rows.

    >>> estimation_gap_metric("mae")
    'estimation_gap_mae'
    """
    return _GAP + metric


def standard_error_metric(series: str) -> str:
    """The series of the standard error of an estimate (or of a gap): how far the realized
    value may lie from the estimate by chance (sampling and the reference's own uncertainty).

    >>> standard_error_metric(estimated_metric("f1"))
    'estimated_f1_standard_error'
    """
    return series + _STANDARD_ERROR


def realized_of(series: str) -> str | None:
    """The quality metric an ``estimated_*`` series estimates (None for any other name)."""
    if series.startswith(_ESTIMATED) and not series.endswith(_STANDARD_ERROR):
        return series[len(_ESTIMATED):]
    return None


def contribution_metric(feature: str) -> str:
    """The series of one feature's share in the rise of the reconstruction error.

    >>> contribution_metric("age")
    'reconstruction_error.age'
    """
    return _CONTRIBUTION + feature


def contribution_feature(series: str) -> str | None:
    """The feature of a :func:`contribution_metric` series (None for any other name)."""
    return series[len(_CONTRIBUTION):] if series.startswith(_CONTRIBUTION) else None


#: The metric a model's status line and overview lead with, per task.
HEADLINE: dict[Task, str] = {
    Task.BINARY: "accuracy",
    Task.MULTICLASS: "accuracy",
    Task.REGRESSION: "mae",
}
