"""Grafana dashboards over modelmon's ``/metrics``, as provisioning-ready JSON.

Three dashboards: an overview of every model, a model drill-down (variables ``$model``,
``$version``, ``$window``) and the service with its host. Each takes its Prometheus data source
from the template variable ``$datasource`` (dashboards provisioned from files cannot use
``${DS_...}`` import placeholders), so one file works against any Prometheus. Every panel's
query is run against a real Prometheus scraping a live service in the tests.

Pure: dictionaries out; :func:`write_dashboards` writes them (and a provider file).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["SCHEMA_VERSION", "dashboards", "model_dashboard", "overview_dashboard",
           "service_dashboard", "write_dashboards"]

SCHEMA_VERSION = 39
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
_QUALITY = "accuracy|balanced_accuracy|f1|precision|recall|roc_auc|log_loss|brier|mae|rmse|r2|mape"


def _target(expr: str, legend: str = "", ref: str = "A", instant: bool = False) -> dict[str, Any]:
    return {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref,
            "instant": instant, "range": not instant,
            **({"format": "table"} if instant else {})}


class _Layout:
    """Panels placed left to right on a 24-column grid, numbered in order."""

    def __init__(self) -> None:
        self.panels: list[dict[str, Any]] = []
        self.x = self.y = self.row_h = 0

    def add(self, title: str, queries: Sequence[tuple[str, str]], *, kind: str = "timeseries",
            unit: str | None = None, w: int = 12, h: int = 8, instant: bool = False,
            description: str = "", extra: dict[str, Any] | None = None) -> None:
        if self.x + w > 24:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        panel: dict[str, Any] = {
            "id": len(self.panels) + 1, "type": kind, "title": title, "description": description,
            "datasource": DATASOURCE,
            "gridPos": {"x": self.x, "y": self.y, "w": w, "h": h},
            "targets": [_target(expr, legend, chr(ord("A") + i), instant)
                        for i, (expr, legend) in enumerate(queries)],
            "fieldConfig": {"defaults": {"unit": unit or "short"}, "overrides": []},
            "options": {},
        }
        if kind == "timeseries":
            panel["options"] = {"legend": {"displayMode": "list", "placement": "bottom"},
                                "tooltip": {"mode": "multi"}}
        panel.update(extra or {})
        self.panels.append(panel)
        self.x += w
        self.row_h = max(self.row_h, h)


def _datasource_variable() -> dict[str, Any]:
    return {"name": "datasource", "label": "Prometheus", "type": "datasource",
            "query": "prometheus", "current": {}, "hide": 0, "refresh": 1, "regex": "",
            "options": []}


def _query_variable(name: str, query: str, label: str, include_all: bool = False) -> dict[str, Any]:
    return {"name": name, "label": label, "type": "query", "datasource": DATASOURCE,
            "query": {"query": query, "refId": f"{name}-variable"}, "definition": query,
            "refresh": 2, "sort": 1, "includeAll": include_all, "multi": False, "current": {},
            "hide": 0, "options": [], "regex": ""}


def _dashboard(uid: str, title: str, panels: list[dict[str, Any]],
               variables: list[dict[str, Any]], description: str) -> dict[str, Any]:
    return {
        "uid": uid, "title": title, "description": description, "tags": ["modelmon"],
        "schemaVersion": SCHEMA_VERSION, "version": 1, "editable": True, "graphTooltip": 1,
        "time": {"from": "now-6h", "to": "now"}, "refresh": "30s", "timezone": "utc",
        "templating": {"list": [_datasource_variable(), *variables]},
        "annotations": {"list": []}, "panels": panels,
        "links": [{"title": "modelmon dashboards", "type": "dashboards", "tags": ["modelmon"],
                   "asDropdown": True}],
    }


def overview_dashboard() -> dict[str, Any]:
    """Every model: statuses, firing alerts, headline quality, drift, traffic and latency."""
    g = _Layout()
    for status in ("healthy", "warning", "degraded", "no_data"):
        g.add(f"Models {status.replace('_', ' ')}",
              [(f'count(modelmon_model_status{{status="{status}"}} == 1) or vector(0)', "")],
              kind="stat", w=4, h=4)
    g.add("Alerts firing", [('sum(modelmon_alerts{state="firing"}) or vector(0)', "")],
          kind="stat", w=4, h=4)
    g.add("Drifted features", [("sum(modelmon_feature_drifted) or vector(0)", "")], kind="stat",
          w=4, h=4)
    g.add("Status of every model", [("modelmon_model_status == 1", "")], kind="table", w=12,
          instant=True, description="One row per model: its current status (1).")
    g.add("Firing alerts", [('sum by (model, alertname, severity) '
                             '(modelmon_alerts{state="firing"})', "{{model}} {{alertname}}")],
          kind="table", w=12, instant=True)
    g.add("Headline quality (all versions)",
          [('modelmon_model_metric{version="*",metric=~"accuracy|mae"}',
            "{{model}} {{metric}} ({{window}})")])
    g.add("Drift share", [("modelmon_model_drift_share_ratio", "{{model}}")], unit="percentunit")
    g.add("Predictions per second",
          [('sum by (model) (rate(modelmon_ingested_records_total{kind="predictions"}'
            '[$__rate_interval]))', "{{model}}")], unit="reqps")
    g.add("Prediction latency p95",
          [("histogram_quantile(0.95, sum by (model, le) "
            "(rate(modelmon_prediction_latency_seconds_bucket[$__rate_interval])))",
            "{{model}}")], unit="s")
    g.add("Firing alerts by severity",
          [('sum by (severity) (modelmon_alerts{state="firing"})', "{{severity}}")])
    g.add("Since the last prediction",
          [("time() - modelmon_model_last_prediction_timestamp_seconds", "{{model}}")], unit="s")
    return _dashboard("modelmon-overview", "modelmon: models", g.panels, [],
                      "Every monitored model at a glance.")


def model_dashboard() -> dict[str, Any]:
    """One model: quality by version and window against its baseline, drift by feature,
    latency and confidence by version, importance, training runs, alerts."""
    sel = 'model="$model"'
    g = _Layout()
    g.add("Status", [(f"modelmon_model_status{{{sel}}} == 1", "{{status}}")], kind="stat", w=6,
          h=4, extra={"options": {"textMode": "name"}})
    g.add("Drift share", [(f"modelmon_model_drift_share_ratio{{{sel}}}", "")], kind="stat",
          unit="percentunit", w=6, h=4)
    g.add("Since the newest training run",
          [(f"time() - modelmon_training_last_run_timestamp_seconds{{{sel}}}", "{{kind}}")],
          kind="stat", unit="s", w=6, h=4)
    g.add("Training runs and online updates",
          [(f"sum by (kind) (modelmon_training_runs_total{{{sel}}})", "{{kind}}")],
          kind="stat", w=6, h=4)
    g.add("Quality ($window, version $version)",
          [(f'modelmon_model_metric{{{sel},version="$version",window="$window",'
            f'metric=~"{_QUALITY}"}}', "{{metric}}")])
    g.add("Baseline of each judged metric ($window)",
          [(f'modelmon_model_metric_baseline{{{sel},window="$window"}}', "{{metric}}")])
    g.add("Drift statistic by feature", [(f"modelmon_feature_drift_score{{{sel}}}",
                                          "{{feature}} ({{test}})")])
    g.add("Drifted features (1 = drifted)", [(f"modelmon_feature_drifted{{{sel}}}",
                                              "{{feature}}")], kind="bargauge", instant=True)
    g.add("Latency by version (p50, p95)",
          [(f"histogram_quantile(0.5, sum by (version, le) (rate("
            f"modelmon_prediction_latency_seconds_bucket{{{sel}}}[$__rate_interval])))",
            "p50 {{version}}"),
           (f"histogram_quantile(0.95, sum by (version, le) (rate("
            f"modelmon_prediction_latency_seconds_bucket{{{sel}}}[$__rate_interval])))",
            "p95 {{version}}")], unit="s")
    g.add("Prediction confidence by version (median, 10th percentile)",
          [(f"histogram_quantile(0.5, sum by (version, le) (rate("
            f"modelmon_prediction_confidence_bucket{{{sel}}}[$__rate_interval])))",
            "median {{version}}"),
           (f"histogram_quantile(0.1, sum by (version, le) (rate("
            f"modelmon_prediction_confidence_bucket{{{sel}}}[$__rate_interval])))",
            "p10 {{version}}")], unit="percentunit")
    g.add("Predictions per second by version",
          [(f"sum by (version) (rate(modelmon_prediction_latency_seconds_count{{{sel}}}"
            f"[$__rate_interval]))", "{{version}}")], unit="reqps")
    g.add("Feature importance (newest snapshot)",
          [(f"modelmon_feature_importance{{{sel}}}", "{{feature}}")], kind="bargauge",
          instant=True)
    g.add("Labelled predictions ($window)",
          [(f'modelmon_model_labelled_predictions{{{sel},window="$window"}}', "labelled")])
    g.add("Newest training run duration",
          [(f"modelmon_training_run_duration_seconds{{{sel}}}", "{{kind}}")], unit="s")
    g.add("Alerts", [(f"modelmon_alerts{{{sel}}}", "{{alertname}} {{state}}")], kind="table",
          instant=True)
    g.add("Versions", [(f"modelmon_model_version_created_timestamp_seconds{{{sel}}} * 1000",
                        "{{version}}")], kind="table", instant=True, unit="dateTimeAsIso")
    variables = [
        _query_variable("model", "label_values(modelmon_model_status, model)", "model"),
        _query_variable("version", 'label_values(modelmon_model_metric{model="$model"}, '
                                   'version)', "version"),
        _query_variable("window", 'label_values(modelmon_model_metric{model="$model"}, window)',
                        "window"),
    ]
    return _dashboard("modelmon-model", "modelmon: model", g.panels, variables,
                      "One model in depth; version '*' is all versions together.")


def service_dashboard() -> dict[str, Any]:
    """The modelmon service and its host."""
    g = _Layout()
    g.add("Requests per second by status",
          [("sum by (status) (rate(modelmon_http_requests_total[$__rate_interval]))",
            "{{status}}")], unit="reqps")
    g.add("Request latency p95 by route",
          [("histogram_quantile(0.95, sum by (route, le) "
            "(rate(modelmon_http_request_duration_seconds_bucket[$__rate_interval])))",
            "{{route}}")], unit="s")
    g.add("Records stored per second",
          [("sum by (kind) (rate(modelmon_ingested_records_total[$__rate_interval]))",
            "{{kind}}")])
    g.add("Ingest requests rejected per second",
          [("sum by (code) (rate(modelmon_ingest_rejected_total[$__rate_interval])) "
            "or vector(0)", "{{code}}")])
    g.add("Ingest queue", [("modelmon_ingest_queue_rows", "rows waiting")], w=8)
    g.add("Group commit p95", [("histogram_quantile(0.95, sum by (le) (rate("
                                "modelmon_store_commit_duration_seconds_bucket"
                                "[$__rate_interval])))", "p95")], unit="s", w=8)
    g.add("Store size", [("modelmon_store_size_bytes", "store")], unit="bytes", w=8)
    g.add("Host CPU", [("modelmon_host_cpu_utilization_ratio", "busy")], unit="percentunit",
          w=8)
    g.add("Host memory", [("modelmon_host_memory_used_bytes / modelmon_host_memory_total_bytes",
                           "used")], unit="percentunit", w=8)
    g.add("Disk of the store", [("modelmon_host_disk_used_bytes / modelmon_host_disk_total_bytes",
                                 "{{path}}")], unit="percentunit", w=8)
    g.add("Network", [("rate(modelmon_host_network_received_bytes_total[$__rate_interval])",
                       "received"),
                      ("rate(modelmon_host_network_sent_bytes_total[$__rate_interval])", "sent")],
          unit="Bps")
    g.add("Service process memory", [("process_resident_memory_bytes", "resident")],
          unit="bytes")
    g.add("Alert rule evaluation p95",
          [("histogram_quantile(0.95, sum by (le) (rate("
            "modelmon_alert_rule_evaluation_duration_seconds_bucket[$__rate_interval])))",
            "p95")], unit="s")
    g.add("/metrics: time reading results", [("modelmon_results_scrape_duration_seconds",
                                              "seconds")], unit="s")
    return _dashboard("modelmon-service", "modelmon: service and host", g.panels, [],
                      "The modelmon service itself: requests, ingest, store, host.")


def dashboards() -> dict[str, dict[str, Any]]:
    """The dashboards by file name."""
    return {"modelmon-overview.json": overview_dashboard(),
            "modelmon-model.json": model_dashboard(),
            "modelmon-service.json": service_dashboard()}


_PROVIDER = """# Grafana provisioning: put this file in provisioning/dashboards/ and the JSON files in
# the folder named by options.path (here: where `modelmon export grafana-dashboards` wrote them).
apiVersion: 1
providers:
  - name: modelmon
    folder: modelmon
    type: file
    disableDeletion: false
    allowUiUpdates: true
    options:
      path: {path}
"""


def write_dashboards(folder: str | Path) -> list[Path]:
    """Write every dashboard as ``<name>.json`` and ``modelmon-provider.yaml`` into ``folder``."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, board in dashboards().items():
        path = out / name
        path.write_text(json.dumps(board, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    provider = out / "modelmon-provider.yaml"
    provider.write_text(_PROVIDER.format(path=out.resolve()), encoding="utf-8")
    written.append(provider)
    return written
