"""Settings shared by every fraud_jlab test."""

from __future__ import annotations

import os

# XGBoost/LightGBM use OpenMP; with libgomp's default busy-waiting, two threads on a loaded
# 2-core CI machine run many times slower than one. Must be set before either library loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
