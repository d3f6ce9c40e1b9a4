"""Which way each metric gets better: a registry of metric directions.

Degradation needs a direction: a fall in accuracy is bad, a fall in latency is good, a bias is
best at 0. :class:`DirectionRegistry` answers ``get(name)`` from, in order:

1. directions registered by the user with :meth:`DirectionRegistry.register` (exact names);
2. the metric registry :data:`modelmon.metrics.registry.default_registry` (every built-in
   quality metric declares its direction where it is defined; metrics added later are seen at
   once, nothing is copied);
3. built-in directions of the operational metrics the service produces (:data:`OPERATIONAL`),
   and of estimated quality metrics (``estimated_accuracy`` goes the way ``accuracy`` goes);
4. name patterns (``fnmatch`` style, e.g. ``"drift_score*"``), the user's before the built-in
   ones (:data:`OPERATIONAL_PATTERNS`), longest pattern first.

Anything else is ``Direction.UNKNOWN``, an explicit state: degradation detection then reports a
significant change as ``"changed"`` and never guesses whether it is good or bad. Some metrics are
UNKNOWN on purpose (traffic volume is neither better nor worse when it grows); they are
registered as such, with a note saying why.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass
from typing import Any

from modelmon._results import Result
from modelmon.exceptions import ParameterError
from modelmon.metrics.registry import MetricRegistry
from modelmon.vocabulary import OPERATIONAL_DIRECTIONS, Direction, realized_of

__all__ = [
    "OPERATIONAL",
    "OPERATIONAL_PATTERNS",
    "Direction",
    "DirectionRegistry",
    "MetricDirection",
    "default_directions",
]

_LOWER = Direction.LOWER

#: Derived metric names the evaluation engine produces, with their direction and a note (the
#: shared vocabulary's table: the names are exactly those the evaluator writes).
OPERATIONAL: dict[str, tuple[Direction, str]] = {
    **OPERATIONAL_DIRECTIONS,
    "out_of_range_share": (_LOWER, "share of values outside the reference range"),
    "unseen_share": (_LOWER, "share of categories absent from the reference"),
}

#: Built-in name patterns, e.g. per-feature series such as ``drift_score:income``.
OPERATIONAL_PATTERNS: dict[str, tuple[Direction, str]] = {
    "latency_*": (_LOWER, "request latency"),
    "drift_*": (_LOWER, "drift score or share: larger means more drift"),
    "missing_share*": (_LOWER, "share of missing values"),
    "out_of_range_share*": (_LOWER, "share of out-of-range values"),
    "unseen_share*": (_LOWER, "share of unseen categories"),
}

_GLOB = frozenset("*?[")


@dataclass(frozen=True)
class MetricDirection(Result):
    """The direction a metric gets better, and where that knowledge came from.

    Attributes
    ----------
    metric : str
        Metric name looked up.
    direction : Direction
        ``HIGHER``, ``LOWER``, ``TARGET`` (best at ``target``) or ``UNKNOWN``.
    target : float or None
        Best value, for ``TARGET``.
    source : str
        ``"user"``, ``"metrics"`` (the metric registry), ``"builtin"``, ``"pattern:<p>"`` (a
        user pattern), ``"builtin-pattern:<p>"`` or ``"unknown"`` (nothing matched).
    note : str
        Why, for deliberate choices (for example why a metric is UNKNOWN).

    Examples
    --------
    >>> d = DirectionRegistry().get("throughput_per_second")
    >>> d.direction.value, d.deliberate
    ('unknown', True)
    """

    metric: str
    direction: Direction
    target: float | None = None
    source: str = "unknown"
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Fields as plain values, the direction as its string value."""
        d = super().to_dict()
        d["direction"] = self.direction.value
        return d

    @property
    def deliberate(self) -> bool:
        """True unless the direction is UNKNOWN only because nothing matched the name."""
        return self.source != "unknown"


def _as_direction(direction: Direction | str, owner: str) -> Direction:
    if isinstance(direction, Direction):
        return direction
    values = {d.value: d for d in Direction}
    if isinstance(direction, str) and direction in values:
        return values[direction]
    raise ParameterError(
        f"The 'direction' parameter of {owner} must be a Direction or a str among "
        f"{{{', '.join(repr(v) for v in sorted(values))}}}. Got {direction!r} instead.",
        loc=("direction",),
    )


