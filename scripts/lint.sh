#!/usr/bin/env bash
# Every linter and type checker: ruff (lint + format), mypy, eslint, prettier.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
echo "==> ruff check"; ruff check fraud_jlab tests bench ui-tests/jupyter_server_test_config.py
echo "==> ruff format --check"; ruff format --check fraud_jlab tests bench ui-tests/jupyter_server_test_config.py
echo "==> mypy"; mypy
echo "==> eslint + prettier"; jlpm run lint:check
