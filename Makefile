# Two commands: `make run` (embedded default: app + sandboxes, seeded) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-sqlite lint install install-test install-lint node chromium wrk bench guide-images clean load chaos

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q -e '.[test]'
	touch $@

$(VENV)/.installed-lint: $(VENV)/.installed
	$(PIP) install -q -e '.[lint]'
	touch $@

install: $(VENV)/.installed

install-lint: $(VENV)/.installed-lint

install-test: $(VENV)/.installed-test node chromium

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

node: node_modules/.installed

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "chromium is missing: run 'sudo apt-get install -y chromium'"; exit 1; fi; }

run: install
	$(PY) -m sandbox.embedded --host $(HOST) --port $(PORT)

# The suite runs on PostgreSQL when TEST_DATABASE_URL points at it (CI does), else on SQLite.
test: install-test
	$(PY) -m pytest $(PYTEST_ARGS)

# Lint, format, types and the import contracts of docs/architecture.md (config in pyproject.toml).
lint: install-lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test-sqlite: install-test
	TEST_DATABASE_URL= $(PY) -m pytest $(PYTEST_ARGS)

# Refresh the screenshots the guides show, from the browser tests.
guide-images: install-test
	UPDATE_GUIDE_IMAGES=1 $(PY) -m pytest tests/e2e -m browser $(PYTEST_ARGS)

# Debian's wrk, the load generator of the macro-view benchmark.
wrk:
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; \
	  else echo "wrk is missing: run 'sudo apt-get install -y wrk'"; exit 1; fi; }

bench: install-test wrk
	$(PY) -m bench.run_all $(if $(FULL),--full,)

# Proof under load and faults (PostgreSQL + Redis + gunicorn/RQ processes + both sandboxes; see README).
load: install wrk
	$(PY) -m load.run_load

chaos: install wrk
	$(PY) -m load.run_chaos

clean:
	rm -rf $(VENV) node_modules instance test-artifacts .pytest_cache
