"""Least-squares resource models (latency, energy, memory) with an optional held-out check."""

from __future__ import annotations

import logging

import numpy as np

from iqnas._validation import Boolean, Interval
from iqnas.calibration.estimators import SEED, SPACE, TERMS, QuadraticModel, RidgePath
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

    _parameter_constraints = {
        "space": SPACE,
        "name": [str],
        "units": [str],
        "holdout": [Interval("real", 0, 0.9)],
        "refit": [Boolean()],
        "seed": SEED,
    }

    def fit(self, X, y) -> _ResourceModel:
        p = self._validate_params()
        C, y = self._xy(X, y)
        holdout = p["holdout"]
        alpha = p.get("alpha", 0.0)
        fmap = FeatureMap.from_terms(self.space, p.get("terms", "linear"))
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
            perm = np.random.default_rng(p["seed"]).permutation(n)
            hold, train = np.sort(perm[:n_hold]), np.sort(perm[n_hold:])
            W, b0 = RidgePath(design[train], y[train]).coefs([alpha])
            pred = design[hold] @ W[:, 0] + b0[0]
            self.holdout_report_ = quality_report(y[hold], pred)
            self.holdout_rmse_ = self.holdout_report_["rmse"]
            if p["refit"]:
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
                 holdout: float = 0.0, refit: bool = True, seed: int | None = 0) -> None:
        self.space = space
        self.name = name
        self.units = units
        self.holdout = holdout
        self.refit = refit
        self.seed = seed


class QuadraticResourceModel(_ResourceModel):
    """A resource with products between groups (e.g. ``"bilinear"`` block x depth latency).

    ``alpha = 0`` is minimum-norm least squares; a small ``alpha`` adds ridge shrinkage.
    Fitted attributes as ``LinearResourceModel``.
    """

    _parameter_constraints = {**_ResourceModel._parameter_constraints, "terms": TERMS,
                              "alpha": [Interval("real", 0, None)]}

    def __init__(self, space: SearchSpace, *, terms="pairwise", alpha: float = 0.0,
                 name: str = "", units: str = "", holdout: float = 0.0, refit: bool = True,
                 seed: int | None = 0) -> None:
        self.space = space
        self.terms = terms
        self.alpha = alpha
        self.name = name
        self.units = units
        self.holdout = holdout
        self.refit = refit
        self.seed = seed


__all__ = ["LinearResourceModel", "QuadraticResourceModel"]
