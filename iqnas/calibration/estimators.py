"""scikit-learn-style estimators whose fitted model is an ``iqnas.QuadraticForm``.

The contract (no scikit-learn dependency): hyper-parameters are explicit keyword arguments of
``__init__``, which only stores them; ``get_params`` / ``set_params`` / ``clone`` work from the
signature; learned attributes end in ``_`` and are set only by ``fit``; ``fit`` returns ``self``;
using an unfitted estimator raises ``iqnas.errors.NotFittedError``. Every estimator takes the
search space first, accepts ``X`` as a list of architectures/keys or an (n, n_vars) one-hot
matrix, and exposes ``form_`` with ``predict(X) == form_.evaluate(X)``.
"""

from __future__ import annotations

import inspect
import logging
import math
import numbers

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from iqnas.calibration.features import FeatureMap, as_choices
from iqnas.calibration.metrics import quality_report
from iqnas.errors import InputError, NotFittedError
from iqnas.space import SearchSpace

log = logging.getLogger(__name__)

#: default ridge penalty grid searched by cross-validation (features are 0/1, so absolute)
DEFAULT_ALPHAS = tuple(float(a) for a in np.logspace(-4, 4, 17))
#: eigenvalues below this fraction of the largest are treated as exact zeros (min-norm solution)
_NULL_RTOL = 1e-10


class BaseEstimator:
    """Parameter introspection, repr and the fitted check shared by all estimators."""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        names = []
        for p in list(sig.parameters.values())[1:]:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ must list its parameters explicitly")
            names.append(p.name)
        return names

    def get_params(self, deep: bool = True) -> dict:
        """Hyper-parameters as passed to ``__init__`` (``deep`` is accepted for compatibility)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params) -> BaseEstimator:
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise InputError(f"Invalid parameter {name!r} for estimator "
                                 f"{type(self).__name__}; valid parameters are: "
                                 f"{', '.join(valid)}")
            setattr(self, name, value)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "form_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call "
                                 "'fit' with appropriate arguments before using this estimator.")

    def _check_space(self) -> SearchSpace:
        if not isinstance(self.space, SearchSpace):
            raise InputError(f"{type(self).__name__}: space must be a SearchSpace (e.g. "
                             f"iqnas.spaces.get('nb201')), got {type(self.space).__name__}")
        return self.space

    def _xy(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        C = as_choices(self._check_space(), X)
        y = np.asarray(y, dtype=float).ravel()
        if y.shape[0] != C.shape[0]:
            raise InputError(f"X has {C.shape[0]} rows but y has {y.shape[0]} values")
        bad = np.flatnonzero(~np.isfinite(y))
        if len(bad):
            raise InputError(f"y[{bad[0]}] is {y[bad[0]]}; drop rows without a measurement")
        if C.shape[0] < 2:
            raise InputError(f"{type(self).__name__} needs at least 2 samples, got {C.shape[0]}")
        return C, y

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__).parameters
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items()
                         if not isinstance(v, SearchSpace) and not _same(v, sig[k].default))
        space = getattr(self.space, "name", self.space)
        return f"{type(self).__name__}({space!r}{', ' + args if args else ''})"


def _same(a, b) -> bool:
    try:
        return bool(a is b or a == b)
    except (TypeError, ValueError):
        return False


def clone(estimator: BaseEstimator) -> BaseEstimator:
    """A new unfitted estimator with the same hyper-parameters."""
    return type(estimator)(**estimator.get_params())


def out_of_fold(estimator: BaseEstimator, X, y, cv: int = 5, random_state: int = 0) -> np.ndarray:
    """Each row's prediction by ``estimator`` refitted without that row's fold."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    cv = min(cv, max(2, n // 2))
    pred = np.empty(n)
    for val in kfold(n, cv, np.random.default_rng(random_state)):
        train = np.setdiff1d(np.arange(n), val)
        pred[val] = clone(estimator).fit(X[train], y[train]).predict(X[val])
    return pred


