"""The model of each metric, chosen among candidates by out-of-fold quality on the samples at hand.

The objective is ranked (Kendall tau of the out-of-fold predictions, higher is better); a
resource is predicted against a budget (out-of-fold RMSE, lower is better). Candidates are tried
in order and the first of equals wins, so the simpler model is kept unless a richer one is
better on held-out samples. With fewer than ``MIN_SAMPLES`` samples the first candidate is taken.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from iqnas.calibration.estimators import BaseEstimator, QuadraticRegressor, out_of_fold
from iqnas.calibration.metrics import quality_report
from iqnas.calibration.ranker import PairwiseRanker
from iqnas.calibration.resource_models import LinearResourceModel, QuadraticResourceModel
from iqnas.errors import InputError
from iqnas.space import SearchSpace

log = logging.getLogger(__name__)

#: "auto" chooses among these term sets
AUTO_TERMS = ("linear", "pairwise")
#: the objective's order under "auto": the pairwise model is kept unless linear ranks better
OBJECTIVE_AUTO_TERMS = ("pairwise", "linear")
#: below this many samples the first candidate is taken without a comparison
MIN_SAMPLES = 10
#: folds of the comparison
CV = 5
#: a candidate must beat the one kept by more than this to replace it (rank or relative RMSE)
MIN_GAIN = {"kendall_tau": 0.01, "rmse": 0.02}


@dataclass
class Choice:
    """The chosen unfitted ``estimator`` of ``metric`` (``name`` describes it), the out-of-fold
    ``scores`` of every candidate (name -> score by ``criterion``; empty when there was no
    comparison) and the chosen one's out-of-fold predictions ``oof`` (None if not computed)."""

    metric: str
    name: str
    estimator: BaseEstimator
    criterion: str
    scores: dict[str, float] = field(default_factory=dict)
    oof: np.ndarray | None = None


def describe(est: BaseEstimator) -> str:
    """A short name of an estimator: its class and terms, e.g. ``PairwiseRanker(pairwise)``."""
    terms = getattr(est, "terms", "linear" if isinstance(est, LinearResourceModel) else None)
    return f"{type(est).__name__}({terms})" if isinstance(terms, str) else type(est).__name__


def estimator_from(space: SearchSpace, description: str, name: str = "",
                   units: str = "") -> BaseEstimator | None:
    """The unfitted estimator ``describe`` names (None when it names none of the candidates),
    e.g. to refit the model a store recorded in its ``model_choice``."""
    cls_name, _, rest = str(description).partition("(")
    terms = rest.rstrip(")") or None
    if cls_name == "LinearResourceModel":
        return LinearResourceModel(space, name=name, units=units)
    if cls_name == "QuadraticResourceModel" and terms:
        return QuadraticResourceModel(space, terms=terms, alpha=1e-3, name=name, units=units)
    if cls_name in ("PairwiseRanker", "QuadraticRegressor") and terms:
        cls = PairwiseRanker if cls_name == "PairwiseRanker" else QuadraticRegressor
        return cls(space, terms=terms, name=name, units=units)
    return None


def term_options(terms) -> list:
    """The term sets to try: both of AUTO_TERMS for "auto", else the one given."""
    return list(AUTO_TERMS) if terms == "auto" else [terms]


def objective_candidates(space: SearchSpace, method: str, terms, name: str,
                         units: str = "") -> list[BaseEstimator]:
    """The ranker (``method="pairwise"``) or regressor of the objective, per term set."""
    cls = PairwiseRanker if method == "pairwise" else QuadraticRegressor
    options = OBJECTIVE_AUTO_TERMS if terms == "auto" else [terms]
    return [cls(space, terms=t, name=name, units=units) for t in options]


def resource_candidates(space: SearchSpace, resource_terms, name: str,
                        units: str = "") -> list[BaseEstimator]:
    """Linear per-option costs, and/or products of groups: with a fixed small ridge when
    ``resource_terms="pairwise"``, with the penalty picked by cross-validation under "auto"
    (a fixed penalty overfits when the samples are about as many as the features)."""
    if resource_terms == "linear":
        return [LinearResourceModel(space, name=name, units=units)]
    if resource_terms == "pairwise":
        return [QuadraticResourceModel(space, alpha=1e-3, name=name, units=units)]
    return [LinearResourceModel(space, name=name, units=units),
            QuadraticRegressor(space, terms="pairwise", name=name, units=units)]


def choose(metric: str, candidates: Sequence[BaseEstimator], X: np.ndarray, y: np.ndarray,
           criterion: str, seed: int = 0, need_oof: bool = False) -> Choice:
    """The best of ``candidates`` for the rows of ``X``/``y`` where ``y`` is finite, by the
    out-of-fold ``criterion`` ("kendall_tau" or "rmse"). ``need_oof``: compute the chosen
    one's out-of-fold predictions even without a comparison (for conformal margins)."""
    ok = np.isfinite(y)
    X, y = X[ok], y[ok]
    n = len(y)
    first = candidates[0]
    if n < 4 or (len(candidates) == 1 and not need_oof):
        return Choice(metric, describe(first), first, criterion)
    if len(candidates) == 1 or n < MIN_SAMPLES:
        oof = _oof(first, X, y, seed)
        return Choice(metric, describe(first), first, criterion, oof=_scatter(oof, ok))
    scores, preds = {}, {}
    best = None
    for est in candidates:
        pred = _oof(est, X, y, seed)
        rep = quality_report(y, pred) if pred is not None else {}
        score = float(rep.get(criterion, np.nan))
        label = describe(est)
        scores[label], preds[label] = score, pred
        if not np.isfinite(score):
            continue
        if best is None or _better(score, scores[describe(best)], criterion):
            best = est
    best = first if best is None else best
    label = describe(best)
    log.debug("model of %s: %s (%s %s)", metric, label, criterion, scores)
    return Choice(metric, label, best, criterion, scores, _scatter(preds[label], ok))


def _better(score: float, kept: float, criterion: str) -> bool:
    if not np.isfinite(kept):
        return True
    if criterion == "rmse":
        return score < kept * (1 - MIN_GAIN["rmse"])
    return score > kept + MIN_GAIN[criterion]


def _oof(est: BaseEstimator, X: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray | None:
    if np.ptp(y) == 0:
        return None
    try:
        return out_of_fold(est, X, y, CV, seed)
    except (InputError, ValueError, np.linalg.LinAlgError) as exc:  # e.g. a constant fold
        log.debug("out-of-fold %s failed: %s", describe(est), exc)
        return None


def _scatter(pred: np.ndarray | None, ok: np.ndarray) -> np.ndarray | None:
    """Predictions of the finite rows placed back at their positions (NaN elsewhere)."""
    if pred is None:
        return None
    out = np.full(len(ok), np.nan)
    out[ok] = pred
    return out


__all__ = ["AUTO_TERMS", "Choice", "choose", "describe", "estimator_from", "objective_candidates",
           "resource_candidates", "term_options"]
