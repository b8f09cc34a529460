# Breakwater: every documented entry point. `make test` needs only python3.11 and npm.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
AWS_VENV := .venv-aws
AWS_STAMP := $(AWS_VENV)/.installed

.PHONY: help all install test test-fast lint asl docs demo bench scale soak clean

.DEFAULT_GOAL := help
help: ## this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:[^#]*## /\t/' | expand -t 18

all: test

$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip==26.3
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements-dev.txt
	@# PYTHONWARNINGS: setuptools warns about every editable install ("be careful with folders...").
	PYTHONWARNINGS=ignore $(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
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

install: $(STAMP) $(NODE_STAMP) $(AWS_STAMP) ## every pinned dependency: .venv, node_modules, .venv-aws

# Two test processes (this machine has two cores); a file's tests stay in one process (module fixtures).
TEST_WORKERS ?= 2

test: install ## every test: unit, workflow, template, e2e, bench, docker and browser (CI runs this)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

test-fast: $(STAMP) $(NODE_STAMP) ## unit and template tests: no subprocess stack, no real-time run (under a minute)
	$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile tests/unit tests/template

lint: install $(CHECKOV_STAMP) ## ruff, mypy, cfn-lint, sam validate, checkov, actionlint, template tests
	$(BIN)/ruff check breakwater functions tests docker
	$(BIN)/ruff format --check breakwater functions tests docker
	$(BIN)/mypy breakwater docker/sam_local.py
	$(BIN)/mypy functions/payment/app.py
	$(BIN)/mypy functions/payment/adapter_generic.py
	$(BIN)/mypy functions/payment/adapter_stripe.py
	$(BIN)/mypy functions/replay/app.py
	$(BIN)/mypy functions/transitions/app.py
	$(BIN)/mypy functions/checkout/app.py
	$(BIN)/cfn-lint template.yaml -a cfn_lint_serverless.rules
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 $(AWS_VENV)/bin/sam validate --lint
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet --skip-download
	$(BIN)/actionlint .github/workflows/*.yml
	$(BIN)/pytest -q -p no:cacheprovider tests/template

# The workflow is written in statemachine/circuit_breaker.asl.yaml; SAM deploys the JSON generated from it.
asl: $(STAMP) ## statemachine/circuit_breaker.asl.json from its source, circuit_breaker.asl.yaml
	$(BIN)/python -m breakwater.asl

docs: $(STAMP) ## the tables in docs/ that are generated from the code (a test fails when one is stale)
	$(BIN)/python -m breakwater.docgen

# The demo runs on the embedded stack: it needs the Python environment only (no npm, no .venv-aws).
demo: $(STAMP) ## an outage and its recovery on the embedded local stack
	$(BIN)/breakwater demo

soak: install ## 500 orders through an outage, every invariant checked
	$(BIN)/python -m breakwater.soak --orders 500 --concurrency 25

bench: install ## every policy in every scenario; results in bench/
	$(BIN)/python -m breakwater.bench

# The payment bulkheads the volumes model need more local environments per function than the default 16, kept
# warm through an outage's cooldowns as AWS keeps them (minutes), not stopped after this machine's 60 s.
scale: install ## Breakwater at 500 to 10,000 orders/s with AWS's limits, modelled; results in bench/scale.md
	BREAKWATER_LAMBDA_MAX_ENVIRONMENTS=40 BREAKWATER_LAMBDA_IDLE_SECONDS=600 $(BIN)/python -m breakwater.scale

# The console's browser tests (tests/browser) drive Debian's headless Chromium through its chromedriver.
# Installs both when they are missing and this runs as root; CI calls it before `make test`.
CHROMIUM ?= /usr/bin/chromium
CHROMEDRIVER ?= /usr/bin/chromedriver
.PHONY: browser
browser: ## Chromium and its driver for the browser tests (apt, as root)
	@if [ -x $(CHROMIUM) ] && [ -x $(CHROMEDRIVER) ]; then \
		:; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	else \
		echo "make browser: $(CHROMIUM) or $(CHROMEDRIVER) is missing; as root: apt-get install chromium chromium-driver" >&2; \
		exit 1; \
	fi
	@$(CHROMIUM) --version && $(CHROMEDRIVER) --version

# The functions in the real Lambda runtime (docs/lambda-runtime.md).
# sam-local-image: the invoke image, built offline (root, a Docker engine, debootstrap; skipped when up to date).
# sam-local-build: `sam build` of the template for this machine's architecture, in .aws-sam/local/build.
# test-docker: `sam local invoke` and `sam local start-lambda` tests (skipped without an engine, failing in CI).
.PHONY: sam-local-image sam-local-build test-docker
sam-local-image: $(STAMP) ## the offline invoke image for sam local invoke (needs a Docker engine)
	bash docker/lambda-image/build.sh

sam-local-build: $(STAMP) $(AWS_STAMP) ## sam build for this machine's architecture, in .aws-sam/local
	$(BIN)/python docker/sam_local.py --build-dir .aws-sam/local

test-docker: install ## the sam local invoke and start-lambda tests
	$(BIN)/pytest -q -p no:cacheprovider tests/docker

clean: ## remove the environments and build outputs
	rm -rf $(VENV) $(AWS_VENV) $(CHECKOV_VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .aws-sam demo-output
