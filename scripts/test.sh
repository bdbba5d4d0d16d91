#!/usr/bin/env bash
# Set up everything and run every test: lint (ruff, mypy, eslint, prettier), Python unit,
# property, handler and end-to-end tests (pytest), then the browser tests (galata + Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
export PATH="$PWD/.venv/bin:$PATH"

bash scripts/lint.sh

echo "==> pytest"
pytest -p no:cacheprovider

echo "==> browser tests (galata)"
(cd ui-tests && jlpm playwright test)
