# Steward — developer and operator entry points. Everything lands in .venv.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
HOST ?= 127.0.0.1
PORT ?= 8080
export STEWARD_HOME ?= $(CURDIR)/.steward
# The demo people (alice, victor, wendy, rita, audra, dora, ...) sign in to the web UI with this.
export STEWARD_DEMO_PASSWORD ?= steward-demo-2026

.PHONY: install run demo test test-fast lint bench clean

# The test profile: steward[dev] plus the browser, PDF and Java packages its tests use.
$(STAMP): pyproject.toml scripts/venv.sh tests/oidc/package-lock.json
	@scripts/venv.sh test

# The run profile: only what serving the demo needs (steward[demo]); minutes faster.
$(RUN_STAMP): pyproject.toml scripts/venv.sh
	@scripts/venv.sh run

install: $(STAMP)

## make run: initialise the embedded store, load the demo, serve http://127.0.0.1:8080
run: $(RUN_STAMP)
	@$(BIN)/steward init
	@$(BIN)/steward --as demo demo
	@$(BIN)/steward --as admin user show demo >/dev/null 2>&1 \
	  || $(BIN)/steward --as admin user create demo --role admin --display-name "Demo user" >/dev/null
	@if [ ! -s "$(STEWARD_HOME)/demo-token" ]; then \
	  umask 077; $(BIN)/steward --as admin token create --user demo --name "make run" --json \
	    | $(BIN)/python -c 'import json,sys; print(json.load(sys.stdin)["token"])' \
	    > "$(STEWARD_HOME)/demo-token"; fi
	@echo "API token for user 'demo' (also in $(STEWARD_HOME)/demo-token):"
	@cat "$(STEWARD_HOME)/demo-token"
	@echo "Try: curl http://$(HOST):$(PORT)/api/v1/models   |   docs: http://$(HOST):$(PORT)/docs"
	@echo "Web UI: http://$(HOST):$(PORT)/ - sign in as alice (owner), victor or wendy (validators),"
	@echo "        rita (risk officer), audra (auditor), dora (data steward) or ada (administrator),"
	@echo "        password: $(STEWARD_DEMO_PASSWORD)"
	@$(BIN)/steward server --host $(HOST) --port $(PORT) --allow-anonymous-read --log-level info

## make test: the whole suite (SQLite and PostgreSQL stores, S3 via moto)
test: install
	@$(BIN)/pytest -n 2 --dist loadfile --durations=25

lint: install
	@$(BIN)/ruff check src tests bench
	@$(BIN)/mypy
	@$(BIN)/lint-imports

## make bench: every benchmark; each replaces its own section of BENCHMARKS.md
bench: install
	@$(BIN)/python bench/registry.py
	@$(BIN)/python bench/inventory.py
	@$(BIN)/python bench/audit_verify.py --write-md
	@$(BIN)/python bench/validation.py
	@$(BIN)/python bench/drift.py
	@$(BIN)/python bench/pg_source.py
	@$(BIN)/python bench/ui.py --write-md
	@$(BIN)/python bench/mlflow_bridge.py --models 200 --versions 10 --write-md

clean:
	rm -rf $(VENV) .venv-mlflow .steward .pytest_cache .mypy_cache .ruff_cache
