#!/usr/bin/env bash
# Installs the Debian packages the test-suite needs, only when they are absent: Debian's
# prometheus package gives promtool (`promtool check metrics`, `promtool test rules`) and the
# Prometheus server an integration test starts on a loopback port to scrape the service;
# prometheus-alertmanager gives Alertmanager 0.25 and amtool (forwarded alerts, the exported
# routing configuration); chromium is the browser the dashboard's tests drive through
# Playwright (never a downloaded browser); postgresql gives the PostgreSQL 15 server the
# PostgreSQL store's tests start in a temporary directory (its own service is not wanted);
# a Java 17 runtime runs Spark (pyspark, local[*]) in the batch-evaluation tests.
# Needs root (CI runs as root); prints what it does.
set -euo pipefail
need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
if [ ${#need[@]} -eq 0 ]; then
  echo "system packages present"
  exit 0
fi
# each package once
mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${need[*]} (run as root: apt-get install ${need[*]})" >&2
  exit 1
fi
echo "installing Debian packages: ${need[*]}"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
# the packages' services are not wanted: the tests start their own servers on loopback
for svc in prometheus prometheus-alertmanager prometheus-node-exporter postgresql; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done
