#!/usr/bin/env bash
# Tools the benchmarks use besides Python packages: wrk (an HTTP load generator in C, so the
# load generator does not starve the server of CPU). Installed only when absent.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "wrk is missing (apt-get install wrk); the ingest benchmark falls back to a Python client" >&2
  exit 0
fi
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk
