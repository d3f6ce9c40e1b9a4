"""Typed reasons and the one function that turns reasons into a status.

A :class:`Reason` is one finding of one rule about one window: what kind, how severe, which
metric or feature, the value, the limit it crossed (a band edge or a fixed limit), the baseline,
the evidence (standard deviations, p-values, sample sizes) and a sentence for people. Alerts,
the dashboard and reports read reasons; none of them re-derives a verdict.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from modelmon.vocabulary import ReasonKind, Severity, Status

__all__ = ["Reason", "sort_reasons", "status_of"]


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Reason:
    """One finding about one window.

    Attributes
    ----------
    kind : ReasonKind
        What it is about.
    severity : Severity
        How much it matters (see :class:`~modelmon.vocabulary.Severity`).
    message : str
        One sentence with the evidence, e.g. ``"roc_auc 0.79 vs baseline 0.96 (-17.4 %),
        75 sd below its band"``.
    metric, feature : str or None
        The metric or the feature concerned.
    value : float or None
        The window's value.
    threshold : float or None
        The limit it crossed (band edge or fixed limit).
    baseline : float or None
        The baseline (band mean) it is compared with.
    evidence : mapping
        Numbers behind the finding (``sigmas``, ``p_value``, ``n``, ``windows`` ...).

    Examples
    --------
    >>> r = Reason(ReasonKind.QUALITY, Severity.CRITICAL, "accuracy fell", metric="accuracy",
    ...            value=0.71, threshold=0.84, baseline=0.86, evidence={"sigmas": 9.5})
    >>> Reason.from_dict(r.to_dict()) == r, r.to_dict()["severity"]
    (True, 'critical')
    """

    kind: ReasonKind
    severity: Severity
    message: str
    metric: str | None = None
    feature: str | None = None
    value: float | None = None
    threshold: float | None = None
    baseline: float | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (non-finite numbers as None or "inf")."""
        return {
            "kind": str(self.kind), "severity": str(self.severity), "message": self.message,
            "metric": self.metric, "feature": self.feature, "value": _plain(self.value),
            "threshold": _plain(self.threshold), "baseline": _plain(self.baseline),
            "evidence": {k: _plain(v) for k, v in self.evidence.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reason:
        def num(v: Any) -> float | None:
            if v in ("inf", "-inf"):
                return math.inf if v == "inf" else -math.inf
            return v

        return cls(ReasonKind(data["kind"]), Severity(data["severity"]), data["message"],
                   data.get("metric"), data.get("feature"), num(data.get("value")),
                   num(data.get("threshold")), num(data.get("baseline")),
                   {k: num(v) for k, v in (data.get("evidence") or {}).items()})


def status_of(reasons: Iterable[Reason], *, has_data: bool = True) -> Status:
    """The status that ``reasons`` make: the only place a status is derived.

    No data -> ``no_data``; a ``high`` or ``critical`` reason -> ``degraded``; a ``warning``
    reason -> ``warning``; otherwise (``info`` reasons or none) ``healthy``.

    >>> status_of([]), status_of([], has_data=False)
    (<Status.HEALTHY: 'healthy'>, <Status.NO_DATA: 'no_data'>)
    >>> status_of([Reason(ReasonKind.DRIFT, Severity.WARNING, "x drifted")])
    <Status.WARNING: 'warning'>
    """
    if not has_data:
        return Status.NO_DATA
    worst = max((r.severity.rank for r in reasons), default=Severity.INFO.rank)
    if worst >= Severity.HIGH.rank:
        return Status.DEGRADED
    if worst >= Severity.WARNING.rank:
        return Status.WARNING
    return Status.HEALTHY


def sort_reasons(reasons: Iterable[Reason]) -> list[Reason]:
    """Most severe first; the order of the rules is kept among equals."""
    return sorted(reasons, key=lambda r: -r.severity.rank)
