"""Data sets: a synthetic credit-card-fraud generator and CSV/Parquet I/O (local or S3).

Example::

    from fraud_jlab.datasets import generate_fraud_dataset, load_dataset, save_dataset
    df = generate_fraud_dataset(60_000, seed=1)
    save_dataset(df, "s3://fraud-detection-data/datasets/creditcard.parquet")
    df = load_dataset("s3://fraud-detection-data/datasets/creditcard.parquet")
"""

from fraud_jlab.datasets.storage import FORMATS, load_dataset, save_dataset
from fraud_jlab.datasets.synthetic import (
    COLUMNS,
    FEATURE_COLUMNS,
    TIME_SPAN_SECONDS,
    generate_fraud_dataset,
)

__all__ = [
    "COLUMNS",
    "FEATURE_COLUMNS",
    "FORMATS",
    "TIME_SPAN_SECONDS",
    "generate_fraud_dataset",
    "load_dataset",
    "save_dataset",
]
