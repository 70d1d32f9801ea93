# OmniPostr: `make run` serves the app at http://localhost:3000; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 3000
DEV_BACKEND_PORT ?= 8000
export REFLEX_USE_NPM := 1
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run dev test test-unit test-browser chromium lint migrate bench clean

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	@touch $@

$(VENV)/.dev-installed: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

migrate: $(VENV)/.installed
	$(PY) -m omnipostr.migrate

## run: the app in production mode on one port, on the embedded defaults (SQLite, offline engine, mail in the app)
run: migrate
	@echo ""
	@echo "  OmniPostr is starting at http://localhost:$(PORT)  (the first start builds the front end)"
	@echo ""
	OMNIPOSTR_BASE_URL=$${OMNIPOSTR_BASE_URL:-http://localhost:$(PORT)} \
		$(VENV)/bin/reflex run --env prod --single-port --frontend-port $(PORT) --backend-port $(PORT)

## dev: hot reload while you work on the code: pages at http://localhost:3000, the back end on :8000
dev: migrate
	OMNIPOSTR_BASE_URL=http://localhost:$(PORT) OMNIPOSTR_BACKEND_URL=http://localhost:$(DEV_BACKEND_PORT) \
		$(VENV)/bin/reflex run --frontend-port $(PORT) --backend-port $(DEV_BACKEND_PORT)

## chromium: Debian's Chromium for the browser tests (nothing is downloaded at test time)
chromium:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
		{ echo "installing Chromium from Debian's packages"; \
		  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/dev/null; }

## test: every test: services and HTTP first, then the browser suite against the real app
test: $(VENV)/.dev-installed chromium
	$(PY) -m pytest -q --ignore=tests/e2e
	$(PY) -m pytest -q tests/e2e

test-unit: $(VENV)/.dev-installed
	$(PY) -m pytest -q --ignore=tests/e2e

test-browser: $(VENV)/.dev-installed chromium
	$(PY) -m pytest -q tests/e2e

## bench: the repurposing benchmark (prints its figures; see README)
bench: $(VENV)/.dev-installed chromium
	$(PY) bench/repurpose.py
	$(PY) bench/stall.py
	$(PY) bench/load.py
	$(PY) bench/events.py
	$(PY) bench/history.py

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check omnipostr tests fakes bench

clean:
	rm -rf .web .web-test .web-bench .web-helper .states
