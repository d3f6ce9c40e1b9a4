# modelmon — every target creates/uses .venv and installs what it needs, so each works on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=

.PHONY: help venv demo test lint typecheck unit bench bench-peers system-deps screenshots clean

help:
	@echo "make demo   - create .venv, install, run the demo"
	@echo "make test   - install test dependencies and run lint, type checks and all tests"
	@echo "make bench  - run the benchmarks (side by side with peer libraries)"
	@echo "make lint   - ruff and mypy only"
	@echo "make screenshots - the dashboard screenshots in docs/images (Chromium)"

$(VENV)/.stamp-base: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -U pip
	$(PIP) install -e .
	touch $@

$(VENV)/.stamp-test: $(VENV)/.stamp-base pyproject.toml
	$(PIP) install -e '.[test]'
	touch $@

venv: $(VENV)/.stamp-base

system-deps:
	scripts/install-system-deps.sh

demo: $(VENV)/.stamp-base
	$(VENV)/bin/modelmon demo --host $(HOST) --port $(PORT)

lint: $(VENV)/.stamp-test
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

typecheck: lint

unit: $(VENV)/.stamp-test
	$(VENV)/bin/pytest -n 2 $(PYTEST_ARGS)

test: system-deps $(VENV)/.stamp-test
	$(MAKE) lint
	$(VENV)/bin/pytest -n 2 --timeout=900 $(PYTEST_ARGS)

bench: $(VENV)/.stamp-test
	scripts/install-bench-deps.sh
	$(PY) -m benchmarks.run $(BENCH_ARGS)

# the dashboard's and the report's screenshots in docs/images, made by the browser tests
screenshots: system-deps $(VENV)/.stamp-test
	MODELMON_SCREENSHOTS=docs/images $(VENV)/bin/pytest -q -p no:cacheprovider tests/dashboard/test_browser.py

bench-peers: $(VENV)/.stamp-test
	$(PY) -m benchmarks.peers $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis build dist src/*.egg-info
