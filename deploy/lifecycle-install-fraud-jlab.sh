#!/bin/bash
# SageMaker Studio lifecycle configuration (JupyterLab app): install fraud_jlab into the
# app's environment and point it at the production resources. Runs as the app starts.
set -euo pipefail
pip install --quiet --upgrade "fraud_jlab==${FRAUD_JLAB_VERSION:-0.1.0}"
mkdir -p "$HOME/.jupyter"
cat > "$HOME/.jupyter/jupyter_server_config.py" <<'CONFIG'
c.ServerApp.jpserver_extensions = {"fraud_jlab": True}
c.FraudJlab.config_bucket = "fraud-detection-config"
c.FraudJlab.data_bucket = "fraud-detection-data"
c.FraudJlab.models_bucket = "fraud-detection-models"
c.FraudJlab.ssm_prefix = "/fraud-detection/hyperparameters/"
CONFIG
