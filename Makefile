# The single entry point: `make run` and `make test` set everything up on a fresh machine.
#
# Two Python 3.10 environments (rasa 3.6 needs Python < 3.11 and SQLAlchemy 1.4):
#   .venv/rasa  rasa[jieba] server, training, `rasa test`, connectors/
#   .venv/app   rasa-sdk action server, back office (SQLAlchemy 2), tests
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PY310 ?= $(firstword $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.10.13/bin/python3.10) $(shell command -v python3.10 2>/dev/null))
RASA_VENV := .venv/rasa
APP_VENV := .venv/app
RASA := $(RASA_VENV)/bin/rasa
RASA_PY := $(RASA_VENV)/bin/python
APP_PY := $(APP_VENV)/bin/python

export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1
export PYTHONUNBUFFERED := 1

MODEL_CONFIG ?= config.yml
MODEL = $(shell $(PY310) scripts/model.py path --config $(MODEL_CONFIG))
MODEL_NAME = $(shell $(PY310) scripts/model.py name --config $(MODEL_CONFIG))

# Two pytest processes (pytest-xdist), each taking whole test files: the suite mostly waits on
# stacks starting one core at a time, so two halve its time on a 2-core machine.
PYTEST_ARGS ?= -n 2 --dist loadfile

# Production profile (README "Running in production"): the env file scripts/prod.py reads.
# The default one is written with fresh secrets on first use; PROD_ENV_FILE= uses the
# environment alone.
PROD_ENV_FILE ?= var/prod.env
PROD = PROD_ENV_FILE=$(PROD_ENV_FILE) RASA_MODEL=$(or $(RASA_MODEL),$(MODEL)) RASA_PY=$(RASA_PY) APP_PY=$(APP_PY)
BENCH_CONFIG := bench/config.default.yml
BENCH_PREVIOUS_CONFIG := bench/config.previous.yml
BENCH_ARGS ?=
BENCH_SCALE_ARGS ?=

.PHONY: help setup browser model train intents migrate run run-prod test test-rasa test-py test-logs validate lock clean bench bench-scale

help:
	@echo "make run     set up, train if needed, migrate, start Rasa :5005, actions :5055, back office :8080 (SQLite)"
	@echo "make test    set up and run every test suite (what CI runs)"
	@echo "make run-prod  the production profile on the local PostgreSQL and Redis (README)"
	@echo "make bench   load test of the production profile vs Rasa's defaults, NLU scores, conversation figures"
	@echo "make bench-scale  two Rasa replicas behind nginx under load, one killed half-way (also run by bench)"
	@echo "make model   train the model when none matches config/domain/data"
	@echo "make lock    re-lock requirements/*.txt from requirements/*.in"
	@echo "make intents regenerate the console's intent list (bot/console/intents.yml) from domain.yml"

## --- set-up -----------------------------------------------------------------------------
setup: $(RASA_VENV)/.installed $(APP_VENV)/.installed frontend/node_modules/.installed var

$(RASA_VENV)/.installed: requirements/rasa.txt
	@test -n "$(PY310)" || { echo "Python 3.10 not found (expected pyenv 3.10.13)"; exit 1; }
	rm -rf $(RASA_VENV)
	$(PY310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install --quiet --upgrade pip==24.2
	$(RASA_VENV)/bin/pip install --quiet -r requirements/rasa.txt
	$(RASA) telemetry disable >/dev/null 2>&1 || true
	touch $@

$(APP_VENV)/.installed: requirements/app.txt
	@test -n "$(PY310)" || { echo "Python 3.10 not found (expected pyenv 3.10.13)"; exit 1; }
	rm -rf $(APP_VENV)
	$(PY310) -m venv $(APP_VENV)
	$(APP_VENV)/bin/pip install --quiet --upgrade pip==24.2
	$(APP_VENV)/bin/pip install --quiet -r requirements/app.txt
	touch $@

# Browser assets served locally by the back office (chat widget, charts): no CDN at run time.
frontend/node_modules/.installed: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium), and a CJK
# font so that pages and screenshots show Chinese characters instead of boxes.
browser:
	@{ command -v chromium >/dev/null 2>&1 && command -v nginx >/dev/null 2>&1 && \
	   command -v soffice >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 && \
	   fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; } || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium chromium-driver fonts-wqy-zenhei nginx-light \
	    libreoffice-writer-nogui poppler-utils >/dev/null; \
	  { systemctl disable --now nginx || invoke-rc.d nginx stop; } >/dev/null 2>&1 || true; }
	@# tests/security/test_deployment.py runs its own nginx (loopback ports, files in a tmp dir)
	@# LibreOffice and pdftoppm: the monthly report's first-page preview (tests/console/test_monthly_report.py)

var:
	mkdir -p var

lock:
	for env in rasa app; do \
	  rm -rf /tmp/lock-$$env && $(PY310) -m venv /tmp/lock-$$env && \
	  /tmp/lock-$$env/bin/pip install --quiet --upgrade pip==24.2 && \
	  /tmp/lock-$$env/bin/pip install --quiet -r requirements/$$env.in && \
	  { echo "# Locked from requirements/$$env.in with 'make lock'. Install with: pip install -r requirements/$$env.txt"; \
	    /tmp/lock-$$env/bin/pip freeze --all | grep -v -E '^(pip|wheel)=='; } > requirements/$$env.txt; \
	done

