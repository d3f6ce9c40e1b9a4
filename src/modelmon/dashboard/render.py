"""Rendering pages: one Jinja2 environment over the package's templates, formatting filters, and
charts embedded as JSON for ``charts.js``.

A page's data is built off the event loop by the layer below (:mod:`modelmon.dashboard.data`);
these helpers only turn it into HTML.
"""

from __future__ import annotations

import functools
import math
from datetime import datetime
from typing import Any

import jinja2
import orjson
from markupsafe import Markup

from modelmon.dashboard.assets import asset_text, asset_url

__all__ = ["chart", "environment", "fmt_number", "fmt_time", "json_script"]


def fmt_number(value: Any, digits: int = 3) -> str:
    """A metric value for people: ``–`` when missing, compact otherwise.

    >>> fmt_number(0.912345), fmt_number(None), fmt_number(12345.6), fmt_number(3e-05)
    ('0.912', '–', '12,346', '3.00e-05')
    """
    if value is None:
        return "–"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(v):
        return "–"
    a = abs(v)
    if a != 0 and (a < 10 ** -digits or a >= 1e9):
        return f"{v:.2e}"
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.{digits}f}"


def fmt_percent(value: Any) -> str:
    """``0.0312`` -> ``'3.1 %'``."""
    if value is None or not isinstance(value, int | float) or not math.isfinite(value):
        return "–"
    return f"{100 * value:.1f} %"


def fmt_time(value: Any) -> str:
    """An ISO time or datetime as ``2026-01-31 12:00`` (UTC)."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def json_script(element_id: str, data: Any) -> Markup:
    """``<script type="application/json" id=...>`` holding ``data`` (``</`` escaped)."""
    text = orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY).decode().replace("</", "<\\/")
    return Markup(f'<script type="application/json" id="{element_id}">{text}</script>')


def chart(element_id: str, spec: dict[str, Any], css: str = "") -> Markup:
    """A chart: its element and its data (``charts.js`` draws it)."""
    return Markup(f'<div class="mm-chart {css}" id="{element_id}" '
                  f'data-src="{element_id}-data" data-kind="{spec.get("kind", "")}"></div>'
                  ) + json_script(f"{element_id}-data", spec)


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("modelmon.dashboard", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters.update(num=fmt_number, pct=fmt_percent, time=fmt_time)
    env.globals.update(chart=chart, json_script=json_script, asset_url=asset_url,
                       asset_text=asset_text)
    return env
