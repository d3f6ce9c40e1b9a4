"""Reports: a self-contained HTML page and a JSON file with the same numbers.

* ``modelmon report --reference REF --current CUR``: drift, data quality and (with a target)
  quality of a current data set against a reference (:func:`build_report`), with an exit code
  for CI jobs;
* a service window's stored evaluation report rendered the same way
  (``GET /v1/models/{m}/reports/{id}`` with ``Accept: text/html``; :mod:`modelmon.report.service`).

``docs/reports.md`` describes both.
"""

from __future__ import annotations

from modelmon.report.html import render_report

__all__ = ["render_report"]
