# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# pip's marker files: reinstall only when pyproject.toml changes.
INSTALLED := $(VENV)/.installed
INSTALLED_TEST := $(VENV)/.installed-test

.PHONY: run test install install-test lint migrate bench bench-lifecycle bench-reads chaos fuzz clean

run: $(INSTALLED)
	$(BIN)/carflow dev

test: $(INSTALLED_TEST)
	$(BIN)/pytest $(PYTEST_ARGS)

install: $(INSTALLED)
install-test: $(INSTALLED_TEST)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Carflow needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(INSTALLED): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --editable .
	@touch $@

$(INSTALLED_TEST): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	@# The accessibility audit of the browser tests injects axe-core, from the npm registry.
	npm install --silent --no-save --no-audit --no-fund --prefix .cache/npm axe-core@4
	@touch $@ $(INSTALLED)

lint: $(INSTALLED_TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check carflow cli api db activities workflows statemachines worker.py
	$(BIN)/mypy carflow cli api db activities workflows statemachines worker.py
	$(BIN)/lint-imports --no-cache --no-logo

# Measurements and the fault suite live apart from `make test` (never timed tests). Each runs
# its own stack of real processes on free ports (bench/stack.py); options: BENCH_ARGS, CHAOS_ARGS.
bench: bench-lifecycle bench-reads

bench-lifecycle: $(INSTALLED_TEST)
	$(BIN)/python -m bench.lifecycle $(BENCH_ARGS)

bench-reads: $(INSTALLED_TEST)
	$(BIN)/python -m bench.reads $(BENCH_ARGS)

# The whole fault suite, each scenario failing on any loss, duplicate, stuck proposal or false
# answer: lifecycles under worker kills; lifecycles under a Temporal kill and an SMTP outage;
# overload at 2x, 5x and 10x the sustainable rate; concurrent duplicates. PostgreSQL when
# CARFLOW_TEST_DATABASE_URL is set. Options: CHAOS_ARGS (both lifecycle runs), OVERLOAD_ARGS.
CHAOS_DB := $(if $(CARFLOW_TEST_DATABASE_URL),--database-url $(CARFLOW_TEST_DATABASE_URL))
chaos: $(INSTALLED_TEST)
	$(BIN)/python -m chaos --kills 2 $(CHAOS_DB) $(CHAOS_ARGS)
	$(BIN)/python -m chaos --kills 0 --temporal-kills 1 --smtp-down 30 $(CHAOS_DB) $(CHAOS_ARGS)
	$(BIN)/python -m chaos.overload $(CHAOS_DB) $(OVERLOAD_ARGS)
	$(BIN)/pytest -q -p no:cacheprovider -m chaos tests/test_chaos_short.py

# schemathesis over the OpenAPI as every kind of caller, on a real stack (chaos/fuzz.py);
# PostgreSQL when CARFLOW_TEST_DATABASE_URL is set. Options: FUZZ_ARGS.
fuzz: $(INSTALLED_TEST)
	$(BIN)/python -m chaos.fuzz $(if $(CARFLOW_TEST_DATABASE_URL),--database-url $(CARFLOW_TEST_DATABASE_URL)) $(FUZZ_ARGS)

migrate: $(INSTALLED)
	$(BIN)/carflow migrate

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
