"""One self-contained HTML page for a report: styles, scripts (uPlot and the dashboard's chart
script) and data inline, so the file opens anywhere without a network.

The page renders a *report view* (a plain dict, see :func:`render_report`) that both the
command-line report (:mod:`modelmon.report.build`) and a service window's stored report
(:mod:`modelmon.report.service`) produce.
"""

from __future__ import annotations

from typing import Any

import modelmon

__all__ = ["render_report"]


def render_report(view: dict[str, Any]) -> str:
    """The HTML page of a report view: ``title``, ``subtitle``, ``generated_at``, ``status``
    (or None), ``reasons``, ``recommendations``, ``summary`` (label, value pairs), ``metrics``,
    ``drift`` (``features``, ``drifted``, ``tested``, ``share``), ``distributions`` (feature ->
    chart), ``distributions_omitted`` and ``data_quality``."""
    from modelmon.dashboard.render import environment

    defaults: dict[str, Any] = {"status": None, "reasons": [], "recommendations": [],
                                "summary": [], "metrics": [], "distributions": {},
                                "distributions_omitted": 0, "data_quality": [], "subtitle": ""}
    return environment().get_template("report.html.j2").render(
        r={**defaults, **view}, version=modelmon.__version__)
