#!/usr/bin/env bash
# Installs the Debian packages the test-suite needs, only when they are absent: Debian's
# prometheus package gives promtool (`promtool check metrics` on /metrics) and the Prometheus
# server that an integration test starts on a loopback port to scrape the service.
# Needs root (CI runs as root); prints what it does.
set -euo pipefail
need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
if [ ${#need[@]} -eq 0 ]; then
  echo "system packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${need[*]} (run as root: apt-get install ${need[*]})" >&2
  exit 1
fi
echo "installing Debian packages: ${need[*]}"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[0]}"
