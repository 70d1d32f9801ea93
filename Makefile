# OmniPostr: `make run` serves the app at http://localhost:3000; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 3000
DEV_BACKEND_PORT ?= 8000
export REFLEX_USE_NPM := 1
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run dev stripe-demo test test-unit test-browser chromium lint migrate bench clean

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

## stripe-demo: `make run` with billing on, against the loopback Stripe on :$(STRIPE_PORT): upgrade, pay,
## open the portal, cancel, on one machine (the fake's pages take card 4242 4242 4242 4242; 4000 0000 0000 0002 is declined)
STRIPE_PORT ?= 12111
stripe-demo: migrate
	@$(PY) -m fakes.stripe_server --port $(STRIPE_PORT) --webhook-url http://localhost:$(PORT)/billing/webhook \
		--webhook-secret whsec_loopback_demo & trap "kill $$! 2>/dev/null" EXIT; \
	OMNIPOSTR_BASE_URL=$${OMNIPOSTR_BASE_URL:-http://localhost:$(PORT)} \
	OMNIPOSTR_STRIPE_SECRET_KEY=sk_test_omnipostr_loopback OMNIPOSTR_STRIPE_WEBHOOK_SECRET=whsec_loopback_demo \
	OMNIPOSTR_STRIPE_API_BASE=http://127.0.0.1:$(STRIPE_PORT) \
		$(VENV)/bin/reflex run --env prod --single-port --frontend-port $(PORT) --backend-port $(PORT)

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
	$(PY) bench/quota.py

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check omnipostr tests fakes bench

clean:
	rm -rf .web .web-test .web-bench .web-helper .states