class DirectionRegistry:
    """Registry of metric directions, extensible by users.

    Parameters
    ----------
    builtin : bool, default True
        Include the operational names and patterns of :data:`OPERATIONAL` and
        :data:`OPERATIONAL_PATTERNS`.
    metric_registry : MetricRegistry or None, default None
        Metric registry to read quality-metric directions from; None means
        :data:`modelmon.metrics.registry.default_registry` (with the built-in metrics imported).
    use_metric_registry : bool, default True
        Whether to consult a metric registry at all.

    Examples
    --------
    >>> from modelmon.degradation import Direction, DirectionRegistry
    >>> reg = DirectionRegistry()
    >>> reg.get("latency_p95").direction is Direction.LOWER
    True
    >>> reg.register("revenue_per_user", "higher")
    >>> reg.get("revenue_per_user").direction
    <Direction.HIGHER: 'higher'>
    >>> reg.get("no_such_metric").direction, reg.get("no_such_metric").source
    (<Direction.UNKNOWN: 'unknown'>, 'unknown')
    """

    def __init__(
        self,
        *,
        builtin: bool = True,
        metric_registry: MetricRegistry | None = None,
        use_metric_registry: bool = True,
    ) -> None:
        self.builtin = builtin
        self.metric_registry = metric_registry
        self.use_metric_registry = use_metric_registry
        self._exact: dict[str, MetricDirection] = {}
        self._patterns: dict[str, MetricDirection] = {}

    def register(
        self,
        name: str,
        direction: Direction | str,
        target: float | None = None,
        *,
        note: str = "",
    ) -> None:
        """Set the direction of ``name`` (replacing an earlier registration of the same name).

        Parameters
        ----------
        name : str
            Metric name, or an ``fnmatch`` pattern when it contains ``*``, ``?`` or ``[``.
        direction : Direction or {"higher", "lower", "target", "unknown"}
            Which way is better. Registering ``"unknown"`` records a deliberate decision.
        target : float, optional
            Best value; required for ``"target"`` and refused otherwise.
        note : str, optional
            Why (shown in docs and results).

        Examples
        --------
        >>> reg = DirectionRegistry(builtin=False, use_metric_registry=False)
        >>> reg.register("calibration_slope", "target", 1.0)
        >>> reg.get("calibration_slope").target
        1.0
        """
        owner = "DirectionRegistry.register"
        if not isinstance(name, str) or not name:
            raise ParameterError(
                f"The 'name' parameter of {owner} must be a non-empty str. Got {name!r} instead.",
                loc=("name",),
            )
        d = _as_direction(direction, owner)
        if d is Direction.TARGET:
            if target is None or isinstance(target, bool) or not math.isfinite(float(target)):
                raise ParameterError(
                    f"The 'target' parameter of {owner} must be a finite float when direction "
                    f"is 'target'. Got {target!r} instead.",
                    loc=("target",),
                )
            target = float(target)
        elif target is not None:
            raise ParameterError(
                f"The 'target' parameter of {owner} is only allowed with direction 'target'. "
                f"Got target={target!r} with direction {d.value!r}.",
                loc=("target",),
            )
        is_pattern = any(ch in _GLOB for ch in name)
        entry = MetricDirection(name, d, target, f"pattern:{name}" if is_pattern else "user", note)
        (self._patterns if is_pattern else self._exact)[name] = entry

    def unregister(self, name: str) -> None:
        """Forget a user registration (built-in and metric-registry directions stay)."""
        self._exact.pop(name, None)
        self._patterns.pop(name, None)

    def _metrics(self) -> MetricRegistry | None:
        if not self.use_metric_registry:
            return None
        if self.metric_registry is not None:
            return self.metric_registry
        import modelmon.metrics  # noqa: F401  (registers the built-in metrics)
        from modelmon.metrics.registry import default_registry

        return default_registry

    def get(self, name: str) -> MetricDirection:
        """Return the direction of metric ``name`` (``UNKNOWN`` with source "unknown" if none).

        A metric-registry entry with ``Direction.TARGET`` but no target value is reported as
        UNKNOWN with a note, since no side of it can be called better.
        """
        if name in self._exact:
            return self._exact[name]
        metrics = self._metrics()
        if metrics is not None and name in metrics:
            info = metrics.get(name)
            if info.direction is Direction.TARGET and info.target is None:
                return MetricDirection(
                    name,
                    Direction.UNKNOWN,
                    None,
                    "metrics",
                    "declared TARGET without a target value",
                )
            return MetricDirection(name, info.direction, info.target, "metrics", info.description)
        if self.builtin and name in OPERATIONAL:
            d, note = OPERATIONAL[name]
            return MetricDirection(name, d, None, "builtin", note)
        realized = realized_of(name)
        if self.builtin and realized is not None:  # an estimate gets better as its metric does
            of = self.get(realized)
            if of.source != "unknown":
                return MetricDirection(name, of.direction, of.target, "builtin",
                                       f"estimated without labels: {of.note}".rstrip(": "))
        for pattern in sorted(self._patterns, key=len, reverse=True):
            if fnmatch.fnmatchcase(name, pattern):
                e = self._patterns[pattern]
                return MetricDirection(name, e.direction, e.target, e.source, e.note)
        if self.builtin:
            for pattern in sorted(OPERATIONAL_PATTERNS, key=len, reverse=True):
                if fnmatch.fnmatchcase(name, pattern):
                    d, note = OPERATIONAL_PATTERNS[pattern]
                    return MetricDirection(name, d, None, f"builtin-pattern:{pattern}", note)
        return MetricDirection(name, Direction.UNKNOWN)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name).source != "unknown"

    def names(self) -> list[str]:
        """Sorted exact names this registry knows (user, metric registry and built-in)."""
        known = set(self._exact)
        metrics = self._metrics()
        if metrics is not None:
            known.update(metrics.names())
        if self.builtin:
            known.update(OPERATIONAL)
        return sorted(str(name) for name in known)

    def patterns(self) -> list[str]:
        """Sorted name patterns (user and built-in)."""
        return sorted(set(self._patterns) | (set(OPERATIONAL_PATTERNS) if self.builtin else set()))


#: The registry used when no other is passed; register your own metrics here or build a fresh one.
default_directions = DirectionRegistry()
