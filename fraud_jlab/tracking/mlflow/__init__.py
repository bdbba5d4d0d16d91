"""The tracker contract on MLflow (``MlflowTrackerStore``; extra ``fraud_jlab[mlflow]``)."""
