# Two commands for a fresh clone (only Python >= 3.11 needed):
#   make run    installs into .venv and runs the main job on the bundled data
#   make test   installs into .venv (with the dev extra) and runs ruff, mypy and pytest
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.flowbt-installed

.PHONY: install run test lint bench bench-data bench-engine bench-optimize bench-report clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/flowbt book --out results
	$(BIN)/flowbt thesis

test: lint
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: bench-data bench-engine bench-optimize bench-report

bench-engine: install
	$(BIN)/python bench/bench_engine.py

bench-optimize: install
	$(BIN)/python bench/bench_optimize.py

bench-report: install
	$(BIN)/python bench/bench_report.py

bench-data: install
	$(BIN)/python bench/bench_load.py

clean:
	rm -rf $(VENV)
