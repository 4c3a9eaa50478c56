# Candlefish Secrets Console. Needs only python3 (3.11+), make and git.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000

.PHONY: run test lint bench check clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

## run: the whole stack (OpenBao, Redis, moto, web, worker, beat) with demo data on http://127.0.0.1:$(PORT)
run: $(VENV)/.installed
	$(PY) -m console.stack --port $(PORT)

## test: pytest against real servers (SQLite, or PostgreSQL when DATABASE_URL is set)
test: $(VENV)/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(VENV)/.installed
	@set -e; for script in bench/*.py; do echo "== $$script"; $(PY) $$script; done

check: $(VENV)/.installed
	$(PY) manage.py check

clean:
	rm -rf .run
