# Quick start: `make plan` (offline plan of the test stack) and `make test` (every test).
# Both need only python3 and make (`make test` also npm). On first use the pinned uv comes from PyPI into
# .tools (unless that exact version is on PATH), and installs into .venv exactly what uv.lock pins.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK ?= test

UV_VERSION := 0.13.9
TOOLS := .tools
ifeq ($(origin UV),undefined)
  ifeq ($(wildcard $(TOOLS)/.uv-$(UV_VERSION)),)
    ifeq ($(word 2,$(shell uv --version 2>/dev/null)),$(UV_VERSION))
      UV := uv
    endif
  endif
endif
UV ?= $(TOOLS)/bin/uv
UV_TOOL := $(if $(filter $(TOOLS)/bin/uv,$(UV)),$(TOOLS)/.uv-$(UV_VERSION))

# In CI (CI=true) uv.lock must already match pyproject.toml; elsewhere uv updates uv.lock first if it does not.
LOCKED := $(if $(filter true True TRUE 1 yes,$(CI)),--locked)
UV_ARGS := --python $(PYTHON) --no-python-downloads
# No --compile-bytecode: compiling every installed module (23 500 files, mostly provider SDKs the program never
# imports) took minutes of a fresh clone's `make test`; Python compiles what it imports on first use.
SYNC := UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync $(LOCKED) $(UV_ARGS)
LOCK_HINT := uv.lock is out of date with pyproject.toml: run 'make lock' (or 'uv lock') and commit uv.lock
check_lock = $(if $(LOCKED),@out=$$($(UV) lock --check $(UV_ARGS) 2>&1) || { echo "$$out" >&2; \
	! echo "$$out" | grep -q 'needs to be updated' || echo >&2 "$(LOCK_HINT)"; exit 1; })
# Stamps: .stamp-plan = the plan's dependencies are installed; .stamp-test = those and the test group.
# The test stamp also goes stale when anything else changes the installed packages (e.g. `pulumi install`,
# whose plain `uv sync` removes the test group).
SITE_PACKAGES := $(wildcard $(VENV)/lib/python3*/site-packages)

.PHONY: cli plan test lint lock bench bench-headers clean servers

# pip --target puts the binary in $(TOOLS)/bin; without a pip in $(PYTHON), a venv's own pip does it.
PIP_INSTALL_UV := -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
$(TOOLS)/.uv-$(UV_VERSION):
	rm -rf $(TOOLS)
	PIP_ROOT_USER_ACTION=ignore $(PYTHON) $(PIP_INSTALL_UV) --target $(TOOLS) || \
	  { rm -rf $(TOOLS) && $(PYTHON) -m venv $(TOOLS) && $(TOOLS)/bin/python $(PIP_INSTALL_UV); }
	touch $@

# --inexact: keeps the test group if a test install is there.
$(VENV)/.stamp-plan: uv.lock pyproject.toml | $(UV_TOOL)
	$(check_lock)
	$(SYNC) --no-dev --inexact
	touch $@

$(VENV)/.stamp-test: uv.lock pyproject.toml $(SITE_PACKAGES) | $(UV_TOOL)
	$(check_lock)
	$(SYNC) --group test
	touch $(VENV)/.stamp-plan $@

# The tests start Redis and PostgreSQL themselves, from Debian's packages: installed here when missing.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
servers:
	@command -v redis-server >/dev/null && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends redis-server postgresql >/dev/null; }

node_modules/.bin/azurite-blob: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# `make cli`: only .venv/bin/appcdn and what the program needs (what `pulumi up` runs), no test group; the
# workflows' Pulumi jobs use it. The uv it used is .tools/bin/uv, or the same version found on PATH.
cli: $(VENV)/.stamp-plan

plan: $(VENV)/.stamp-plan
	$(BIN)/appcdn plan --stack $(STACK)

# Lint, format and layer checks first (seconds), then types, then the tests.
lint: $(VENV)/.stamp-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/actionlint
	$(BIN)/zizmor --offline --no-progress .github

# mypy (one process, its cache kept in .mypy_cache) runs beside the tests (TEST_WORKERS pytest-xdist processes):
# a fresh clone's mypy reads every provider SDK for minutes, on a core the tests would leave idle. Its report follows
# theirs; `make test` fails if either fails.
TEST_WORKERS ?= 2
test: lint node_modules/.bin/azurite-blob servers
	@echo "$(BIN)/python -m mypy (beside the tests; its report follows theirs)"
	@$(BIN)/python -m mypy >$(VENV)/mypy.log 2>&1 & typing=$$!; \
	  echo "$(BIN)/python -m pytest -n $(TEST_WORKERS)"; $(BIN)/python -m pytest -n $(TEST_WORKERS); tests=$$?; \
	  wait $$typing; typed=$$?; echo "$(BIN)/python -m mypy"; cat $(VENV)/mypy.log; \
	  [ $$tests -eq 0 ] && [ $$typed -eq 0 ]

# `make lock` after editing dependencies in pyproject.toml; `make lock UPGRADE=pulumi-cloudflare` moves one
# package (several: UPGRADE="a b") to its newest allowed version, everything else stays pinned.
lock: | $(UV_TOOL)
	$(UV) lock $(UV_ARGS) $(foreach p,$(UPGRADE),--upgrade-package $(p))

# BENCH_ARGS: e.g. "--budget 600 --reps 1" (seconds per plan run before it is killed, timed runs; bench/README.md).
bench: $(VENV)/.stamp-plan
	$(BIN)/python bench/plan_time.py $(BENCH_ARGS)

# awscli (the bench group) only for this benchmark; the next `make test` syncs it away again.
bench-headers: $(VENV)/.stamp-test node_modules/.bin/azurite-blob | $(UV_TOOL)
	$(SYNC) --group test --group bench
	$(BIN)/python bench/headers.py

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .hypothesis .mypy_cache .coverage
