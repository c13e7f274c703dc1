# The two commands a new user types: `make run` (bring the app up) and `make test` (whole suite).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup run test lint bench

setup:
	bash scripts/setup.sh

run: setup
	bash scripts/run.sh

test: setup
	bash scripts/test.sh

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) -m bench.run_all
