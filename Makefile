# webstack.aws — the two commands a user needs:
#   make demo   converge the example environment on a local AWS emulator (started and stopped here)
#   make test   run the whole test suite (lint, unit, integration, instance software, molecule)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv lock lock-upgrade demo demo-check test lint unit integration agents molecule image sanity bench bench-worker emulator-start emulator-stop clean

venv: $(STAMP)

# Everything comes from the hash-pinned lock (requirements.txt, transitive dependencies included):
# --require-hashes refuses anything unpinned, --no-deps anything the lock does not name, and the
# agents package is built with the lock's setuptools (--no-build-isolation) and installs no dependency
# of its own. `pip check` proves the lock is complete and consistent.
$(STAMP): requirements.txt agents/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e agents
	$(BIN)/python -m pip check
	touch $(STAMP)

# Refresh the lock from requirements.in, on purpose: `make lock` keeps every pin it can and adds what
# requirements.in newly asks for; `make lock-upgrade` moves every package to its newest release.
LOCK := $(BIN)/uv pip compile --native-tls --quiet --generate-hashes --universal --python-version 3.11 \
	--custom-compile-command "make lock" requirements.in -o requirements.txt

lock: venv
	$(LOCK)

lock-upgrade: venv
	$(LOCK) --upgrade

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

# The instance roles under real systemd (podman; the image is built first if missing or out of date).
molecule: venv
	$(BIN)/python tools/test.py molecule

# The molecule scenarios' image (Debian bookworm + systemd), built once and cached in podman's store.
image:
	$(PYTHON) tools/image.py

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
