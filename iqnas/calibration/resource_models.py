"""Least-squares resource models (latency, energy, memory) with an optional held-out check."""

from __future__ import annotations

import logging

import numpy as np

from iqnas.calibration.estimators import QuadraticModel, RidgePath, check_param
from iqnas.calibration.features import FeatureMap
from iqnas.calibration.metrics import quality_report
from iqnas.errors import InputError
from iqnas.space import SearchSpace

log = logging.getLogger(__name__)


class _ResourceModel(QuadraticModel):
    """Fit by (ridge-regularised) least squares; report train and, optionally, held-out error.

    With ``holdout > 0`` a random fraction of the rows is held out: the model is fitted on the
    rest and ``holdout_rmse_`` / ``holdout_report_`` measure it on the held-out rows. With
    ``refit=True`` (default) the final model is then refitted on all rows, so the held-out
    figures describe a model trained on slightly less data.
    """

    def _fit_terms(self):
        return "linear"

    def _alpha(self) -> float:
        return 0.0

    def fit(self, X, y) -> _ResourceModel:
        C, y = self._xy(X, y)
        holdout = check_param(self, "holdout", "float", low=0.0, high=0.9)
        alpha = self._alpha()
        fmap = FeatureMap.from_terms(self.space, self._fit_terms())
        design = fmap.transform(C)
        n = C.shape[0]
        self.holdout_rmse_ = None
        self.holdout_report_ = None
        train = np.arange(n)
        if holdout > 0:
            n_hold = int(round(holdout * n))
            if n_hold < 1 or n - n_hold < 2:
                raise InputError(f"holdout={holdout} of {n} rows leaves no held-out or too few "
                                 "training rows; give more data or change holdout")
            perm = np.random.default_rng(self.random_state).permutation(n)
            hold, train = np.sort(perm[:n_hold]), np.sort(perm[n_hold:])
            W, b0 = RidgePath(design[train], y[train]).coefs([alpha])
            pred = design[hold] @ W[:, 0] + b0[0]
            self.holdout_report_ = quality_report(y[hold], pred)
            self.holdout_rmse_ = self.holdout_report_["rmse"]
            if self.refit:
                train = np.arange(n)
        W, b0 = RidgePath(design[train], y[train]).coefs([alpha])
        self._set_form(fmap, float(b0[0]), W[:, 0])
        self.train_report_ = quality_report(y[train], self.form_.evaluate(choices=C[train]))
        self.train_rmse_ = self.train_report_["rmse"]
        self.n_train_ = int(len(train))
        log.debug("%s: train RMSE %.4g, holdout RMSE %s", type(self).__name__, self.train_rmse_,
                  self.holdout_rmse_)
        return self


class LinearResourceModel(_ResourceModel):
    """A resource that is a sum of per-option costs (one-hot least squares, minimum norm).

    Fitted: ``form_``, ``coef_``, ``intercept_``, ``train_rmse_``, ``train_report_`` and, when
    ``holdout > 0``, ``holdout_rmse_`` / ``holdout_report_``.
    """

    def __init__(self, space: SearchSpace, *, name: str = "", units: str = "",
                 holdout: float = 0.0, refit: bool = True, random_state: int | None = 0) -> None:
        self.space = space
        self.name = name
        self.units = units
        self.holdout = holdout
        self.refit = refit
        self.random_state = random_state


class QuadraticResourceModel(_ResourceModel):
    """A resource with products between groups (e.g. ``"bilinear"`` block x depth latency).

    ``alpha = 0`` is minimum-norm least squares; a small ``alpha`` adds ridge shrinkage.
    Fitted attributes as ``LinearResourceModel``.
    """

    def __init__(self, space: SearchSpace, *, terms="pairwise", alpha: float = 0.0,
                 name: str = "", units: str = "", holdout: float = 0.0, refit: bool = True,
                 random_state: int | None = 0) -> None:
        self.space = space
        self.terms = terms
        self.alpha = alpha
        self.name = name
        self.units = units
        self.holdout = holdout
        self.refit = refit
        self.random_state = random_state

    def _fit_terms(self):
        return self.terms

    def _alpha(self) -> float:
        return float(check_param(self, "alpha", "float", low=0.0))


__all__ = ["LinearResourceModel", "QuadraticResourceModel"]
