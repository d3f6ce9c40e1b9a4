"""A model's pages: ``/ui/models/{model}`` (metrics, verdicts, versions) and its tabs: drift,
data quality, fairness, importance and reports."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from modelmon.dashboard.access import Viewer
from modelmon.dashboard.data.drift import drift_page
from modelmon.dashboard.data.features import data_quality_page, fairness_page, importance_page
from modelmon.dashboard.data.model import Selection, model_page, selection
from modelmon.dashboard.data.series import Range, chart_range
from modelmon.dashboard.pages._common import off_loop, page, render
from modelmon.exceptions import ModelmonError, ValidationError
from modelmon.report.service import window_report_html
from modelmon.service.errors import status_for
from modelmon.service.logs import current_model
from modelmon.service.params import parse_time
from modelmon.service.routes import results as api

__all__ = ["router"]

router = APIRouter(prefix="/ui/models", include_in_schema=False)


def _number(text: str | None, name: str) -> float | None:
    if text is None or text == "":
        return None
    try:
        return float(text)
    except ValueError:
        raise ValidationError(f"'{name}' must be a number; got {text!r:.40}",
                              code="invalid_value", loc=("query", name)) from None


def _selected(request: Request, model: str) -> Selection:
    q = request.query_params
    return selection(request.app.state.mm.store, model, window=q.get("window") or None,
                     version=q.get("version") or None, segment=q.get("segment") or None,
                     days=_number(q.get("days"), "days"))


def _ranged(request: Request, model: str) -> tuple[Selection, Range, dict[str, Any]]:
    """The selection, its time range, and both as the page's context."""
    sel = _selected(request, model)
    rng = chart_range(request.app.state.mm.store, model, sel.window, sel.days)
    return sel, rng, {"selection": sel, "range": rng}


@router.get("/{model}")
async def model_view(request: Request, model: str,
                     session: Viewer) -> HTMLResponse:
    state = request.app.state.mm

    def build() -> dict[str, Any]:
        return {"data": model_page(state.store, state.alerts, model, _selected(request, model))}

    return await page(request, session, "model.html.j2", build, model=model, tab="metrics",
                      nav="models")


@router.get("/{model}/drift")
async def drift_view(request: Request, model: str,
                     session: Viewer) -> HTMLResponse:
    state = request.app.state.mm
    q = request.query_params

    def build() -> dict[str, Any]:
        sel, rng, context = _ranged(request, model)
        number = _number(q.get("page"), "page")
        base = request.url.include_query_params(feature="{feature}", at="{at}")
        link = f"{base.path}?{base.query}".replace("%7Bfeature%7D", "{feature}").replace(
            "%7Bat%7D", "{at}")
        return {**context, "data": drift_page(
            state.store, model, rng, version=sel.version, segment=sel.segment,
            page=int(number or 1), feature=q.get("feature") or None,
            at=parse_time(q.get("at") or None, "at"), link=link)}

    return await page(request, session, "drift.html.j2", build, model=model, tab="drift",
                      nav="models")


@router.get("/{model}/quality")
async def quality_view(request: Request, model: str,
                       session: Viewer) -> HTMLResponse:
    state = request.app.state.mm

    def build() -> dict[str, Any]:
        sel, rng, context = _ranged(request, model)
        return {**context, "data": data_quality_page(state.store, model, rng, sel.version)}

    return await page(request, session, "quality.html.j2", build, model=model, tab="quality",
                      nav="models")


@router.get("/{model}/fairness")
async def fairness_view(request: Request, model: str,
                        session: Viewer) -> HTMLResponse:
    state = request.app.state.mm

    def build() -> dict[str, Any]:
        _, rng, context = _ranged(request, model)
        return {**context, "data": fairness_page(state.store, model, rng)}

    return await page(request, session, "fairness.html.j2", build, model=model,
                      tab="fairness", nav="models")


@router.get("/{model}/importance")
async def importance_view(request: Request, model: str,
                          session: Viewer) -> HTMLResponse:
    state = request.app.state.mm

    def build() -> dict[str, Any]:
        state.store.get_model(model)
        return {"data": importance_page(state.store, model)}

    return await page(request, session, "importance.html.j2", build, model=model,
                      tab="importance", nav="models")


@router.get("/{model}/reports")
async def reports_view(request: Request, model: str,
                       session: Viewer) -> HTMLResponse:
    state = request.app.state.mm
    before = request.query_params.get("before")

    def build() -> dict[str, Any]:
        state.store.get_model(model)
        body = api._reports_body(state.store, model, limit=50,
                                 before=parse_time(before, "before"),
                                 link=lambda **p: "?before=" + p["before"].isoformat())
        return {"data": body}

    return await page(request, session, "reports.html.j2", build, model=model, tab="reports",
                      nav="models")


@router.get("/{model}/reports/{report_id}")
async def report_view(request: Request, model: str, report_id: str,
                      session: Viewer) -> Response:
    """The stored report rendered as the self-contained HTML report."""
    current_model.set(model)
    try:
        html = await off_loop(window_report_html, request.app.state.mm.store, model, report_id)
    except ModelmonError as exc:
        return render(request, session, "error.html.j2", status=status_for(exc), error=exc,
                      model=model, tab="reports", nav="models")
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
