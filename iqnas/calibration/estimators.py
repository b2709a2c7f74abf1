"""scikit-learn-style estimators whose fitted model is an ``iqnas.QuadraticForm``.

The contract (no scikit-learn dependency): hyper-parameters are explicit keyword arguments of
``__init__``, which only stores them; ``get_params`` / ``set_params`` / ``clone`` work from the
signature; learned attributes end in ``_`` and are set only by ``fit``; ``fit`` returns ``self``;
using an unfitted estimator raises ``iqnas.errors.NotFittedError``. Every estimator takes the
search space first, accepts ``X`` as a list of architectures/keys or an (n, n_vars) one-hot
matrix, and exposes ``form_`` with ``predict(X) == form_.evaluate(X)``.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from iqnas._validation import (
    Check,
    InstanceOf,
    Interval,
    Options,
    Parameterized,
    check_value,
    clone,
    finite_vector,
)
from iqnas.calibration.features import TERMS as TERM_NAMES
from iqnas.calibration.features import FeatureMap, as_choices
from iqnas.calibration.metrics import quality_report
from iqnas.errors import InputError, NotFittedError
from iqnas.space import SearchSpace

log = logging.getLogger(__name__)

#: default ridge penalty grid searched by cross-validation (features are 0/1, so absolute)
DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-4, 4, 17))
#: eigenvalues below this fraction of the largest are treated as exact zeros (min-norm solution)
_NULL_RTOL = 1e-10


#: what a ``space`` parameter accepts
SPACE = [InstanceOf(SearchSpace, "a SearchSpace (e.g. iqnas.spaces.get('nb201'))")]
#: what a ``terms`` parameter accepts (the pairs are checked against the space when fitting)
TERMS = [Options(TERM_NAMES),
         Check(lambda t: not isinstance(t, (str, bytes)) and iter(t) is not None,
               "a list of (group, group) pairs")]
#: a seed: a non-negative int or None (fresh entropy)
SEED = [Interval("int", 0, None), None]


class BaseEstimator(Parameterized):
    """Parameters, repr, validation and the fitted check shared by all estimators: each class
    declares ``_parameter_constraints`` and ``fit`` starts with ``_validate_params()``."""

    def _check_fitted(self) -> None:
        if not hasattr(self, "form_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call "
                                 "'fit' with appropriate arguments before using this estimator.")

    def _check_space(self) -> SearchSpace:
        return check_value(self.space, SPACE, "space", type(self).__name__)

    def _xy(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        C = as_choices(self._check_space(), X)
        y = finite_vector(y, "y", "drop rows without a measurement")
        if y.shape[0] != C.shape[0]:
            raise InputError(f"X has {C.shape[0]} rows but y has {y.shape[0]} values")
        if C.shape[0] < 2:
            raise InputError(f"{type(self).__name__} needs at least 2 samples, got {C.shape[0]}")
        return C, y

    def score(self, X, y) -> float:
        """Coefficient of determination R^2 of ``predict(X)`` against ``y``."""
        C, y = self._xy(X, y)
        return quality_report(y, self.predict(C))["r2"]

    def report(self, X, y) -> dict[str, float]:
        """``quality_report(y, predict(X))``."""
        C, y = self._xy(X, y)
        return quality_report(y, self.predict(C))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._non_default_params().items()
                         if k != "space")
        space = getattr(self.space, "name", self.space)
        return f"{type(self).__name__}({space!r}{', ' + args if args else ''})"


def out_of_fold(estimator: BaseEstimator, X, y, cv: int = 5, seed: int = 0) -> np.ndarray:
    """Each row's prediction by ``estimator`` refitted without that row's fold (folds shuffled
    by ``seed``)."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    cv = min(cv, max(2, n // 2))
    pred = np.empty(n)
    for val in kfold(n, cv, np.random.default_rng(seed)):
        train = np.setdiff1d(np.arange(n), val)
        pred[val] = clone(estimator).fit(X[train], y[train]).predict(X[val])
    return pred


def cross_val_rmse(estimator: BaseEstimator, X, y, cv: int = 5, seed: int = 0) -> float:
    """Out-of-fold root mean squared error of ``estimator``."""
    y = np.asarray(y, dtype=float)
    return math.sqrt(float(np.mean((out_of_fold(estimator, X, y, cv, seed) - y) ** 2)))


def _penalty_grid(alphas) -> bool:
    a = np.asarray(alphas, dtype=float).ravel()
    return a.size > 0 and bool(np.all(np.isfinite(a))) and not bool(np.any(a < 0))


class QuadraticModel(BaseEstimator):
    """Shared prediction side: the fitted form, ``form_ == intercept_ + design(X) @ coef_``."""

    def _set_form(self, fmap: FeatureMap, intercept: float, coef: np.ndarray) -> None:
        self.feature_map_ = fmap
        self.coef_ = np.asarray(coef, dtype=float)
        self.intercept_ = float(intercept)
        self.n_features_in_ = self.space.n_vars
        self.form_ = fmap.to_form(intercept, coef, name=getattr(self, "name", ""),
                                  units=getattr(self, "units", ""))

    def predict(self, X) -> np.ndarray:
        """Predicted values: ``form_.evaluate`` of the architectures."""
        self._check_fitted()
        return self.form_.evaluate(choices=as_choices(self.space, X))


