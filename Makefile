# Two commands for a newcomer: `make run` and `make test`. Everything else is set up on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
CONFIG ?= rdv-monitor.yaml

.PHONY: run test setup browser lint typecheck pytest check-docker bench clean

run: setup browser $(CONFIG)
	$(BIN)/rdv-monitor run

test: setup browser lint typecheck pytest

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

browser: setup
	@sh scripts/ensure-browser.sh $(BIN)/python

$(CONFIG):
	cp rdv-monitor.example.yaml $(CONFIG)
	@echo "created $(CONFIG) from rdv-monitor.example.yaml: add your watches there"

lint: setup
	$(BIN)/ruff check monitor tests bench migrations
	$(BIN)/ruff format --check monitor tests bench

typecheck: setup
	$(BIN)/mypy

pytest: setup browser
	$(BIN)/python -m pytest -q

bench: setup browser
	$(BIN)/python bench/run_service.py
	$(BIN)/python bench/export.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
