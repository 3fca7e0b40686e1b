# mall — make run (the whole platform, embedded default) · make test (all tests, real backends)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := services/catalog services/order services/payment services/crm services/logistics services/reports gateway
export PATH := $(abspath $(BIN)):$(PATH)

# The embedded default: SQLite files and kombu's filesystem bus under var/, sandbox providers on.
export MALL_DATA_DIR ?= $(abspath var)
export MALL_SANDBOX ?= 1
export MALL_ADMIN_EMAIL ?= admin@mall.local
export MALL_ADMIN_PASSWORD ?= mall-admin-2026
export MALL_GATEWAY_PORT ?= 8080
export WEB_CONCURRENCY ?= 1
# The web app calls the API for its visitors from this address: the gateway's limits count each visitor.
export MALL_GATEWAY_TRUSTED_PROXIES ?= 127.0.0.1

.PHONY: run test chaos demo bench install lint docs screenshots clean compose-env

$(STAMP): shared/pyproject.toml $(foreach p,$(PACKAGES),$(p)/pyproject.toml) web/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e "shared[test]" $(foreach p,$(PACKAGES),-e $(p)) -e "web[test]" honcho ruff
	touch $@

install: $(STAMP)

run: $(STAMP)
	@mkdir -p $(MALL_DATA_DIR)
	@mall-keys $(MALL_DATA_DIR)/keys
	@mall-migrate
	@echo ""
	@echo "  mall gateway:  http://localhost:$(MALL_GATEWAY_PORT)   (health: /readyz, API: /api/...)"
	@echo "  storefront:    http://localhost:$(MALL_GATEWAY_PORT)/   admin console: http://localhost:$(MALL_GATEWAY_PORT)/admin/"
	@echo "  admin login:   $(MALL_ADMIN_EMAIL) / $(MALL_ADMIN_PASSWORD)"
	@echo "  data:          $(MALL_DATA_DIR)  (SQLite files, filesystem event bus)"
	@echo "  walk the story in another shell: make demo"
	@echo ""
	honcho start -f Procfile

test: $(STAMP)
	pytest

# Kill -9 every kind of worker and a web process, restart private RabbitMQ and PostgreSQL servers during a
# burst, deliver every event twice: nothing lost, nothing twice, stock, points and refunds counted (also part of `make test`).
chaos: $(STAMP)
	pytest tests/chaos -s

demo: $(STAMP)
	python scripts/demo.py --gateway http://localhost:$(MALL_GATEWAY_PORT)

bench: $(STAMP)
	python bench/run.py

lint: $(STAMP)
	ruff check shared services gateway tests scripts bench web

docs: $(STAMP)
	python scripts/gen_event_docs.py
	mall-bus-acl

# The secrets docker-compose.yml requires, random, into .env (kept if already there).
compose-env:
	$(PYTHON) scripts/compose_env.py

# The web app's main pages as PNGs (docs/screenshots/), taken by the browser tests on real processes.
screenshots: $(STAMP)
	MALL_SCREENSHOTS=$(abspath docs/screenshots) pytest -q tests/e2e/test_web_story.py tests/e2e/test_web_guards.py

clean:
	rm -rf var
