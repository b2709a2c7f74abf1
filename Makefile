# Two commands for a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test test-slow lint bench install browser

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[all,dev]"
	touch $@

install: $(BIN)/.installed

demo: $(BIN)/.installed
	$(BIN)/iqnas demo

# Debian's chromium for the browser test of the HTML report (installed only if missing)
browser:
	scripts/install_chromium.sh

test: $(BIN)/.installed browser
	$(BIN)/ruff check iqnas tests benchmarks scripts
	$(BIN)/python -m pytest -q

test-slow: $(BIN)/.installed
	$(BIN)/python -m pytest -q -m slow

lint: $(BIN)/.installed
	$(BIN)/ruff check iqnas tests benchmarks scripts

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/solver_bench.py
