"""Percentile bootstrap intervals for coefficient rows, by refitting on resampled samples."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable

import numpy as np

from iqnas._validation import finite_vector
from iqnas.errors import InputError
from iqnas.quadform import QuadraticForm
from iqnas.space import SearchSpace

log = logging.getLogger(__name__)

KEY = ("table", "metric", "group", "option", "reference", "group2", "option2")


def row_key(r: dict) -> tuple:
    return tuple(r[c] for c in KEY)


def parse_samples(space: SearchSpace, samples, metric: str | None) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` or a DataFrame with a ``key`` column and a ``metric`` column -> (choices, y)."""
    import pandas as pd

    from iqnas.calibration.features import as_choices

    if isinstance(samples, pd.DataFrame):
        if "key" not in samples.columns:
            raise InputError("samples table needs a 'key' column with architecture keys")
        if metric is None or metric not in samples.columns:
            cols = [c for c in samples.columns if c != "key"]
            raise InputError(f"samples table: give metric= one of its columns {cols}, got "
                             f"{metric!r}")
        X, y = samples["key"].tolist(), samples[metric].to_numpy()
        what = f"samples[{metric!r}]"
    elif isinstance(samples, (tuple, list)) and len(samples) == 2:
        X, y = samples
        what = "samples: y"
    else:
        raise InputError("samples must be an (X, y) pair or a DataFrame with 'key' and metric "
                         "columns")
    C = as_choices(space, X)
    y = finite_vector(y, what, "drop rows without a measurement")
    if C.shape[0] != y.shape[0]:
        raise InputError(f"samples: X has {C.shape[0]} rows but y has {y.shape[0]} values")
    if C.shape[0] < 3:
        raise InputError(f"samples: the bootstrap needs at least 3 samples, got {C.shape[0]}")
    return C, y


def default_estimator(form: QuadraticForm):
    """A QuadraticRegressor with the form's group pairs (linear terms when it has none)."""
    from iqnas.calibration import QuadraticRegressor

    pairs = sorted(form.group_pairs())
    return QuadraticRegressor(form.space, terms=pairs if pairs else "linear")


def _clone(estimator):
    from iqnas.calibration.estimators import BaseEstimator, clone

    if isinstance(estimator, BaseEstimator):
        return clone(estimator)
    return copy.deepcopy(estimator)


def intervals(rows_of: Callable[[QuadraticForm], list[dict]], C: np.ndarray, y: np.ndarray,
              estimator, n_bootstrap: int, seed: int,
              level: float = 0.95) -> dict[tuple, tuple[float, float]]:
    """Refit ``estimator`` on ``n_bootstrap`` resamples of (C, y); percentile interval per row.

    A row missing from a refit's tables (a zero coefficient or interaction) counts as 0.
    """
    if not hasattr(estimator, "fit"):
        raise InputError(f"estimator must have a fit(X, y) method, got {type(estimator).__name__}")
    rng = np.random.default_rng(seed)
    n = C.shape[0]
    draws: dict[tuple, np.ndarray] = {}
    for b in range(n_bootstrap):
        idx = rng.integers(n, size=n)
        est = _clone(estimator).fit(C[idx], y[idx])
        form = getattr(est, "form_", None)
        if not isinstance(form, QuadraticForm):
            raise InputError(f"{type(estimator).__name__}.fit did not set form_ to a "
                             "QuadraticForm")
        for r in rows_of(form):
            k = row_key(r)
            if k not in draws:
                draws[k] = np.zeros(n_bootstrap)
            draws[k][b] = r["value"]
        log.debug("bootstrap refit %d/%d", b + 1, n_bootstrap)
    q = 100.0 * np.array([(1 - level) / 2, (1 + level) / 2])
    return {k: tuple(float(v) for v in np.percentile(d, q)) for k, d in draws.items()}
