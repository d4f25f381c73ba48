# The two commands (README): `make synth` and `make test`. Each installs what it needs
# (a Python venv from requirements*.txt, Node 22 and the CDK CLI from package-lock.json)
# and skips that step when nothing changed.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

ENV ?= sandbox
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: synth synth-all synth-delivery test setup clean

synth: $(VENV)/.runtime-installed node_modules/.installed  ## Synthesize ENV (default sandbox) with the CDK CLI
	@$(PY) -m platform_config $(ENV)
	cdk synth -c env=$(ENV) --quiet 2>&1 | { grep -v '^Supply a stack id' || true; }
	@$(PY) -m scripts.synth_report cdk.out

ENVIRONMENTS = $(shell $(PY) -c "from platform_config import available_environments as a; print(*a())" 2>/dev/null)

synth-all: $(VENV)/.runtime-installed node_modules/.installed  ## Synthesize every environment in config/, two at a time
	@$(PY) -m platform_config
	@printf '%s\n' $(ENVIRONMENTS) | xargs -P 2 -I{} sh -c \
	  'cdk synth -c env={} --quiet --output cdk.out.{} > cdk.out.{}.log 2>&1 || { cat cdk.out.{}.log; exit 1; }'
	@set -e; for env in $(ENVIRONMENTS); do echo "== $$env"; $(PY) -m scripts.synth_report cdk.out.$$env; done

synth-delivery: $(VENV)/.runtime-installed node_modules/.installed  ## Synthesize the delivery pipeline (config/delivery.yaml) into cdk.out
	@$(PY) -m platform_config.delivery
	cdk synth -c delivery=true --quiet
	@$(PY) -m scripts.synth_report cdk.out

# Model releases (docs/releases.md): read AWS with the caller's credentials for ENV's account.
.PHONY: releases release-promote release-import

releases: $(VENV)/.runtime-installed  ## Print what each model of ENV serves, who approved it, what waits for approval
	@$(PY) -m scripts.releases $(ENV)

release-promote: $(VENV)/.runtime-installed  ## In ENV, MODEL's candidate becomes its champion (MODEL=...)
	@test -n "$(MODEL)" || { echo "usage: make release-promote ENV=<env> MODEL=<model>" >&2; exit 2; }
	@$(PY) -m scripts.releases $(ENV) promote $(MODEL)

release-import: $(VENV)/.runtime-installed  ## Import MODEL's VERSION, approved in the previous environment, into ENV
	@test -n "$(MODEL)" && test -n "$(VERSION)" || \
	  { echo "usage: make release-import ENV=<env> MODEL=<model> VERSION=<n>" >&2; exit 2; }
	@$(PY) -m scripts.releases $(ENV) import $(MODEL) $(VERSION)

# For platform teams (README): idle cost, architecture picture, construct reference.
.PHONY: cost diagram reference graphviz

# ENV's cloud assembly in cdk.out.<env>, synthesized again only when an input changed.
SYNTH_INPUTS := app.py cdk.json $(shell find config stacks ml_constructs platform_config \
  pipeline_definitions lambda studio -type f ! -path '*/__pycache__/*' ! -path '*/.pytest_cache/*' 2>/dev/null)

cdk.out.$(ENV)/manifest.json: $(SYNTH_INPUTS) $(VENV)/.runtime-installed node_modules/.installed
	@$(PY) -m platform_config $(ENV)
	cdk synth -c env=$(ENV) --quiet --output cdk.out.$(ENV) >/dev/null
	@touch $@

cost: cdk.out.$(ENV)/manifest.json  ## Print what ENV costs per month with no traffic (pricing/prices.yaml)
	@$(PY) -m scripts.idle_cost_report cdk.out.$(ENV)

diagram: cdk.out.$(ENV)/manifest.json $(VENV)/.dev-installed graphviz  ## Draw ENV's architecture: docs/architecture-ENV.png
	@$(PY) -m scripts.architecture_diagram cdk.out.$(ENV) --output docs/architecture-$(ENV).png \
	  --dot build/architecture-$(ENV).dot

reference: $(VENV)/.dev-installed  ## Generate the construct and configuration reference into build/reference
	@$(PY) -m scripts.construct_reference build/reference

graphviz:  ## Install Graphviz's dot (Debian package graphviz) when it is missing
	@command -v dot >/dev/null 2>&1 || { echo "installing Graphviz (apt-get install graphviz)"; \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  $$sudo apt-get install -y -qq --no-install-recommends graphviz >/dev/null; }

test: $(VENV)/.dev-installed node_modules/.installed graphviz  ## Run every test and quality gate
	$(PY) -m pytest

setup: $(VENV)/.dev-installed node_modules/.installed

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3

$(VENV)/.runtime-installed: requirements.txt $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.runtime-installed
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

clean:
	rm -rf cdk.out cdk.out.* $(VENV) node_modules