## --- model ------------------------------------------------------------------------------
# The model file is named after the hash of its inputs: train only when it is missing. Always
# from scratch (Rasa's training cache off): the time recorded next to it is what `make bench`
# reports as training from scratch.
model: setup
	@if [ -f "$(MODEL)" ]; then echo "model up to date: $(MODEL)"; else \
	  echo "training $(MODEL) ..."; start=$$(date +%s); \
	  PYTHONWARNINGS=ignore::DeprecationWarning RASA_MAX_CACHE_SIZE=0 $(RASA) train --config $(MODEL_CONFIG) --domain domain.yml --data data --out models \
	    --fixed-model-name $(MODEL_NAME) --quiet; \
	  echo "$$(( $$(date +%s) - start ))" > $(MODEL).train-seconds; \
	  echo "trained in $$(( $$(date +%s) - start ))s: $(MODEL)"; fi

train: model

# The console's intent picker ships with the back office (which has no domain.yml).
intents: setup
	$(APP_PY) scripts/intents.py

## --- run --------------------------------------------------------------------------------
migrate: setup
	$(APP_PY) -m bot migrate

run: setup model migrate
	@$(APP_PY) -m bot print-dev-settings
	MODEL_PATH=$(MODEL) RASA_PY=$(RASA_PY) APP_PY=$(APP_PY) $(APP_VENV)/bin/honcho start -f Procfile

# The production profile on this machine's PostgreSQL and Redis: 2 Sanic workers of Rasa
# (REST), one socket.io Rasa, 2 action-server workers, the back office; Ctrl-C stops all.
run-prod: setup model
	@if [ "$(PROD_ENV_FILE)" = "var/prod.env" ]; then $(APP_PY) scripts/prod.py env --out var/prod.env --if-missing; fi
	$(PROD) $(APP_PY) scripts/prod.py createdb
	$(PROD) $(APP_PY) scripts/prod.py check
	$(PROD) $(APP_PY) scripts/prod.py migrate
	@echo "Rasa REST :5005, socket.io :5006, actions :5055, back office :8080 (loopback); secrets in $(or $(PROD_ENV_FILE),the environment)"
	$(PROD) $(APP_VENV)/bin/honcho start -f Procfile.prod

## --- tests ------------------------------------------------------------------------------
validate: setup
	$(RASA) data validate --fail-on-warnings --config $(MODEL_CONFIG) --domain domain.yml --data data

test-rasa: model
	rm -rf results/stories
	$(RASA) test core --model $(MODEL) --stories tests/stories --e2e --fail-on-prediction-errors \
	  --out results/stories --no-plot

# test-artifacts/ holds the logs of this run only: test-logs reads every one of them.
test-py: model
	rm -rf test-artifacts
	MODEL_PATH=$(MODEL) RASA_BIN=$(RASA) APP_PY=$(APP_PY) $(APP_PY) -m pytest $(PYTEST_ARGS)

# Last: no full ID or phone number in any log file the test run produced.
test-logs:
	LOG_HYGIENE_RUN=1 $(APP_PY) -m pytest -q tests/production/test_log_hygiene.py

test: setup browser validate model test-rasa test-py test-logs

## --- benchmark --------------------------------------------------------------------------
# N simulated citizens through complete intake conversations on the production profile,
# the same run with the previous configuration and with Rasa's default pipeline and policies
# (each model trained once and kept under models/, named by the hash of its inputs), the
# development profile under the same load, NLU scores on the held-out sets, and the table
# of the performance targets (README "Measured speed").
bench: setup model
	$(MAKE) --no-print-directory model MODEL_CONFIG=$(BENCH_PREVIOUS_CONFIG)
	$(MAKE) --no-print-directory model MODEL_CONFIG=$(BENCH_CONFIG)
	MODEL_PATH=$(MODEL) RASA_BIN=$(RASA) APP_PY=$(APP_PY) $(APP_PY) -m bench.run \
	  --model $(MODEL) --previous-model $$($(PY310) scripts/model.py path --config $(BENCH_PREVIOUS_CONFIG)) \
	  --default-model $$($(PY310) scripts/model.py path --config $(BENCH_CONFIG)) $(BENCH_ARGS)
	@# same-matter detection (repeat petitions) on tests/data/same_matter.yml: precision and recall
	$(APP_PY) -m bench.matching --json results/bench/matching.json
	@# the conversation corpus (turns per petition, re-asks) and the emergency set, one SQLite stack
	MODEL_PATH=$(MODEL) RASA_BIN=$(RASA) APP_PY=$(APP_PY) $(APP_PY) -m bench.dialogues --json results/bench/dialogues.json
	$(MAKE) --no-print-directory bench-scale

# Scale-out (README "Several workers, replicas, and socket.io"): two Rasa REST replicas and the
# socket.io process behind nginx (deploy/nginx.conf), 20 citizens without pause, one replica
# SIGKILLed half-way; results/bench/scale.md. Needs nginx (`make browser` installs it).
bench-scale: setup model
	MODEL_PATH=$(MODEL) RASA_BIN=$(RASA) APP_PY=$(APP_PY) $(APP_PY) -m bench.scale --model $(MODEL) $(BENCH_SCALE_ARGS)

clean:
	rm -rf results test-artifacts .pytest_cache
