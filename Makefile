# The two commands a new user needs: `make run` (start the service) and `make test` (run every check).
# Flags for the service go in ARGS: make run ARGS="--port 9000 --log-format text"
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=
# One venv, filled in two steps, each done again when pyproject.toml changes: what serving needs
# (make run, make shell), then the dev extra on top (make test and the benchmarks).
SERVE_STAMP := $(VENV)/.installed-serve
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run shell test lint bench bench-stores bench-delivery clean

# `exec`: the server takes the recipe's place, so Ctrl-C and a SIGTERM sent to make reach it
# directly; it stops cleanly and exits 0, and make has nothing to add.
run: $(SERVE_STAMP)
	@exec $(BIN)/reminders serve $(ARGS)

# A shell with .venv/bin first on PATH, for `reminders --help`, `reminders users list`, …
shell: $(SERVE_STAMP)
	@echo "$(abspath $(BIN)) is first on PATH: try 'reminders --help'; 'exit' leaves this shell"
	@export PATH="$(abspath $(BIN)):$$PATH" VIRTUAL_ENV="$(abspath $(VENV))"; exec "$${SHELL:-/bin/sh}"

# Two runs: everything but tests/process spread over one worker per core (pytest-xdist), then
# tests/process alone, because those start, load and kill whole services and time their answers.
test: lint
	$(BIN)/pytest -n auto --ignore=tests/process
	$(BIN)/pytest tests/process

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(DEV_STAMP)
	$(BIN)/python -m bench.run

bench-stores: $(DEV_STAMP)
	$(BIN)/python -m bench.stores

bench-delivery: $(DEV_STAMP)
	$(BIN)/python -m bench.delivery

# HTTP speed against a bare Starlette app (docs/benchmarks.md); uses wrk when installed (apt-get install wrk).
.PHONY: bench-http
bench-http: $(DEV_STAMP)
	$(BIN)/python -m bench.http

# The README's screenshots (docs/screenshots/*.png): the browser tests photograph a small team's pages at
# 1280x800, against a real service, with the system's Chromium (apt-get install chromium).
.PHONY: screenshots
screenshots: $(DEV_STAMP)
	REMINDERS_UPDATE_SCREENSHOTS=1 $(BIN)/pytest tests/browser/test_screenshots.py -q

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.x")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(SERVE_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The dev extra includes everything serving needs, so it brings the serving stamp up to date too.
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(SERVE_STAMP)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
