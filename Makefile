# Breakwater: every documented entry point. `make test` needs only python3.11 and npm.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
AWS_VENV := .venv-aws
AWS_STAMP := $(AWS_VENV)/.installed

.PHONY: all install test lint demo bench soak clean

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

# The AWS CLI and SAM CLI pin botocore/boto3 exactly: they get a venv of their own.
$(AWS_STAMP): requirements-aws.txt constraints-aws.txt
	$(PYTHON) -m venv $(AWS_VENV)
	$(AWS_VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip==26.3
	$(AWS_VENV)/bin/pip install --quiet --disable-pip-version-check -c constraints-aws.txt -r requirements-aws.txt
	touch $@

# checkov pins an old boto3: it gets a venv of its own too (only `make lint` needs it).
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
$(CHECKOV_STAMP): requirements-checkov.txt constraints-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip==26.3
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -c constraints-checkov.txt -r requirements-checkov.txt
	touch $@

install: $(STAMP) $(NODE_STAMP) $(AWS_STAMP)

test: install
	$(BIN)/pytest

lint: install $(CHECKOV_STAMP)
	$(BIN)/ruff check breakwater functions tests
	$(BIN)/ruff format --check breakwater functions tests
	$(BIN)/mypy breakwater
	$(BIN)/mypy functions/payment/app.py
	$(BIN)/mypy functions/replay/app.py
	$(BIN)/mypy functions/transitions/app.py
	$(BIN)/cfn-lint template.yaml -a cfn_lint_serverless.rules
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 $(AWS_VENV)/bin/sam validate --lint
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet --skip-download
	$(BIN)/pytest -q -p no:cacheprovider tests/template

demo: install
	$(BIN)/breakwater demo

soak: install
	$(BIN)/python -m breakwater.soak --orders 500 --concurrency 25

bench: install
	$(BIN)/python -m breakwater.bench

clean:
	rm -rf $(VENV) $(AWS_VENV) $(CHECKOV_VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .aws-sam demo-output
