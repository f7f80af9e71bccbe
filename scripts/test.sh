#!/usr/bin/env bash
# The whole test suite: lint, types, unit + integration + end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
echo "==> ruff"
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
echo "==> mypy"
.venv/bin/mypy
echo "==> pytest"
.venv/bin/pytest -q "$@"
