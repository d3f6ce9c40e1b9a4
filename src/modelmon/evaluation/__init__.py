"""Windowed evaluation of monitored models: the engine, its scheduler and the pieces they use.

- :mod:`~modelmon.evaluation.window` computes one window (quality, operations, data quality,
  drift, fairness) from its rows;
- :mod:`~modelmon.evaluation.engine` decides which windows to (re)compute and stores results;
- :mod:`~modelmon.evaluation.assessment` turns stored results into status, reasons and a report;
- :mod:`~modelmon.evaluation.scheduler` runs cycles in the background.
"""

from modelmon.evaluation.concept import DetectorConfig
from modelmon.evaluation.engine import CycleSummary, Evaluator
from modelmon.evaluation.scheduler import Scheduler

__all__ = ["CycleSummary", "DetectorConfig", "Evaluator", "Scheduler"]
