#!/usr/bin/env bash
# Set up fraud_jlab for development on a fresh machine: a virtualenv in .venv with the package
# installed in editable mode (this builds the JupyterLab extension with jlpm) plus test and lint
# tools. Safe to run again; it only does what is missing.
#   bash scripts/setup.sh            # Python + extension
#   bash scripts/setup.sh --browser  # also the browser-test toolchain (ui-tests/ + Chromium)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip

echo "==> installing fraud_jlab (editable, with test and lint extras; builds the labextension)"
# A stale build would be reused silently by the build hook: always build the extension from source.
rm -rf fraud_jlab/labextension
.venv/bin/python -m pip install --quiet -e ".[test,lint]"

if [ "${1:-}" = "--browser" ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    echo "==> installing Debian's chromium for browser tests"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
  echo "==> installing browser-test dependencies (ui-tests/)"
  (cd ui-tests && CI=1 ../.venv/bin/jlpm install)
fi
echo "==> setup done"
