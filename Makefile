# webstack.aws — the two commands a user needs:
#   make demo   converge the example environment on a local AWS emulator (started and stopped here)
#   make test   run the whole test suite (lint, unit, integration, instance software)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo demo-check test lint unit integration agents sanity bench bench-worker emulator-start emulator-stop clean

venv: $(STAMP)

$(STAMP): requirements.txt agents/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet -e agents
	touch $(STAMP)

demo: venv
	$(BIN)/python tools/demo.py

demo-check: venv
	$(BIN)/python tools/demo.py --check

test: venv
	$(BIN)/python tools/test.py

lint: venv
	$(BIN)/python tools/test.py lint

unit: venv
	$(BIN)/python tools/test.py unit

integration: venv
	$(BIN)/python tools/test.py integration

agents: venv
	$(BIN)/python tools/test.py agents

sanity: venv
	$(BIN)/python tools/test.py sanity

bench: venv
	$(BIN)/python bench/run.py

bench-worker: venv
	$(BIN)/python bench/worker/run.py

emulator-start: venv
	$(BIN)/python tools/awsemu.py start

emulator-stop: venv
	$(BIN)/python tools/awsemu.py stop

clean:
	rm -rf $(VENV) build .pytest_cache tests/output
