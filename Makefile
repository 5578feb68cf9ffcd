# koppel: `make run` starts the stack with a demo school; `make test` runs every test.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run stop test unit integration lint format migrate bench venv clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: koppel needs Python 3.11 (nameko 2.14 does not run on 3.12)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $@

run: venv
	@bash scripts/run.sh

stop:
	@bash scripts/stop.sh

test: venv
	$(BIN)/ruff check .
	$(BIN)/pytest -q

unit: venv
	$(BIN)/pytest -q tests/unit

integration: venv
	$(BIN)/pytest -q tests/integration

lint: venv
	$(BIN)/ruff check .

format: venv
	$(BIN)/ruff format .

migrate: venv
	$(BIN)/koppel db upgrade

bench: venv
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean: stop
	rm -rf var
