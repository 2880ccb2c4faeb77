# Keel: `make local` runs the platform on this machine; `make test` runs the test suite.
# Both install what they need first (a virtualenv in .venv, the pinned CDK CLI via npm ci).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.keel-installed
NODE_STAMP := node_modules/.keel-installed
PYTEST_WORKERS ?= 2

export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export SAGEMAKER_VALIDATE_ROLE := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install local local-down test lint typecheck bench synth clean

install: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Start an empty local AWS (replacing a running one), deploy every stack of env local, run the scenario.
local: install
	$(BIN)/keel local up --fresh
	$(BIN)/keel scenario

local-down: install
	$(BIN)/keel local down

# The fast suite first, then the slow end-to-end tests (marked `slow`; CI runs both).
test: install
	$(BIN)/ruff check .
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "not slow"
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup -m slow

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy keel stacks lambdas pipeline_steps

bench: install
	$(BIN)/python -m bench --out bench-results.json

synth: install
	$(BIN)/keel synth-all

clean:
	rm -rf cdk.out cdk.out.* .keel/synth .pytest_cache
