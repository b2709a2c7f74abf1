"""PairwiseRanker: BRP-NAS's binary relation, made antisymmetric by a quadratic score."""

from __future__ import annotations

import logging

import numpy as np
import scipy.optimize
from scipy.special import expit

from iqnas._validation import Boolean, Interval
from iqnas.calibration.estimators import SEED, SPACE, TERMS, QuadraticModel
from iqnas.calibration.features import FeatureMap, as_choices
from iqnas.calibration.metrics import quality_report
from iqnas.errors import InputError
from iqnas.space import SearchSpace

log = logging.getLogger(__name__)

#: pairs used when ``n_pairs=None`` and the data has more distinct pairs than this
MAX_PAIRS = 20_000


class PairwiseRanker(QuadraticModel):
    """Learn a quadratic score ``f`` with ``P(a better than b) = sigmoid((f(a) - f(b)) / scale_)``.

    The loss is the mean logistic loss of ``f(a) - f(b)`` over pairs with ``y_a > y_b`` plus
    ``alpha / 2 * ||w||^2`` on the feature weights, minimised by L-BFGS. Because one score is
    compared, ``P(a > b) + P(b > a) == 1`` exactly. Pairs with equal ``y`` are skipped.

    Parameters
    ----------
    space : SearchSpace
    terms : as for ``QuadraticRegressor`` ("pairwise", "bilinear", "linear" or group pairs).
    alpha : L2 penalty on the weights (the intercept does not enter the loss).
    n_pairs : pairs to train on; ``None`` uses all pairs up to 20,000 and samples otherwise.
    calibrate : if True, ``f`` is mapped to the metric's units by least squares of ``y`` on the
        raw score (``y ~ intercept_ + scale_ * raw``, kept only if ``scale_ > 0``), so
        ``predict`` and ``form_`` read like the metric; ranks and probabilities do not change.
        If False, ``scale_ = 1`` and the intercept is set so the mean prediction equals mean(y).
    seed : seed for pair sampling.
    name, units : copied onto ``form_``.

    ``predict(X)`` returns ``f`` (a ranking score; in the metric's units only approximately, and
    only with ``calibrate=True``). ``score(X, y)`` is Kendall's tau.
    """

    _parameter_constraints = {
        "space": SPACE,
        "terms": TERMS,
        "alpha": [Interval("real", 0, None, closed="neither")],
        "n_pairs": [Interval("int", 1, None), None],
        "calibrate": [Boolean()],
        "seed": SEED,
        "max_iter": [Interval("int", 1, None)],
        "name": [str],
        "units": [str],
    }

    def __init__(self, space: SearchSpace, *, terms="pairwise", alpha: float = 1e-3,
                 n_pairs: int | None = None, calibrate: bool = True,
                 seed: int | None = 0, max_iter: int = 500, name: str = "",
                 units: str = "") -> None:
        self.space = space
        self.terms = terms
        self.alpha = alpha
        self.n_pairs = n_pairs
        self.calibrate = calibrate
        self.seed = seed
        self.max_iter = max_iter
        self.name = name
        self.units = units

    def fit(self, X, y) -> PairwiseRanker:
        p = self._validate_params()
        C, y = self._xy(X, y)
        alpha, n_pairs, max_iter = p["alpha"], p["n_pairs"], p["max_iter"]
        fmap = FeatureMap.from_terms(self.space, self.terms)
        design = fmap.transform(C)
        rng = np.random.default_rng(p["seed"])
        win, lose = _pairs(y, n_pairs, rng)
        if len(win) == 0:
            raise InputError("PairwiseRanker needs at least two different y values")
        diff = (design[win] - design[lose]).tocsr()
        m = diff.shape[0]

        def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
            z = diff @ w
            val = np.logaddexp(0.0, -z).mean() + 0.5 * alpha * (w @ w)
            grad = -(diff.T @ expit(-z)) / m + alpha * w
            return float(val), grad

        res = scipy.optimize.minimize(loss, np.zeros(fmap.n_features), jac=True,
                                      method="L-BFGS-B", options={"maxiter": max_iter})
        if not res.success:
            log.warning("PairwiseRanker: L-BFGS stopped early (%s); raise max_iter or alpha",
                        res.message)
        w = res.x
        raw = design @ w
        scale = 1.0
        if p["calibrate"] and np.ptp(raw) > 0:
            slope = float(np.polyfit(raw, y, 1)[0])
            scale = slope if slope > 0 else 1.0
        intercept = float(y.mean() - scale * raw.mean())
        self.scale_ = scale
        self.n_pairs_ = m
        self.n_iter_ = int(res.nit)
        self._set_form(fmap, intercept, scale * w)
        return self

    def decision_difference(self, A, B) -> np.ndarray:
        """``(f(a) - f(b)) / scale_`` row by row: the logit of ``P(a > b)``."""
        self._check_fitted()
        ca, cb = as_choices(self.space, A), as_choices(self.space, B)
        if ca.shape[0] != cb.shape[0]:
            raise InputError(f"A has {ca.shape[0]} rows but B has {cb.shape[0]}; pair them up")
        return (self.predict(ca) - self.predict(cb)) / self.scale_

    def predict_proba(self, A, B) -> np.ndarray:
        """``P(a > b)`` per row; exactly ``1 - predict_proba(B, A)``."""
        d = self.decision_difference(A, B)
        hi = expit(np.abs(d))  # in [0.5, 1], so 1 - hi is exact and the two sum to 1 exactly
        return np.where(d >= 0, hi, 1.0 - hi)

    def score(self, X, y) -> float:
        """Kendall's tau between ``predict(X)`` and ``y``."""
        C, y = self._xy(X, y)
        return quality_report(y, self.predict(C))["kendall_tau"]


def _pairs(y: np.ndarray, n_pairs: int | None, rng: np.random.Generator):
    """(winner, loser) row indices of pairs with different y."""
    n = y.shape[0]
    total = n * (n - 1) // 2
    limit = MAX_PAIRS if n_pairs is None else n_pairs
    if total <= limit:
        i, j = np.triu_indices(n, k=1)
    else:
        i = rng.integers(n, size=limit)
        j = (i + rng.integers(1, n, size=limit)) % n  # uniform over j != i
    keep = y[i] != y[j]
    i, j = i[keep], j[keep]
    first = y[i] > y[j]
    return np.where(first, i, j), np.where(first, j, i)


__all__ = ["PairwiseRanker"]
