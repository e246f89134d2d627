# Two entry points do all set-up on a fresh machine: `make demo` and `make test`.
VENV   ?= .venv
PYTHON ?= python3
BIN     = $(VENV)/bin
SCALE  ?= 0.5

.PHONY: demo test lint install postgres clean

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

lint: install
	$(BIN)/ruff check .

clean:
	-$(BIN)/metric-backfill db down --dir .demo 2>/dev/null
	rm -rf .demo .metric-backfill
