"""A window's verdict: every rule's reasons, and the status they make."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from modelmon.judgement.facts import WindowFacts
from modelmon.judgement.reasons import Reason, sort_reasons, status_of
from modelmon.judgement.rules import RULES, Rule
from modelmon.vocabulary import ReasonKind, Severity, Status

__all__ = ["Verdict", "judge_window"]


@dataclass(frozen=True)
class Verdict:
    """The judgement of one window.

    ``complete``: the window has ended (a verdict of a window still filling may change);
    ``n``: predictions in it.
    """

    model: str
    window: str
    start: datetime
    end: datetime
    complete: bool
    n: int
    status: Status
    reasons: tuple[Reason, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "window": self.window, "start": self.start.isoformat(),
                "end": self.end.isoformat(), "complete": self.complete, "n": self.n,
                "status": str(self.status), "reasons": [r.to_dict() for r in self.reasons]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        return cls(data["model"], data["window"], datetime.fromisoformat(data["start"]),
                   datetime.fromisoformat(data["end"]), bool(data["complete"]), int(data["n"]),
                   Status(data["status"]), tuple(Reason.from_dict(r) for r in data["reasons"]))


def judge_window(facts: WindowFacts, rules: Mapping[str, Rule] | Sequence[Rule] = RULES) -> Verdict:
    """Run every rule on ``facts`` and derive the status from their reasons.

    A window without predictions is ``no_data`` with one ``info`` reason.
    """
    if facts.n == 0:
        reasons: list[Reason] = [Reason(ReasonKind.NO_DATA, Severity.INFO,
                                        "no predictions in this window")]
        return Verdict(facts.model, facts.window, facts.start, facts.end, facts.complete, 0,
                       Status.NO_DATA, tuple(reasons))
    funcs = list(rules.values()) if isinstance(rules, Mapping) else list(rules)
    reasons = []
    for rule in funcs:
        reasons.extend(rule(facts))
    ordered = sort_reasons(reasons)
    return Verdict(facts.model, facts.window, facts.start, facts.end, facts.complete, facts.n,
                   status_of(ordered), tuple(ordered))
