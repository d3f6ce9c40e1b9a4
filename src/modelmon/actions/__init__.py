"""Automated responses to alerts: roll back, route to a backup, scale, toggle a feature,
retrain, any webhook or command, with guardrails.

- :mod:`~modelmon.actions.spec`: actions as the deployment file defines them;
- :mod:`~modelmon.actions.record`: what is recorded of each (states, idempotency keys);
- :mod:`~modelmon.actions.guardrails`: cooldown, daily maximum, dry run, approval;
- :mod:`~modelmon.actions.versions`: which version a rollback returns to;
- :mod:`~modelmon.actions.request`: the request (payload, headers) an action sends;
- :mod:`~modelmon.actions.transport`: sending it (HTTP, a command);
- :mod:`~modelmon.actions.runner`: the worker that hears alerts and runs actions.
"""

from __future__ import annotations

from modelmon.actions.guardrails import Decision, decide
from modelmon.actions.record import ActionRecord, ActionState, idempotency_key
from modelmon.actions.spec import ActionSettings, ActionSpec
from modelmon.actions.versions import NoRollbackTarget, RollbackPlan, plan_rollback

__all__ = ["ActionRecord", "ActionSettings", "ActionSpec", "ActionState", "Decision",
           "NoRollbackTarget", "RollbackPlan", "decide", "idempotency_key", "plan_rollback"]
