# CityOps developer commands (GNU make). Needs only Python 3.11 on the machine: `make run`, `make test`.
#
#   make run                     migrate, load the demo city, serve http://127.0.0.1:8000 (DEBUG on)
#                                with a Celery worker and beat beside it (the overdue sweep every 5 minutes)
#   make serve                   production-like: gunicorn, a Celery worker and beat (Procfile, through honcho)
#                                on DATABASE_URL and REDIS_URL, after migrate and collectstatic
#   make test PYTEST_ARGS='-k routing -x'
#                                the test suite; SQLite unless DATABASE_URL is set
#   make test PYTEST_ARGS='-n 2' the same on two processes (pytest-xdist)
#   make lint                    ruff
#   make typecheck               mypy on the core, the access policy and the services (list in pyproject.toml)
#   make imports                 import-linter: oversight -> cases -> departments -> core, never back up
#   make bench BENCH_ARGS='--only routing'
#                                routing, intake, deadline and staff report benchmarks (see bench/README.md)
#
# `make run` installs only what the site needs (requirements.txt); the targets that run a development tool
# install requirements-dev.txt as well.

SHELL := /bin/bash

# Prefer the project's Python; any Python 3 with venv will do for a first look.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install, so the venv is refreshed only when requirements.txt changes; the
# development tools' stamp is refreshed when either file changes.
STAMP := $(VENV)/.requirements.stamp
DEV_STAMP := $(VENV)/.requirements-dev.stamp

HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
BENCH_ARGS ?=

export PIP_DISABLE_PIP_VERSION_CHECK := 1
# CI runs as root; pip's warning about it is noise there.
export PIP_ROOT_USER_ACTION := ignore

.DEFAULT_GOAL := help
.PHONY: help .venv venv venv-dev run serve worker beat backup test lint typecheck imports bench bench-search clean distclean

help:
	@echo "make run     - migrate, load the demo city and serve it on http://$(HOST):$(PORT), with a Celery worker"
	@echo "make serve   - gunicorn, worker and beat as in production, on DATABASE_URL and REDIS_URL (README)"
	@echo "make worker / make beat - a Celery worker / the beat scheduler on their own (production-like)"
	@echo "make test    - run the tests (PYTEST_ARGS='...' to pass options; DATABASE_URL for PostgreSQL)"
	@echo "make lint    - ruff check"
	@echo "make typecheck - mypy with the Django and DRF stubs; make imports - the import contracts"
	@echo "make bench   - routing, intake, deadline and staff report benchmarks (BENCH_ARGS='--help' for options)"
	@echo "make clean   - remove caches and benchmark results; make distclean also removes .venv"

.venv venv: $(STAMP)

$(STAMP): requirements.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 (or python3) is needed to create $(VENV)" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

venv-dev: $(DEV_STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# The worker runs beat inside it (-B): one process is enough on one machine, and the broker (Redis when
# REDIS_URL is set, else a folder under var/celery) needs no server. It stops when the web server stops.
run: export DEBUG := 1
# Links in mail lead to where this server answers, unless SITE_URL says otherwise.
run: export SITE_URL := $(or $(SITE_URL),http://$(HOST):$(PORT))
run: .venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	mkdir -p var/celery
	$(BIN)/celery -A cityops worker --beat --queues sweep,mail --pool=solo --loglevel=INFO >> var/celery/worker.log 2>&1 & \
	worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	echo "Celery worker and beat: pid $$worker, log var/celery/worker.log"; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production on one host: the Procfile's web, worker and beat under honcho, which stops all three when one
# stops. PostgreSQL and Redis are required: SQLite and the folder broker are for one process, not three.
# honcho gives the web process PORT itself; HOST, WEB_WORKERS and the rest pass through (deploy/gunicorn.conf.py).
serve: .venv
	@missing=""; for name in DATABASE_URL REDIS_URL; do test -n "$${!name}" || missing="$$missing $$name"; done; \
	if test -n "$$missing"; then echo "make serve needs$$missing in the environment (see README, Running in production)" >&2; exit 2; fi
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	PATH="$(CURDIR)/$(BIN):$$PATH" HOST=$(HOST) $(BIN)/honcho start --procfile Procfile --port $(PORT)

# Production-like: a worker and beat of their own, on the broker REDIS_URL names (run beat exactly once).
worker: .venv
	$(BIN)/celery -A cityops worker --queues sweep,mail --loglevel=INFO

beat: .venv
	$(BIN)/celery -A cityops beat --loglevel=INFO

# pg_dump (custom format) of DATABASE_URL and an archive of the media folder, under var/backups (README).
backup: .venv
	$(BIN)/python manage.py backup

test: venv-dev
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv-dev
	$(BIN)/ruff check .

typecheck: venv-dev
	$(BIN)/mypy

imports: venv-dev
	$(BIN)/lint-imports

bench: venv-dev
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The case search on a million cases against the icontains search it replaced (PostgreSQL; bench/README.md).
bench-search: venv-dev
	$(BIN)/python -m bench.search_bench $(BENCH_ARGS)

clean:
	rm -rf .pytest_cache .ruff_cache .mypy_cache .import_linter_cache test-results bench/results
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
