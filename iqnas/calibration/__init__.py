"""Calibration: samplers, estimators that produce QuadraticForms, the sample store, selection."""

from iqnas.calibration.batch import BatchReport, measure_batch
from iqnas.calibration.estimators import BaseEstimator, QuadraticRegressor, clone
from iqnas.calibration.features import FeatureMap
from iqnas.calibration.gcn import GCNRanker, GCNRegressor
from iqnas.calibration.metrics import quality_report, render_reports, report_table
from iqnas.calibration.mlp import MLPRegressor
from iqnas.calibration.ranker import PairwiseRanker
from iqnas.calibration.reload import load_run
from iqnas.calibration.resource_models import LinearResourceModel, QuadraticResourceModel
from iqnas.calibration.run import CalibrationRun, calibrate
from iqnas.calibration.samplers import (
    BaseSampler,
    BudgetAwareSampler,
    StratifiedSampler,
    UniformSampler,
)
from iqnas.calibration.store import SampleStore, default_store_path, open_store
from iqnas.calibration.training_free import (
    TrainingFreeModel,
    TrainingFreeRun,
    calibrate_training_free,
)

__all__ = ["BaseEstimator", "BaseSampler", "BatchReport", "BudgetAwareSampler", "CalibrationRun",
           "FeatureMap", "GCNRanker", "GCNRegressor", "LinearResourceModel",
           "MLPRegressor", "PairwiseRanker", "QuadraticRegressor",
           "QuadraticResourceModel", "SampleStore", "StratifiedSampler", "TrainingFreeModel",
           "TrainingFreeRun", "UniformSampler", "calibrate", "calibrate_training_free", "clone",
           "default_store_path", "load_run", "measure_batch", "open_store", "quality_report",
           "render_reports", "report_table"]
