"""Typed domain models from the design's "Data Models", validated on construction.

Each model round-trips through JSON (``to_json``/``from_json``) and YAML
(``to_yaml``/``from_yaml``); bad input raises :class:`fraud_jlab.errors.ValidationError`
naming every offending field.
"""

from fraud_jlab.models._base import DomainModel
from fraud_jlab.models.abtest import ABTestConfig, RolloutStage, SuccessCriteria, TrafficSplit
from fraud_jlab.models.production import ModelConfig, ProductionConfig
from fraud_jlab.models.tuning import HyperparameterTuningJob, ParameterRange

__all__ = [
    "ABTestConfig",
    "DomainModel",
    "HyperparameterTuningJob",
    "ModelConfig",
    "ParameterRange",
    "ProductionConfig",
    "RolloutStage",
    "SuccessCriteria",
    "TrafficSplit",
]
