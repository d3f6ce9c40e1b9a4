"""Which version a rollback returns to, from the model registry's versions (pure).

The **current** version is the newest (by registration) whose stage is ``active``. The
**previous good** version is the newest version registered before it whose stage says it served
traffic and was not itself rolled back: ``active`` or ``retired``, not ``rolled_back``,
``shadow`` or ``canary``. A rollback sets the current version's stage to ``rolled_back`` and
the previous good one's to ``active``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["GOOD_STAGES", "NoRollbackTarget", "RollbackPlan", "plan_rollback"]

#: Stages of a version a rollback may return to.
GOOD_STAGES = ("active", "retired")


class NoRollbackTarget(LookupError):
    """The model has no active version, or none before it to return to."""


@dataclass(frozen=True)
class RollbackPlan:
    model: str
    from_version: str
    to_version: str

    def to_dict(self) -> dict[str, str]:
        return {"from_version": self.from_version, "to_version": self.to_version}


def plan_rollback(model: str, versions: Sequence[Any]) -> RollbackPlan:
    """The rollback of ``model`` given its versions (objects with ``version``, ``created_at``
    and ``stage``, as :meth:`~modelmon.store.base.Store.list_versions` returns them).

    >>> from types import SimpleNamespace as V
    >>> plan_rollback("fraud", [V(version="v1", created_at=1, stage="active"),
    ...                         V(version="v2", created_at=2, stage="active")])
    RollbackPlan(model='fraud', from_version='v2', to_version='v1')
    """
    ordered = sorted(versions, key=lambda v: (v.created_at, v.version))
    active = [i for i, v in enumerate(ordered) if v.stage == "active"]
    if not active:
        raise NoRollbackTarget(f"model {model!r} has no active version to roll back")
    current = active[-1]
    earlier = [v for v in ordered[:current] if v.stage in GOOD_STAGES]
    if not earlier:
        raise NoRollbackTarget(
            f"model {model!r} has no version before {ordered[current].version!r} to roll back "
            f"to (stages {', '.join(GOOD_STAGES)})")
    return RollbackPlan(model, ordered[current].version, earlier[-1].version)
