# The two commands (README): `make synth` and `make test`. Each installs what it needs
# (a Python venv from requirements*.txt, Node 22 and the CDK CLI from package-lock.json)
# and skips that step when nothing changed.

ENV ?= sandbox
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: synth synth-all test setup clean

synth: $(VENV)/.runtime-installed node_modules/.installed  ## Synthesize ENV (default sandbox) with the CDK CLI
	@$(PY) -m platform_config $(ENV)
	cdk synth -c env=$(ENV) --quiet
	@$(PY) -m scripts.synth_report cdk.out

synth-all: $(VENV)/.runtime-installed node_modules/.installed  ## Synthesize every environment in config/
	@$(PY) -m platform_config
	@set -e; for env in $$($(PY) -c "from platform_config import available_environments as a; print(*a())"); do \
	  echo "== $$env"; cdk synth -c env=$$env --quiet --output cdk.out.$$env >/dev/null; \
	  $(PY) -m scripts.synth_report cdk.out.$$env; done

test: $(VENV)/.dev-installed node_modules/.installed  ## Run every test and quality gate
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
