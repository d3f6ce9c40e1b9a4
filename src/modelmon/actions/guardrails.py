"""The guardrails an action passes before it runs, as one pure function of its recent history.

In order: a **cooldown** per action and model (a trigger within ``cooldown`` of the previous
counted one is skipped), a **daily maximum** per action and model (in any 24 hours), **dry run**
(the action's or the whole ``actions:`` section's: the request is recorded, never sent), and
**approval** (the action waits until someone approves it). A trigger counts when the guardrails
let it through, whatever became of it later (dry run, rejected and expired ones too), so a
rejected action is not asked for again at once and a dry run behaves as the real one would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from modelmon._durations import format_duration
from modelmon.actions.record import COUNTED, ActionRecord, ActionState
from modelmon.actions.spec import ActionSpec

__all__ = ["DAY", "Decision", "decide"]

DAY = timedelta(hours=24)


@dataclass(frozen=True)
class Decision:
    """What a trigger becomes: its first state and, when skipped, why."""

    state: str
    note: str | None = None
    related_id: str | None = None


def decide(spec: ActionSpec, recent: Sequence[ActionRecord], now: datetime, *,
           dry_run: bool = False) -> Decision:
    """The state of a new trigger of ``spec`` given ``recent``: the records of the same action
    and model created in the last 24 hours (or the cooldown, when longer).

    >>> from datetime import UTC
    >>> spec = ActionSpec(name="rb", type="rollback", url="http://h/", cooldown="10m")
    >>> now = datetime(2026, 1, 1, tzinfo=UTC)
    >>> decide(spec, [], now).state
    'running'
    """
    counted = sorted((r for r in recent if r.state in COUNTED), key=lambda r: r.created_at)
    cooldown = spec.cooldown_period
    if counted and cooldown and now - counted[-1].created_at < cooldown:
        last = counted[-1]
        return Decision(ActionState.SKIPPED_COOLDOWN,
                        f"cooldown: {spec.name} was triggered for this model at "
                        f"{last.created_at.isoformat()} ({last.state}); cooldown "
                        f"{format_duration(cooldown)}", last.action_id)
    if spec.max_per_day is not None:
        today = [r for r in counted if now - r.created_at < DAY]
        if len(today) >= spec.max_per_day:
            return Decision(ActionState.SKIPPED_DAILY_MAX,
                            f"daily maximum: {spec.name} was triggered {len(today)} times for "
                            f"this model in the last 24 hours (max_per_day {spec.max_per_day})",
                            today[-1].action_id)
    if dry_run or spec.dry_run:
        return Decision(ActionState.DRY_RUN, "dry run: the request was not sent")
    if spec.approval:
        return Decision(ActionState.PENDING_APPROVAL)
    return Decision(ActionState.RUNNING)
