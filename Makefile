# One entry point for people and CI. Only python3 is needed on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck check bench clean docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml setup.py
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: set up and run bastion on the example project (exits 1: it has planted findings)
demo: $(STAMP)
	-$(BIN)/bastion check examples/shop_api

## test: set up and run the whole test suite, lint and type checks
test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -rs

lint: $(STAMP)
	$(BIN)/ruff check src rules tests bench examples/plugin
	$(BIN)/ruff format --check src rules tests bench examples/plugin
	$(BIN)/bastion check src rules --select ALL --no-cache --quiet  # bastion checks itself
	$(BIN)/lint-imports  # layers and no import cycles: [tool.importlinter] in pyproject.toml

typecheck: $(STAMP)
	$(BIN)/mypy src rules

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .bastion_cache

## docs: regenerate docs/rules/ from the rules' metadata (a test checks it is up to date)
docs: $(STAMP)
	$(BIN)/bastion rules --write-docs docs/rules