class RidgePath:
    """Ridge with an unpenalised intercept, for any penalty, from one eigen-decomposition.

    Works on the centred design: the primal ``p x p`` Gram matrix when ``p <= n``, otherwise the
    ``n x n`` kernel matrix. ``alpha = 0`` gives the minimum-norm least-squares solution
    (eigenvalues below ``1e-10`` of the largest are treated as zero, which handles the one-hot
    collinearity). Features that are constant in the data are left out: their coefficient is
    exactly 0 (a constant 1 is absorbed by the intercept).
    """

    def __init__(self, design: sp.csr_matrix, y: np.ndarray) -> None:
        n, self.n_features = design.shape
        counts = np.diff(design.tocsc().indptr)
        self.varying = np.flatnonzero((counts > 0) & (counts < n))  # 0/1 columns that vary
        design = design.tocsc()[:, self.varying].tocsr()
        p = design.shape[1]
        self.mu = np.asarray(design.mean(axis=0)).ravel()
        self.ybar = float(y.mean())
        yc = y - self.ybar
        self.dual = p > n
        if self.dual:
            self.design = design
            K = (design @ design.T).toarray()
            r = K.mean(axis=0)
            s, V = scipy.linalg.eigh(K - r[:, None] - r[None, :] + r.mean(), driver="evd")
            self.b = V.T @ yc
        else:
            G = (design.T @ design).toarray() - n * np.outer(self.mu, self.mu)
            s, V = scipy.linalg.eigh(G, driver="evd")
            self.b = V.T @ (design.T @ yc)
        self.s, self.V = s, V
        self.keep = s > _NULL_RTOL * max(float(s.max()), 0.0) if s.size else s > 0

    def coefs(self, alphas) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients (n_features, A) and intercepts (A,) for each penalty in ``alphas``."""
        alphas = np.atleast_1d(np.asarray(alphas, dtype=float))
        denom = self.s[:, None] + alphas[None, :]
        inv = np.where(self.keep[:, None], 1.0 / np.where(self.keep[:, None], denom, 1.0), 0.0)
        Z = self.V @ (inv * self.b[:, None])
        if self.dual:
            Z = self.design.T @ Z - np.outer(self.mu, Z.sum(axis=0))
        W = np.zeros((self.n_features, alphas.size))
        W[self.varying] = Z
        return W, self.ybar - self.mu @ Z


def kfold(n: int, cv: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled, nearly equal folds of ``range(n)``."""
    return np.array_split(rng.permutation(n), cv)


def cv_ridge(design: sp.csr_matrix, y: np.ndarray, alphas: np.ndarray, cv: int,
             rng: np.random.Generator) -> np.ndarray:
    """Out-of-fold R^2 (pooled over folds) for each penalty."""
    n = design.shape[0]
    sse = np.zeros(len(alphas))
    for val in kfold(n, cv, rng):
        train = np.setdiff1d(np.arange(n), val)
        W, b0 = RidgePath(design[train], y[train]).coefs(alphas)
        pred = design[val] @ W + b0
        sse += ((pred - y[val, None]) ** 2).sum(axis=0)
    sst = float(((y - y.mean()) ** 2).sum())
    return 1.0 - sse / (sst if sst > 0 else 1.0)


class QuadraticRegressor(QuadraticModel):
    """Ridge regression on intercept + one-hot + products of chosen group pairs.

    Parameters
    ----------
    space : SearchSpace
    terms : "pairwise" (every two groups), "bilinear" (BINAS's controller x other groups; equal
        to "pairwise" on spaces without conditions), "linear", or a list of (group, group) pairs.
    alpha : penalty; ``None`` picks it from ``alphas`` by ``cv``-fold cross-validation; ``0``
        gives minimum-norm least squares. The intercept is never penalised.
    alphas, cv, seed : the grid, fold count and fold shuffling seed.
    name, units : copied onto ``form_``.

    Fitted: ``form_``, ``coef_``, ``intercept_``, ``alpha_``, ``cv_scores_`` (out-of-fold R^2
    per alpha, ``None`` when ``alpha`` was given), ``feature_map_``.
    """

    _parameter_constraints = {
        "space": SPACE,
        "terms": TERMS,
        "alpha": [Interval("real", 0, None), None],
        "alphas": [Check(_penalty_grid, "a non-empty list of finite floats >= 0")],
        "cv": [Interval("int", 2, None)],
        "seed": SEED,
        "name": [str],
        "units": [str],
    }

    def __init__(self, space: SearchSpace, *, terms="pairwise", alpha: float | None = None,
                 alphas=DEFAULT_ALPHAS, cv: int = 5, seed: int | None = 0,
                 name: str = "", units: str = "") -> None:
        self.space = space
        self.terms = terms
        self.alpha = alpha
        self.alphas = alphas
        self.cv = cv
        self.seed = seed
        self.name = name
        self.units = units

    def fit(self, X, y) -> QuadraticRegressor:
        p = self._validate_params()
        C, y = self._xy(X, y)
        alpha = p["alpha"]
        fmap = FeatureMap.from_terms(self.space, self.terms)
        design = fmap.transform(C)
        cv_scores = None
        if alpha is None:
            alphas = np.asarray(self.alphas, dtype=float).ravel()
            cv = check_value(p["cv"], [Interval("int", 2, C.shape[0])], "cv",
                             type(self).__name__)
            rng = np.random.default_rng(p["seed"])
            cv_scores = cv_ridge(design, y, alphas, cv, rng)
            alpha = float(alphas[int(np.argmax(cv_scores))])
            log.debug("QuadraticRegressor: cv picked alpha=%g (R^2 %.4f)", alpha, cv_scores.max())
        W, b0 = RidgePath(design, y).coefs([alpha])
        self.alpha_ = alpha
        self.cv_scores_ = cv_scores
        self._set_form(fmap, float(b0[0]), W[:, 0])
        return self


__all__ = ["BaseEstimator", "QuadraticModel", "QuadraticRegressor", "RidgePath", "clone",
           "cross_val_rmse", "out_of_fold", "DEFAULT_ALPHAS"]
