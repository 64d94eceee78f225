# The two commands: `make demo` runs the demo store, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
SEED ?= 42

.PHONY: help install demo test run migrate seed check bench clean

help:
	@echo "make demo     set up and run the demo store (http://127.0.0.1:8000)"
	@echo "make test     run the whole test suite on PostgreSQL and Redis"
	@echo "make install  create .venv and install the project with its dev extras"
	@echo "make migrate | seed | run | check | bench | clean"

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required; found " + sys.version.split()[0] + " at $(PYTHON). Set PYTHON=/path/to/python3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

demo: install
	$(PY) scripts/demo.py --seed $(SEED)

run: install
	$(PY) scripts/demo.py --no-seed

test: install
	$(PY) scripts/test_services.py -- $(PY) -m pytest $(PYTEST_ARGS)

migrate: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput

seed: migrate
	DEBUG=$${DEBUG:-1} $(PY) manage.py shop_seed_demo --seed $(SEED)

check: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py check
	DEBUG=$${DEBUG:-1} $(PY) manage.py makemigrations --check --dry-run

bench: install
	$(PY) bench/run.py

clean:
	-$(PY) -c 'import sys; sys.path.insert(0, "."); from shop.embedded_redis import stop; stop(".")' 2>/dev/null
	rm -rf var $(VENV) *.egg-info .pytest_cache
