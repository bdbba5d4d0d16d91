"""Feature engineering (seed section 5): new features and train-only feature selection."""

from fraud_jlab.features.engineer import NIGHT_HOURS, FeatureEngineer
from fraud_jlab.features.selection import FeatureSelectionWarning, FeatureSelector

__all__ = ["NIGHT_HOURS", "FeatureEngineer", "FeatureSelectionWarning", "FeatureSelector"]
