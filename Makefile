# Quick start: `make plan` (offline plan of the test stack) and `make test` (every test).
# Both create .venv on first use; nothing else needs to be installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK ?= test

.PHONY: plan test bench bench-headers clean

$(BIN)/appcdn: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

node_modules/.bin/azurite-blob: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

plan: $(BIN)/appcdn
	$(BIN)/appcdn plan --stack $(STACK)

test: $(BIN)/appcdn node_modules/.bin/azurite-blob
	$(BIN)/python -m pytest

bench: $(BIN)/appcdn
	$(BIN)/python bench/plan_time.py

bench-headers: $(BIN)/appcdn node_modules/.bin/azurite-blob
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/headers.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
