# The two commands: `make run` serves the marketplace with demo data; `make test` runs the suite on
# SQLite and again on PostgreSQL + Redis. Both set up everything they need on a fresh Debian machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FONTS := build/fonts/SOURCE
PG_URL ?= postgres://market:market@127.0.0.1:5432/market_test
REDIS_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=

.PHONY: run test setup test-sqlite test-postgres lint bench i18n clean

$(STAMP): pyproject.toml scripts/system-deps.sh
	bash scripts/system-deps.sh base
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

# the documents' CJK font, cut from the system's Noto Serif CJK SC (contracts and invoices render in about half the CPU time, bench/pdf.py)
$(FONTS): $(STAMP) scripts/pdf_fonts.py
	$(BIN)/python scripts/pdf_fonts.py

setup: $(STAMP) $(FONTS)

run: setup
	$(BIN)/market demo
	exec $(BIN)/market serve

test: setup
	bash scripts/system-deps.sh test
	bash scripts/services.sh
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: setup
	@echo "== test suite on SQLite, in-process jobs =="
	env -u MARKET_DATABASE_URL -u MARKET_BROKER_URL $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: setup
	@echo "== test suite on PostgreSQL + Redis =="
	MARKET_DATABASE_URL=$(PG_URL) MARKET_BROKER_URL=$(REDIS_URL) $(BIN)/pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/lint-imports --config pyproject.toml

bench: setup
	$(BIN)/python bench/http.py

i18n: setup
	bash scripts/i18n.sh

clean:
	rm -rf $(VENV) var
