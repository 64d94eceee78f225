# The two commands: `make demo` runs the demo store, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.11: python3.11, or python3 when that is 3.11 (checked below). Override with PYTHON=...
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
SEED ?= 42
PORT ?= 8000
# manage.py with DEBUG=1 unless set; stops the embedded Redis afterwards if it started it.
MANAGE := $(PY) scripts/manage.py

.PHONY: help install demo test run migrate seed check bench clean

help:
	@echo "make demo     set up and run the demo store (http://127.0.0.1:$(PORT))"
	@echo "make test     run the whole test suite on PostgreSQL and Redis (PYTEST_ARGS=...)"
	@echo "make install  create .venv and install the project with its dev extras"
	@echo "make migrate  apply migrations          make seed   migrate and seed the demo data"
	@echo "make run      start without seeding     make check  system checks, missing migrations"
	@echo "make bench    run the benchmarks        make clean  remove var/ and .venv"

install: $(STAMP)

# Re-run only when pyproject.toml changes; the stamp is written last, so a failed
# install is retried by the next make.
$(STAMP): pyproject.toml
	@v=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	if [ "$$v" != 3.11 ]; then \
		echo "Python 3.11 is required; '$(PYTHON)' is $${v:-not a working Python}. Set PYTHON=/path/to/python3.11" >&2; exit 1; fi
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then \
		echo "Recreating $(VENV): it is not a working Python 3.11 virtualenv."; rm -rf $(VENV); fi
	@test -x $(PY) || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "Could not create $(VENV). On Debian/Ubuntu: apt-get install python3.11-venv" >&2; exit 1; }; }
	@echo "Installing the project and its dependencies into $(VENV) (a few minutes the first time)…"
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	@touch $(STAMP)

demo: install
	$(PY) scripts/demo.py --seed $(SEED) --port $(PORT)

run: install
	$(PY) scripts/demo.py --no-seed --port $(PORT)

test: install
	$(PY) scripts/test_services.py -- $(PY) -m pytest $(PYTEST_ARGS)

migrate: install
	$(MANAGE) migrate --noinput

seed: migrate
	$(MANAGE) shop_seed_demo --seed $(SEED)

check: install
	$(MANAGE) check
	$(MANAGE) makemigrations --check --dry-run

# storefront and ingest read the seeded store; pipeline and support (100,000 generated
# customers) need PostgreSQL and get a throwaway one.
bench: install
	$(PY) bench/run.py --only storefront --only ingest --only recommend --only product_page --only training
	$(PY) scripts/test_services.py -- $(PY) bench/run.py --only pipeline --only support --only reports --only customers --only scores --migrate

clean:
	@# Stop the embedded Redis (if running) before its directory goes.
	-@test -x $(PY) && $(PY) -c 'import sys; sys.path.insert(0, "."); from shop.embedded_redis import stop; stop(".")' 2>/dev/null || true
	rm -rf var $(VENV) *.egg-info .pytest_cache
