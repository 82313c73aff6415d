# hubqbo - the two commands that matter: `make demo` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
PY := $(VENV)/bin/python
READY := $(VENV)/.ready
SAM_READY := $(SAM_VENV)/.ready
CHECKOV_READY := $(CHECKOV_VENV)/.ready
# The shared layer's Lambda (arm64) wheels, downloaded at setup so the test that builds the layer is offline.
LAYER_WHEELS := .cache/layer-wheels
LAYER_WHEELS_READY := $(LAYER_WHEELS)/.ready
# The HubSpot project's tools (Vitest, HubSpot's testing renderer): the demo and the integration tests run
# the settings extension's walkthrough with them. npm ci writes this hidden lockfile.
NODE_READY := infra/hubspot-app/node_modules/.package-lock.json
# Every install is from a complete lock with hashes (see `make lock`), so pip resolves nothing (--no-deps):
# a build installs exactly what was tested.
PIP_LOCKED := -m pip install -q --require-hashes --no-deps -r
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# The layer is /opt/python in Lambda; here the repo root (infra, tests) and the layer are on the path.
export PYTHONPATH := $(CURDIR):$(CURDIR)/layers/hubqbo

.PHONY: demo dev test lint template-check browser extensions i18n screenshots unit integration e2e bench package deploy lock clean

$(READY): requirements.txt layers/hubqbo/requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "hubqbo needs Python 3.11 or newer"'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) $(PIP_LOCKED) requirements.txt
	@touch $@

# aws-sam-cli and cfn-lint pin boto3/pydantic versions of their own: they get their own venv; so does checkov.
$(SAM_READY): infra/requirements-sam.txt
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python $(PIP_LOCKED) infra/requirements-sam.txt
	@touch $@

$(CHECKOV_READY): infra/requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python $(PIP_LOCKED) infra/requirements-checkov.txt
	@touch $@

# Recompile the locks from the *.in files (direct dependencies) after changing one of them.
PIP_COMPILE_HASHED := $(VENV)/bin/pip-compile -q --generate-hashes --no-strip-extras --no-emit-find-links \
	--no-emit-index-url
PIP_COMPILE := $(PIP_COMPILE_HASHED) --allow-unsafe
# The layer's lock leaves out what Lambda's Python runtime already has and only botocore needs (aws-xray-sdk
# pulls botocore in): a copy in the layer would shadow the runtime's botocore and not match its boto3.
LAYER_FROM_RUNTIME := botocore python-dateutil six
lock: $(READY)
	$(PIP_COMPILE_HASHED) $(addprefix --unsafe-package ,$(LAYER_FROM_RUNTIME)) \
		-o layers/hubqbo/requirements.txt layers/hubqbo/requirements.in
	$(PIP_COMPILE) -o requirements.txt requirements.in
	$(PIP_COMPILE) -o infra/requirements-sam.txt infra/requirements-sam.in
	$(PIP_COMPILE) -o infra/requirements-checkov.txt infra/requirements-checkov.in

demo: $(READY) $(NODE_READY)  ## start the local stack, run the main job end to end, print a report
	$(PY) -m infra.local.demo

dev: $(READY)  ## the same stack, left running
	$(PY) -m infra.local

lint: $(READY)  ## ruff, and mypy (strict for domain/ and services/, see pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# SAM's own validation, cfn-lint with its informational rules, and checkov as an independent scanner
# (a skipped check carries its reason in the resource's Metadata; --skip-download keeps it offline).
template-check: $(SAM_READY) $(CHECKOV_READY)
	$(SAM_VENV)/bin/sam validate --lint --region us-east-1 --template template.yaml
	$(SAM_VENV)/bin/cfn-lint template.yaml -c I
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet --skip-download

# Page tests drive Debian's Chromium with Playwright (Playwright's own browser download is not used).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# The HubSpot project's extensions as HubSpot runs them: pinned installs, HubSpot's ESLint rules, Vitest with
# @hubspot/ui-extensions/testing, and HubSpot's build (uie build: npm ci per extension, then the bundle).
HUBSPOT_APP := infra/hubspot-app
extensions:
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
	cd $(HUBSPOT_APP) && npm ci --no-audit --no-fund --ignore-scripts
	cd $(HUBSPOT_APP) && npx eslint . && npx vitest run && node scripts/build.js

$(LAYER_WHEELS_READY): layers/hubqbo/requirements.txt $(READY)
	$(MAKE) -s -C layers/hubqbo wheels WHEELHOUSE=$(CURDIR)/$(LAYER_WHEELS) PYTHON=$(CURDIR)/$(PY)
	@touch $@

$(NODE_READY): $(HUBSPOT_APP)/package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
	cd $(HUBSPOT_APP) && npm ci --no-audit --no-fund --ignore-scripts

unit: $(READY)
	$(PY) -m pytest tests/unit

integration: $(READY) $(SAM_READY) $(NODE_READY) $(LAYER_WHEELS_READY)
	$(PY) -m pytest tests/integration

e2e: $(READY) browser
	$(PY) -m pytest tests/e2e

bench: $(READY)  ## print the performance figures
	HUBQBO_DRIFT_RECORDS=10000 $(PY) -m pytest tests/benchmarks -s

# In `make test` the backfill benchmark runs 2,000 customers, the chaos benchmark 40 changes, the
# multi-tenant one 4 portals and the drift benchmark 500 linked invoices (the suite stays under 15 minutes
# on two cores); `make bench` runs the full 10,000, 10,000, 50 portals and 10,000.
test: lint template-check browser extensions $(READY) $(LAYER_WHEELS_READY)  ## every suite: lint, template, extensions, unit, integration, e2e, benchmarks
	HUBQBO_BACKFILL_RECORDS=2000 HUBQBO_CHAOS_CHANGES=40 HUBQBO_TENANT_PORTALS=4 $(PY) -m pytest --durations=20 tests/unit tests/integration tests/e2e tests/benchmarks

# The main screens in English and Polish, from a seeded local stack, as PNGs in docs/screenshots/.
screenshots: $(READY) browser  ## re-take the docs' screenshots (card, wizard, add existing, settings tabs, log)
	$(PY) -m tests.support.screenshots

LOCALES := layers/hubqbo/hubqbo/web/locales
i18n: $(READY)  ## extract messages and merge them into the en/pl catalogs (then translate the new entries)
	$(VENV)/bin/pybabel -q extract -F babel.cfg --no-location --sort-output --project hubqbo \
		--copyright-holder hubqbo -o $(LOCALES)/messages.pot layers/hubqbo/hubqbo
	$(VENV)/bin/pybabel -q update -i $(LOCALES)/messages.pot -d $(LOCALES) -D messages \
		--no-fuzzy-matching --ignore-obsolete

# `sam build` installs the layer from layers/hubqbo/requirements.txt, which is the hashed lock.
# `sam build` needs python3.12 on PATH; pyenv users: `pyenv install 3.12` once (see README).
package: $(SAM_READY)
	PYENV_VERSION=$${PYENV_VERSION:-$$(pyenv versions --bare 2>/dev/null | grep -m1 '^3\.12' || true)} \
		$(SAM_VENV)/bin/sam build --template template.yaml

deploy: package
	$(SAM_VENV)/bin/sam deploy --guided

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam $(LAYER_WHEELS)
