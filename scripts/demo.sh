#!/usr/bin/env bash
# Set up fraud_jlab and run the demo: a local AWS emulator with the production resources, a
# SQLite tracker seeded with real XGBoost runs, and JupyterLab with the fraud_jlab sidebar.
# Extra arguments go to `fraud-jlab demo` (e.g. --port 8890 --no-browser --workdir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/fraud-jlab demo "$@"
