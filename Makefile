# The two commands a newcomer needs: `make demo` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
# Node 20 is what this machine has; jsii warns that it is end-of-life. Silence the banner only.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONPATH := $(CURDIR)/layers/journey/python:$(CURDIR)
FILE ?= samples/native_events.jsonl
comma := ,
FORMAT ?= native
STAGE ?= dev

.PHONY: install layers synth lint test test-slow demo serve replay evaluate bench chaos load samples clean deploy openapi agent-tools train score

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed

layers: $(VENV)/.installed
	PYTHON=$(PY) scripts/build_deps_layer.sh

# Synthesizes the CloudFormation template into cdk.out/ (offline: no AWS account, no Docker).
# AGENT=agentcore|classic|none picks who decides the hard cases (unset: cdk.json's "agent", agentcore).
synth: install layers
	$(CDK) synth --quiet --no-notices -c stage=$(STAGE) $(if $(AGENT),-c agent=$(AGENT)) > /dev/null
	@echo "template: $$(ls cdk.out/*.template.json)"

# Style, formatting, the import rules of ../shared/DESIGN.md (each contract named after its rule), and types
# (strict on the domain contexts). `make test` runs it first.
lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) scripts/check_contracts.py
	$(VENV)/bin/lint-imports --no-cache --no-logo
	$(PY) -m mypy

test: lint synth
	$(PY) -m pytest -q -m "not slow" -n 2

test-slow: synth
	$(PY) -m pytest -q -m slow

# BEDROCK=ok|failing|slow: the local stand-in for Amazon Bedrock (deterministic, not a model) on the escalation path.
demo: synth
	$(PY) -m localrt.demo $(if $(BEDROCK),--bedrock $(BEDROCK))

# The local runtime with the HTTPS API on 127.0.0.1:$(PORT) until stopped; tokens in out/serve/endpoints.json.
PORT ?= 8787
serve: synth
	$(PY) -m localrt.serve --port $(PORT)

# OUT=dir (default: a new out/replay/<file stem>-<UTC time>), FORCE=1 to write into a non-empty OUT,
# SORT=1 to sort the file's lines by timestamp first.
replay: synth
	$(PY) -m localrt.replay --file "$(FILE)" --format "$(FORMAT)" $(if $(OUT),--out "$(OUT)") \
		$(if $(filter 1,$(SORT)),--sort) $(if $(filter 1,$(FORCE)),--force)

# Struggle detection scored on a labelled suite: SUITE=dir (events.jsonl + labels.jsonl); by default the
# project's field suite (tests/field), built into out/field/suite. Exit 1 when a target is missed.
evaluate: install
	$(if $(SUITE),,$(PY) -m tests.field.build_suite --out out/field/suite)
	$(PY) -m localrt.evaluate --suite "$(or $(SUITE),out/field/suite)"

bench: install
	$(PY) -m localrt.bench

chaos: synth
	$(PY) -m localrt.chaos

load: synth
	$(PY) -m localrt.load

samples: install
	$(PY) -m localrt.samples --users 20

# The exit-risk model (docs/exit-risk.md). FILE=table.csv|.parquet LABEL=column [ID=column] [MODEL=dir]
# [POSITIVE=value] [CV_FOLDS=5] [SEED=7] [SEP=;] [FORCE=1 to replace a model of another training]: learn
# from a labelled table (cross-validated report); without FILE on the command line: from the system's journeys
# (JOURNEYS=dir, default out/demo/journeys), reported on held-out users. Writes model.json, metrics.json, report.md.
train: install
ifneq ($(filter command line environment,$(origin FILE)),)
	$(if $(strip $(FILE)),,$(error FILE is empty: make train FILE=<csv or parquet> LABEL=<column> MODEL=<dir>))
	$(PY) -m ml train --file "$(FILE)" --label "$(LABEL)" --model "$(or $(MODEL),out/models/table)" $(if $(ID),--id "$(ID)") \
		$(if $(POSITIVE),--positive "$(POSITIVE)") $(if $(CV_FOLDS),--cv-folds "$(CV_FOLDS)") $(if $(SEED),--seed "$(SEED)") \
		$(if $(SEP),--sep "$(SEP)") $(if $(filter 1,$(FORCE)),--force)
else
	$(if $(strip $(LABEL)$(ID)$(POSITIVE)),$(error LABEL$(comma) ID and POSITIVE are for a labelled table: add FILE=<csv or parquet> (without FILE$(comma) make train learns from the journeys)))
	$(PY) -m ml train --journeys "$(or $(JOURNEYS),out/demo/journeys)" --model "$(or $(MODEL),out/models/exit-risk)"
endif

# MODEL=dir FILE=table OUT=scores.csv [ID=column[,column]] [SEP=;]: one row per input row, the id column (else the row
# number) and score 0-100.
score: install
	$(if $(strip $(MODEL)),,$(error MODEL is required: make score MODEL=dir FILE=table.csv OUT=scores.csv))
	$(if $(and $(filter command line environment,$(origin FILE)),$(strip $(FILE))),,$(error FILE is required: make score MODEL=dir FILE=table.csv OUT=scores.csv))
	$(if $(strip $(OUT)),,$(error OUT is required: make score MODEL=dir FILE=table.csv OUT=scores.csv))
	$(PY) -m ml score --model "$(MODEL)" --file "$(FILE)" --out "$(OUT)" $(if $(ID),--id "$(ID)") $(if $(SEP),--sep "$(SEP)")

# The HTTPS API's OpenAPI document (docs/openapi.json), generated from the resolver the function serves.
openapi: $(VENV)/.installed
	$(PY) scripts/openapi.py

# The agent's tool schemas (infra/agent_tools.json), generated from their one definition, journey.agent.tools.
agent-tools: $(VENV)/.installed
	$(PY) -c "from journey.agent.tools import manifest_text; open('infra/agent_tools.json', 'w').write(manifest_text())"

deploy: synth
	$(CDK) deploy -c stage=$(STAGE) $(if $(AGENT),-c agent=$(AGENT))

clean:
	rm -rf cdk.out out .pytest_cache layers/deps
