"""Exports for other tools: Grafana dashboards (:mod:`modelmon.export.grafana`). Prometheus
alerting rules and the Alertmanager route are exported by :mod:`modelmon.alerts.promql`."""
