"""Is a metric getting worse than its baseline? An ensemble of tests that votes.

Every method looks at the evidence from its own angle and casts a vote ``up``, ``down``,
``none`` or ``abstain``:

============  =====================================================================
method        votes up/down when (at level ``alpha``)
============  =====================================================================
welch         Welch's t-test: the current mean differs from the baseline mean
mann_whitney  Mann–Whitney U: current values are stochastically higher/lower
zscore        z-score of the current level against the baseline
linear_trend  least-squares slope of the current values differs from 0
mann_kendall  Mann–Kendall trend test of the current values
cusum         one change in mean in baseline + current (direction of the shift)
pelt          PELT finds a change point in baseline + current, and the last segment's
              mean differs from the baseline mean (z-test with PELT's noise scale)
============  =====================================================================

A method abstains when it cannot run on the input (too few values, a constant series); the
vote then counts neither way. A direction wins with at least ``min_votes`` weight, or by
default with more than half the weight of the methods that did not abstain. With the metric's
direction (from :class:`~modelmon.degradation.DirectionRegistry`) the winning direction becomes
``degraded`` or ``improved``; for a metric of unknown direction it is ``changed``. Metrics best
at a target value are tested on their distance to the target.

Defaults and why: all seven methods with equal weights and ``alpha = 0.05``. The two-sample tests
see a level shift, the trend tests a steady decline that has not yet moved the mean far, the
change-point methods a step and where it happened; requiring a majority keeps one method's false
alarm from raising an alert (measured in the tests: about 1 % false alarms on stable series,
see docs/degradation.md).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from modelmon._validation import check_int, check_option, check_real
from modelmon.degradation._series import as_series
from modelmon.degradation._verdict import conclude, insufficient
from modelmon.degradation._votes import (
    METHODS,
    RUNNERS,
    Evidence,
    Settings,
    quiet,
    z_of,
)
from modelmon.degradation.baseline import Baseline
from modelmon.degradation.directions import (
    Direction,
    DirectionRegistry,
    default_directions,
)
from modelmon.degradation.pelt import COSTS, DEFAULT_MIN_SIZE
from modelmon.degradation.result import DegradationReport, MethodVote, MetricDegradation
from modelmon.exceptions import ModelmonWarning, ParameterError, ValidationError

__all__ = ["METHODS", "DegradationDetector", "detect_degradation"]

_DirectionSpec = Direction | str | tuple[Direction | str, float]


class DegradationDetector:
    """Judge metrics against their baselines with a voting ensemble of tests.

    The constructor stores its settings as given; they are checked when used.

    Parameters
    ----------
    methods : sequence of str, default all of :data:`METHODS`
        Methods that vote.
    alpha : float, default 0.05
        Significance level of every method.
    min_votes : float, optional
        Weight a direction needs to win. Default: more than half the weight of the methods that
        did not abstain (a majority).
    weights : mapping of str to float, optional
        Weight of each method's vote (default 1 each; methods not listed keep 1).
    directions : DirectionRegistry or mapping, optional
        Metric directions. A mapping ``{name: direction}`` (or ``{name: ("target", value)}``)
        adds to a fresh registry with the built-in and metric-registry directions. Default
        :data:`~modelmon.degradation.default_directions`.
    min_relative_change : float, default 0.0
        Smallest ``|difference| / |baseline mean|`` reported as a change (on the tested scale:
        the distance to the target for target metrics); smaller significant changes are judged
        ``stable``. Practical rather than statistical significance, useful with long baselines
        where tiny shifts become significant. A baseline mean of 0 never gates.
    pelt_cost : {"mean", "meanvar"}, default "mean"
        Cost of the PELT method.
    pelt_penalty : "bic" or float, default "bic"
        Penalty of the PELT method.
    pelt_min_size : int, optional
        Minimum segment length of the PELT method (default that of :func:`pelt`: 2 for
        ``"mean"``, 5 for ``"meanvar"``).
    nan_policy : {"omit", "raise"}, default "omit"
        NaN metric values are dropped with a :class:`~modelmon.exceptions.DataQualityWarning`, or
        rejected.

    Notes
    -----
    Warnings of the individual methods (an undefined statistic) do not escape: the method
    abstains and its vote's ``note`` says why.

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.degradation import Baseline, DegradationDetector
    >>> rng = np.random.default_rng(0)
    >>> base = Baseline.from_values(rng.normal(0.86, 0.01, 60))
    >>> det = DegradationDetector(directions={"accuracy": "higher"})
    >>> res = det.assess("accuracy", rng.normal(0.71, 0.01, 24), base)
    >>> res.verdict, res.better_or_worse
    ('degraded', 'worse')
    >>> print(res.reason)
    accuracy 0.711 vs baseline 0.861 (−17.4 %), Welch p < 0.001; degraded (5 of 7 methods)
    """

    def __init__(
        self,
        *,
        methods: Sequence[str] = METHODS,
        alpha: float = 0.05,
        min_votes: float | None = None,
        weights: Mapping[str, float] | None = None,
        directions: DirectionRegistry | Mapping[str, _DirectionSpec] | None = None,
        min_relative_change: float = 0.0,
        pelt_cost: str = "mean",
        pelt_penalty: str | float = "bic",
        pelt_min_size: int | None = None,
        nan_policy: str = "omit",
    ) -> None:
        self.methods = methods
        self.alpha = alpha
        self.min_votes = min_votes
        self.weights = weights
        self.directions = directions
        self.min_relative_change = min_relative_change
        self.pelt_cost = pelt_cost
        self.pelt_penalty = pelt_penalty
        self.pelt_min_size = pelt_min_size
        self.nan_policy = nan_policy

    # -- settings -------------------------------------------------------------------------------

    def _settings(self) -> Settings:
        owner = type(self).__name__
        if isinstance(self.methods, str) or not isinstance(self.methods, Sequence):
            raise ParameterError(
                f"The 'methods' parameter of {owner} must be a sequence of str among "
                f"{set(METHODS)}. Got {self.methods!r} instead.",
                loc=("methods",),
            )
        methods = tuple(check_option(m, "methods", owner, METHODS) for m in self.methods)
        if not methods or len(set(methods)) != len(methods):
            raise ParameterError(
                f"The 'methods' parameter of {owner} must name at least one method, each once. "
                f"Got {self.methods!r} instead.",
                loc=("methods",),
            )
        pelt_cost = check_option(self.pelt_cost, "pelt_cost", owner, COSTS)
        alpha = check_real(self.alpha, "alpha", owner, low=0.0, high=1.0, closed="neither")
        min_votes = (
            None
            if self.min_votes is None
            else check_real(self.min_votes, "min_votes", owner, low=0.0, closed="neither")
        )
        weights = dict.fromkeys(methods, 1.0)
        for name, w in (self.weights or {}).items():
            check_option(name, "weights", owner, methods)
            weights[name] = check_real(w, f"weights[{name}]", owner, low=0.0)
        return Settings(
            methods=methods,
            alpha=alpha,
            min_votes=min_votes,
            weights=weights,
            directions=_as_registry(self.directions, owner),
            min_relative_change=check_real(
                self.min_relative_change, "min_relative_change", owner, low=0.0
            ),
            pelt_cost=pelt_cost,
            pelt_penalty=(
                check_option(self.pelt_penalty, "pelt_penalty", owner, ("bic",))
                if isinstance(self.pelt_penalty, str)
                else check_real(self.pelt_penalty, "pelt_penalty", owner, low=0.0)
            ),
            pelt_min_size=check_int(
                DEFAULT_MIN_SIZE[pelt_cost] if self.pelt_min_size is None else self.pelt_min_size,
                "pelt_min_size",
                owner,
                low=2 if pelt_cost == "meanvar" else 1,
            ),
            nan_policy=check_option(self.nan_policy, "nan_policy", owner, ("omit", "raise")),
        )

    # -- public API -----------------------------------------------------------------------------

    def assess(
        self,
        metric: str,
        current: ArrayLike,
        baseline: Baseline | ArrayLike,
        *,
        timestamps: ArrayLike | None = None,
        sample_sizes: ArrayLike | None = None,
    ) -> MetricDegradation:
        """Judge one metric's current values against its baseline.

        Parameters
        ----------
        metric : str
            Metric name (looked up in the direction registry).
        current : float or array-like of shape (m,)
            Current metric values in time order (one per window).
        baseline : Baseline or array-like
            The baseline; an array is summarised with :meth:`Baseline.from_values`.
        timestamps : array-like, optional
            Times of the current values (float or datetime64; slopes are then per unit of
            time, per second for datetime64). Default the positions ``0, 1, ...``.
        sample_sizes : array-like, optional
            Samples behind each current value; used by the z-score when the baseline has
            sample sizes too.

        Returns
        -------
        MetricDegradation
            ``insufficient_data`` when no finite current value or baseline value remains.

        Examples
        --------
        >>> det = DegradationDetector()
        >>> print(det.assess("latency_p95", [0.31, 0.35, 0.33], [0.20, 0.21, 0.19, 0.2, 0.22]).reason)
        latency_p95 0.33 vs baseline 0.204 (+61.8 %), Welch p = 0.003; degraded (5 of 7 methods)
        """
        return self._assess(self._settings(), metric, current, baseline, timestamps, sample_sizes)

    def detect(
        self,
        current: Mapping[str, ArrayLike],
        baselines: Mapping[str, Baseline | ArrayLike],
        *,
        timestamps: ArrayLike | Mapping[str, ArrayLike] | None = None,
        sample_sizes: Mapping[str, ArrayLike] | None = None,
    ) -> DegradationReport:
        """Judge several metrics at once.

        Parameters
        ----------
        current : mapping of str to array-like
            Current values per metric.
        baselines : mapping of str to Baseline or array-like
            Baseline per metric; every metric of ``current`` needs one (extra ones are ignored).
        timestamps : array-like or mapping of str to array-like, optional
            Times of the current values, shared by all metrics or per metric.
        sample_sizes : mapping of str to array-like, optional
            Samples behind each current value, per metric.

        Returns
        -------
        DegradationReport

        Raises
        ------
        ValidationError
            If a metric of ``current`` has no baseline.

        Examples
        --------
        >>> det = DegradationDetector()
        >>> det.detect({"error_rate": [0.10, 0.12, 0.11]},
        ...            {"error_rate": [0.02, 0.03, 0.02, 0.03]}).degraded
        ('error_rate',)
        """
        settings = self._settings()
        missing = [m for m in current if m not in baselines]
        if missing:
            raise ValidationError(
                f"No baseline for metric(s) {', '.join(map(repr, missing))}; pass one in "
                "'baselines' for every metric in 'current'.",
                loc=("baselines", missing[0]),
            )
        results = []
        for name, values in current.items():
            ts = timestamps.get(name) if isinstance(timestamps, Mapping) else timestamps
            sizes = None if sample_sizes is None else sample_sizes.get(name)
            results.append(self._assess(settings, name, values, baselines[name], ts, sizes))
        return DegradationReport(tuple(results))

    # -- the work -------------------------------------------------------------------------------

    def _assess(
        self,
        st: Settings,
        metric: str,
        current: ArrayLike,
        baseline: Baseline | ArrayLike,
        timestamps: ArrayLike | None,
        sample_sizes: ArrayLike | None,
    ) -> MetricDegradation:
        owner = type(self).__name__
        direction = st.directions.get(metric)
        c = as_series(
            np.atleast_1d(np.asarray(current)),
            f"current[{metric!r}]",
            owner,
            timestamps=timestamps,
            sample_sizes=sample_sizes,
            nan_policy=st.nan_policy,
            stacklevel=5,
        )
        if not isinstance(baseline, Baseline):
            b_series = as_series(
                baseline, f"baseline[{metric!r}]", owner, nan_policy=st.nan_policy, stacklevel=5
            )
            if b_series.n == 0:
                return insufficient(metric, direction, c, None, st.methods)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ModelmonWarning)  # std of a single value
                baseline = Baseline.from_values(b_series.values)
        if c.n == 0:
            return insufficient(metric, direction, c, baseline, st.methods)
        raw_b = baseline.array()
        target = direction.target if direction.direction is Direction.TARGET else None
        ev = Evidence(
            current=c.values if target is None else np.abs(c.values - target),
            baseline=raw_b if target is None else np.abs(raw_b - target),
            axis=c.axis,
            current_positions=c.positions,
            current_sizes=c.sizes,
            baseline_sizes=(
                None if baseline.sample_sizes is None else np.asarray(baseline.sample_sizes)
            ),
        )
        zres, znote = quiet(lambda: z_of(ev))
        votes: list[MethodVote] = []
        extra: dict[str, Any] = {}
        for method in st.methods:
            vote, info = RUNNERS[method](ev, st, zres, znote)
            votes.append(
                MethodVote(
                    method, vote.vote, vote.p_value, vote.statistic, st.weights[method], vote.note
                )
            )
            extra.update(info)
        return conclude(st, metric, direction, c, baseline, ev, zres, votes, extra)


def _as_registry(
    directions: DirectionRegistry | Mapping[str, _DirectionSpec] | None, owner: str
) -> DirectionRegistry:
    if directions is None:
        return default_directions
    if isinstance(directions, DirectionRegistry):
        return directions
    if not isinstance(directions, Mapping):
        raise ParameterError(
            f"The 'directions' parameter of {owner} must be a DirectionRegistry or a mapping "
            f"of metric name to direction. Got {directions!r} instead.",
            loc=("directions",),
        )
    reg = DirectionRegistry()
    for name, spec in directions.items():
        if isinstance(spec, tuple):
            reg.register(name, spec[0], spec[1])
        else:
            reg.register(name, spec)
    return reg


def detect_degradation(
    current: Mapping[str, ArrayLike],
    baselines: Mapping[str, Baseline | ArrayLike],
    *,
    timestamps: ArrayLike | Mapping[str, ArrayLike] | None = None,
    sample_sizes: Mapping[str, ArrayLike] | None = None,
    **settings: Any,
) -> DegradationReport:
    """Judge several metrics against their baselines (see :class:`DegradationDetector`).

    Parameters
    ----------
    current : mapping of str to array-like
        Current values per metric, in time order.
    baselines : mapping of str to Baseline or array-like
        Baseline per metric.
    timestamps, sample_sizes : optional
        As in :meth:`DegradationDetector.detect`.
    **settings
        Any parameter of :class:`DegradationDetector` (``methods``, ``alpha``, ``min_votes``,
        ``weights``, ``directions``, ...).

    Returns
    -------
    DegradationReport

    Examples
    --------
    >>> import numpy as np
    >>> from modelmon.degradation import detect_degradation
    >>> rng = np.random.default_rng(0)
    >>> report = detect_degradation(
    ...     {"error_rate": rng.normal(0.05, 0.005, 24), "latency_p95": rng.normal(0.2, 0.01, 24)},
    ...     {"error_rate": rng.normal(0.02, 0.005, 60), "latency_p95": rng.normal(0.2, 0.01, 60)},
    ... )
    >>> [(r.metric, r.verdict) for r in report]
    [('error_rate', 'degraded'), ('latency_p95', 'stable')]
    >>> report.degraded
    ('error_rate',)
    """
    unknown = set(settings) - _SETTING_NAMES
    if unknown:
        raise ParameterError(
            f"detect_degradation got unexpected setting(s) {sorted(unknown)}; allowed: "
            f"{sorted(_SETTING_NAMES)}.",
            loc=(sorted(unknown)[0],),
        )
    return DegradationDetector(**settings).detect(
        current, baselines, timestamps=timestamps, sample_sizes=sample_sizes
    )


_SETTING_NAMES = frozenset(
    {
        "methods",
        "alpha",
        "min_votes",
        "weights",
        "directions",
        "min_relative_change",
        "pelt_cost",
        "pelt_penalty",
        "pelt_min_size",
        "nan_policy",
    }
)
