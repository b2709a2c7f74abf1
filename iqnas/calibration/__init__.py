"""Calibration: samplers, estimators that produce QuadraticForms, the sample store, selection."""

from iqnas.calibration.estimators import BaseEstimator, QuadraticRegressor, clone
from iqnas.calibration.features import FeatureMap
from iqnas.calibration.gcn import GCNRanker, GCNRegressor
from iqnas.calibration.metrics import quality_report, render_reports, report_table
from iqnas.calibration.mlp import MLPRegressor
from iqnas.calibration.ranker import PairwiseRanker
from iqnas.calibration.resource_models import LinearResourceModel, QuadraticResourceModel
from iqnas.calibration.run import CalibrationRun, calibrate
from iqnas.calibration.samplers import (
    BaseSampler,
    BudgetAwareSampler,
    StratifiedSampler,
    UniformSampler,
)
from iqnas.calibration.store import SampleStore, default_store_path
from iqnas.calibration.training_free import (
    TrainingFreeModel,
    TrainingFreeRun,
    calibrate_training_free,
)

__all__ = ["BaseEstimator", "BaseSampler", "BudgetAwareSampler", "CalibrationRun", "FeatureMap",
           "GCNRanker", "GCNRegressor", "LinearResourceModel", "MLPRegressor", "PairwiseRanker",
           "QuadraticRegressor", "QuadraticResourceModel", "SampleStore", "StratifiedSampler",
           "TrainingFreeModel", "TrainingFreeRun", "UniformSampler", "calibrate",
           "calibrate_training_free", "clone", "default_store_path", "quality_report",
           "render_reports", "report_table"]
