# Two entry points do all set-up on a fresh machine: `make demo` and `make test`.
VENV   ?= .venv
PYTHON ?= python3
BIN     = $(VENV)/bin
SCALE  ?= 0.5

.PHONY: demo test test-unit lint install postgres clean bench bench-quick bench-batches

$(BIN)/metric-backfill: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

install: $(BIN)/metric-backfill

postgres:
	@bash scripts/ensure-postgres.sh

demo: install postgres
	$(BIN)/metric-backfill demo --dir .demo --scale $(SCALE)

test: install postgres
	$(BIN)/pytest -q

test-unit: install
	$(BIN)/pytest -q tests/unit

bench: install postgres
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/python benchmarks/run.py

bench-quick: install postgres
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/python benchmarks/run.py --quick

bench-batches: install postgres
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/metric-backfill bench batch-sizes --seeded .bench --scale 1 \
		--md benchmarks/SWEEP.md --json benchmarks/SWEEP.json --png benchmarks/sweep.png

lint: install
	$(BIN)/ruff check .

clean:
	-$(BIN)/metric-backfill db down --dir .demo 2>/dev/null
	-$(BIN)/metric-backfill db down --dir .bench 2>/dev/null
	rm -rf .demo .bench .metric-backfill
