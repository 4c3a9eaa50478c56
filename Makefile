# Candlefish Secrets Console. Needs only python3 (3.11+), make and git.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
# pytest-xdist workers for `make test`: the suite mostly waits (servers, fsync, browser), so two
# workers on two cores nearly halve it; each has its own servers, database and Redis db.
TEST_WORKERS ?= 2
.DEFAULT_GOAL := help

.PHONY: help run test lint bench check clean

help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed 's/^## /make /'

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11+ is needed; $(PYTHON) is older. Try: make $(MAKECMDGOALS) PYTHON=python3.11" >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

## run: the whole stack (OpenBao, Redis, moto, web, worker, beat) with demo data on http://127.0.0.1:8000 (PORT=8001 for another port)
run: $(VENV)/.installed
	$(PY) -m console.stack --port $(PORT)

## test: pytest against real servers (SQLite, or PostgreSQL when DATABASE_URL is set) on TEST_WORKERS=2 processes (0: one)
test: $(VENV)/.installed
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

## lint: ruff check and ruff format --check
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## bench: every bench/*.py; each prints one RESULT {json} line (all run; fails if any failed)
bench: $(VENV)/.installed
	@failed=""; for script in bench/*.py; do echo "== $$script"; $(PY) $$script || failed="$$failed $$script"; done; \
	if [ -n "$$failed" ]; then echo "make bench: failed:$$failed" >&2; exit 1; fi

## check: Django system checks (configuration problems, with their ids)
check: $(VENV)/.installed
	$(PY) manage.py check

## clean: remove .run/ (the embedded database and server state)
clean:
	rm -rf .run
