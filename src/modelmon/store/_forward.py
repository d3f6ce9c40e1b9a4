"""The result-storage methods of a store, forwarded to its ``results`` part.

Both backends build their result storage as a part of its own (``store.results``) and expose
:class:`~modelmon.store.results.ResultStore` on the store itself, as the evaluation and the API
call it; this class is that forwarding, written once.
"""

from __future__ import annotations

from typing import Any

from modelmon.store.results import ResultStore

__all__ = ["ForwardResults"]


class ForwardResults:
    """:class:`ResultStore` by forwarding every call to ``self.results``."""

    results: ResultStore

    def latest_points_of(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.latest_points_of(*args, **kwargs)

    def recent_points_of(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.recent_points_of(*args, **kwargs)

    def statuses(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.statuses(*args, **kwargs)

    def data_watermarks(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.data_watermarks(*args, **kwargs)

    def changed_windows(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.changed_windows(*args, **kwargs)

    def window_counts(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.window_counts(*args, **kwargs)

    def row_chunks(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.row_chunks(*args, **kwargs)

    def delete_window_results(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.delete_window_results(*args, **kwargs)

    def window_starts(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.window_starts(*args, **kwargs)

    def evaluation_state(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.evaluation_state(*args, **kwargs)

    def set_evaluation_state(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.set_evaluation_state(*args, **kwargs)

    def event_time_range(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.event_time_range(*args, **kwargs)

    def replace_metric_points(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.replace_metric_points(*args, **kwargs)

    def replace_window_results(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.replace_window_results(*args, **kwargs)

    def metric_series(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.metric_series(*args, **kwargs)

    def latest_metric_points(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.latest_metric_points(*args, **kwargs)

    def feature_results(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.feature_results(*args, **kwargs)

    def window_aggregates(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.window_aggregates(*args, **kwargs)

    def replace_verdicts(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.replace_verdicts(*args, **kwargs)

    def verdicts(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.verdicts(*args, **kwargs)

    def detector_states(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.detector_states(*args, **kwargs)

    def save_detector_progress(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.save_detector_progress(*args, **kwargs)

    def detector_events(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.detector_events(*args, **kwargs)

    def save_report(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.save_report(*args, **kwargs)

    def get_report(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.get_report(*args, **kwargs)

    def list_reports(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.list_reports(*args, **kwargs)

    def set_status(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.set_status(*args, **kwargs)

    def get_status(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.get_status(*args, **kwargs)

    def save_reference(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.save_reference(*args, **kwargs)

    def get_reference(self, *args: Any, **kwargs: Any) -> Any:
        return self.results.get_reference(*args, **kwargs)
