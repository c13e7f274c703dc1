#!/usr/bin/env bash
# Runs the whole suite: lint, unit, integration (own Redis + Celery worker + server) and e2e.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