def cross_val_rmse(estimator: BaseEstimator, X, y, cv: int = 5, random_state: int = 0) -> float:
    """Out-of-fold root mean squared error of ``estimator``."""
    y = np.asarray(y, dtype=float)
    return math.sqrt(float(np.mean((out_of_fold(estimator, X, y, cv, random_state) - y) ** 2)))


def check_param(est, name: str, kind: str, *, low: float | None = None, high: float | None = None,
                options: tuple = (), allow_none: bool = False, low_open: bool = False):
    """Validate one hyper-parameter at ``fit`` time with a uniform message."""
    v = getattr(est, name)
    what = {"float": "a float", "int": "an int", "str": "one of " + ", ".join(map(repr, options))}
    desc = what[kind]
    if kind != "str" and (low is not None or high is not None):
        lo = "(" if low_open else "["
        desc += f" in the range {lo}{'-inf' if low is None else low}, "
        desc += f"{'inf' if high is None else high}]"
    if allow_none:
        desc += " or None"
    if v is None and allow_none:
        return v
    ok = False
    if kind == "str":
        ok = isinstance(v, str) and v in options
    elif kind in ("float", "int") and not isinstance(v, bool):
        ok = isinstance(v, numbers.Integral) if kind == "int" else isinstance(v, numbers.Real)
        if ok:
            ok = np.isfinite(float(v))
            ok = ok and (low is None or (v > low if low_open else v >= low))
            ok = ok and (high is None or v <= high)
    if not ok:
        raise InputError(f"The {name!r} parameter of {type(est).__name__} must be {desc}. "
                         f"Got {v!r} instead.")
    return v


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

    def score(self, X, y) -> float:
        """Coefficient of determination R^2 of ``predict(X)`` against ``y``."""
        C, y = self._xy(X, y)
        return quality_report(y, self.predict(C))["r2"]

    def report(self, X, y) -> dict[str, float]:
        """``quality_report(y, predict(X))``."""
        C, y = self._xy(X, y)
        return quality_report(y, self.predict(C))


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
    alphas, cv, random_state : the grid, fold count and fold shuffling seed.
    name, units : copied onto ``form_``.

    Fitted: ``form_``, ``coef_``, ``intercept_``, ``alpha_``, ``cv_scores_`` (out-of-fold R^2
    per alpha, ``None`` when ``alpha`` was given), ``feature_map_``.
    """

    def __init__(self, space: SearchSpace, *, terms="pairwise", alpha: float | None = None,
                 alphas=DEFAULT_ALPHAS, cv: int = 5, random_state: int | None = 0,
                 name: str = "", units: str = "") -> None:
        self.space = space
        self.terms = terms
        self.alpha = alpha
        self.alphas = alphas
        self.cv = cv
        self.random_state = random_state
        self.name = name
        self.units = units

    def fit(self, X, y) -> QuadraticRegressor:
        C, y = self._xy(X, y)
        alpha = check_param(self, "alpha", "float", low=0.0, allow_none=True)
        fmap = FeatureMap.from_terms(self.space, self.terms)
        design = fmap.transform(C)
        cv_scores = None
        if alpha is None:
            alphas = np.asarray(self.alphas, dtype=float).ravel()
            if alphas.size == 0 or not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
                raise InputError(f"The 'alphas' parameter of {type(self).__name__} must be a "
                                 f"non-empty list of finite floats >= 0. Got {self.alphas!r}.")
            cv = check_param(self, "cv", "int", low=2, high=C.shape[0])
            rng = np.random.default_rng(self.random_state)
            cv_scores = cv_ridge(design, y, alphas, cv, rng)
            alpha = float(alphas[int(np.argmax(cv_scores))])
            log.debug("QuadraticRegressor: cv picked alpha=%g (R^2 %.4f)", alpha, cv_scores.max())
        W, b0 = RidgePath(design, y).coefs([alpha])
        self.alpha_ = alpha
        self.cv_scores_ = cv_scores
        self._set_form(fmap, float(b0[0]), W[:, 0])
        return self


__all__ = ["BaseEstimator", "QuadraticModel", "QuadraticRegressor", "RidgePath", "clone",
           "DEFAULT_ALPHAS"]
