"""Alerting: rules over what modelmon evaluates, the alert lifecycle, silences.

- :mod:`~modelmon.alerts.rules`: :class:`AlertRule` and its conditions (YAML and API);
- :mod:`~modelmon.alerts.conditions`: what a condition reads and the samples it gives;
- :mod:`~modelmon.alerts.state`: inactive -> pending -> firing -> resolved;
- :mod:`~modelmon.alerts.engine`: evaluation, history, silences, acknowledgements;
- :mod:`~modelmon.alerts.matchers`: label matchers and Alertmanager's fingerprints;
- :mod:`~modelmon.alerts.builtin`: the rules each preset brings;
- :mod:`~modelmon.alerts.promql`: the same rules as a Prometheus rule file.
"""

from __future__ import annotations

from modelmon.alerts.matchers import Matcher, fingerprint
from modelmon.alerts.rules import AlertRule, parse_threshold
from modelmon.alerts.silences import Silence
from modelmon.alerts.state import AlertInstance, AlertState

__all__ = ["AlertInstance", "AlertRule", "AlertState", "Matcher", "Silence", "fingerprint",
           "parse_threshold"]
