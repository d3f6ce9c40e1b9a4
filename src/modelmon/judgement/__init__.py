"""Judgement: from one window's results to typed reasons and a status.

- :mod:`~modelmon.judgement.facts`: what a window's judgement reads (:class:`WindowFacts`);
- :mod:`~modelmon.judgement.bands`: baseline bands of metrics (prediction intervals);
- :mod:`~modelmon.judgement.rules`: small rules, one concern each, returning :class:`Reason`;
- :mod:`~modelmon.judgement.reasons`: :class:`Reason` and :func:`status_of`, the one function
  from reasons to a status;
- :mod:`~modelmon.judgement.judge`: :func:`judge_window` and :class:`Verdict`.

Pure (NumPy and SciPy): the evaluation layer reads the facts from the store and stores verdicts.
"""

from __future__ import annotations

from modelmon.judgement.bands import MetricBand, limit_sigmas, persistence_sigmas
from modelmon.judgement.facts import (
    DetectorEvent,
    FeatureFacts,
    JudgementSettings,
    Limit,
    WindowFacts,
)
from modelmon.judgement.judge import Verdict, judge_window
from modelmon.judgement.reasons import Reason, sort_reasons, status_of
from modelmon.judgement.rules import RULES

__all__ = [
    "RULES",
    "DetectorEvent",
    "FeatureFacts",
    "JudgementSettings",
    "Limit",
    "MetricBand",
    "Reason",
    "Verdict",
    "WindowFacts",
    "judge_window",
    "limit_sigmas",
    "persistence_sigmas",
    "sort_reasons",
    "status_of",
]
