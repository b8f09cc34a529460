# Breakwater: every documented entry point. `make test` needs only python3.11 and npm.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: all install test test-fast lint demo bench clean

all: test

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip==26.3
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(STAMP) $(NODE_STAMP)

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check breakwater functions tests
	$(BIN)/ruff format --check breakwater functions tests
	$(BIN)/mypy breakwater functions/payment/app.py
	$(BIN)/python -m breakwater.checks

demo: install
	$(BIN)/breakwater demo

bench: install
	$(BIN)/python -m breakwater.bench

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .aws-sam
