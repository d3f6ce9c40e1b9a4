"""Batch evaluation of prediction logs kept outside the service (Parquet files): each window's
mergeable aggregates (:class:`~modelmon.evaluation.aggregates.WindowAggregate`) and the metrics
they give, written to the store as the service's evaluation writes them.

Two engines compute the same thing: ``embedded`` (:mod:`.embedded`: PyArrow and NumPy in this
process, through the very code the service evaluates windows with) and ``spark``
(:mod:`.spark`: an Apache Spark job, ``local[*]`` or a cluster). ``modelmon evaluate-batch``
runs either; :func:`evaluate_batch` is the library entry point.
"""

from __future__ import annotations

from modelmon.batch.job import BatchSummary, evaluate_batch
from modelmon.batch.layout import BatchInput

__all__ = ["BatchInput", "BatchSummary", "evaluate_batch"]
