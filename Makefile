# Two commands set up and run everything: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

.PHONY: run test test-embedded test-services lint openapi bench fuzz migrate seed clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Reinstall only when pyproject.toml changes, so a second `make run` starts at once.
$(VENV)/.stamp-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.stamp-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,dev]'
	touch $@ $(VENV)/.stamp-run

$(VENV)/.stamp-bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,dev,bench]'
	touch $@ $(VENV)/.stamp-test $(VENV)/.stamp-run

migrate: $(VENV)/.stamp-run
	$(BIN)/alembic upgrade heads

# Verification links (QR codes, /v/...) point at the server `make run` starts, on whatever PORT.
export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)

seed: migrate
	$(BIN)/flask --app backend demo seed

## make run: install into .venv, migrate, seed demo data, serve http://127.0.0.1:$(PORT) (SQLite + in-process Redis)
run: seed
	$(BIN)/flask --app backend run --host 127.0.0.1 --port $(PORT)

## make test: the suite on SQLite + fake Redis, then on PostgreSQL + Redis (mandatory when CI=true)
test: $(VENV)/.stamp-test
	scripts/test.sh

## make fuzz: the contract fuzz of tests/contract with a large budget (200 examples per operation and
## the coverage phase, a new seed each run; FUZZ_EXAMPLES, FUZZ_SEED, FUZZ_PATHS=regex override);
## the suite runs it with 8 examples and a fixed seed
fuzz: $(VENV)/.stamp-test
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} FUZZ_COVERAGE=$${FUZZ_COVERAGE:-1} FUZZ_SEED=$${FUZZ_SEED:-random} \
	  $(BIN)/pytest -n $${TEST_WORKERS:-2} tests/contract

lint: $(VENV)/.stamp-test
	$(BIN)/ruff check backend points scenarios tests bench migrations
	$(BIN)/mypy

openapi: $(VENV)/.stamp-run
	$(BIN)/flask --app backend openapi write --format=json openapi/openapi.json

## make bench: every bench/*.py with a main() (foundation first) on gunicorn + PostgreSQL `bench` + Redis db 10; writes bench/RESULTS.md
bench: $(VENV)/.stamp-bench
	BENCH_COMMAND="make bench" $(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) instance .pytest_cache
