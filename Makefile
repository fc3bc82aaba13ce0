# The two commands of the README: `make run` (gateway with demo data) and `make test` (everything).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench install install-dev clean

$(BIN)/schakel: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

install: $(BIN)/schakel

install-dev: install
	$(BIN)/pip install --quiet -e '.[dev]'

run: install
	$(BIN)/schakel demo
	SCHAKEL_DEMO_LOGIN=true $(BIN)/schakel serve

test: install-dev
	scripts/test.sh

# Benchmarks on demand (not part of `make test`); prints a table, see docs/performance.md.
bench: install-dev
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
