"""Training-free statistics of clusters: a seeded ~10 % of each cluster is measured, each member
gets a score, and a cluster's score is the mean over its measured members with a percentile
bootstrap interval.

Scores (``SCORES``):

* ``naswot``: the NASWOT metric (the oracle's ``naswot`` column, or ``naswot_<dataset>`` of the
  NB201 table, e.g. ``naswot_c100``).
* ``freerea``: FreeREA's combined score of NASWOT, LogSynflow and (nb201) the skip metric,
  :class:`~iqnas.calibration.proxies.FreeREAScore` with its normalisation fitted on every
  measured member of every cluster, so clusters are compared on one fixed scale.

Non-finite values (NASWOT's -inf on cells without a path from input to output) become the finite
minimum over all measured members, as FreeREA's loader does with the column minimum.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from iqnas._progress import progress_bar
from iqnas.calibration.proxies import FreeREAScore, skip_score
from iqnas.calibration.training_free import default_metrics, resolve_columns
from iqnas.errors import InputError
from iqnas.oracles.oracle import Oracle
from iqnas.space import Architecture, SearchSpace

SCORES = ("naswot", "freerea")


def score_metrics(score: str, space: SearchSpace) -> tuple[str, ...]:
    """The training-free metrics a score combines."""
    if score not in SCORES:
        raise InputError(f"unknown score {score!r}; use one of {', '.join(SCORES)}")
    return ("naswot",) if score == "naswot" else tuple(default_metrics(space))


def metric_columns(oracle: Oracle, score: str) -> dict[str, str | None]:
    """Oracle column of each metric of ``score`` (None: computed from the architecture)."""
    return resolve_columns(oracle, score_metrics(score, oracle.space))


def measure(oracle: Oracle, columns: Mapping[str, str | None], space: SearchSpace,
            C: np.ndarray, progress: bool | None = None) -> pd.DataFrame:
    """One row per architecture of ``C`` (choices), one column per metric."""
    archs = [Architecture(space, tuple(int(v) for v in row)) for row in C]
    wanted = [c for c in columns.values() if c is not None]
    if not wanted:
        values = pd.DataFrame(index=range(len(archs)))
    elif type(oracle).measure_many is not Oracle.measure_many or not len(archs):
        values = oracle.measure_many(C).reset_index(drop=True)  # a table: vectorised
    else:  # measured one by one (live proxies): show progress
        rows = []
        with progress_bar(progress, "measuring training-free metrics", len(archs)) as advance:
            for a in archs:
                rows.append(oracle.measure(a))
                advance()
        values = pd.DataFrame(rows)
    out = {}
    for m, col in columns.items():
        out[m] = (np.array([skip_score(a) for a in archs]) if col is None
                  else values[col].to_numpy(dtype=float))
    return pd.DataFrame(out)


def combine(score: str, frame: pd.DataFrame) -> tuple[np.ndarray, dict | None]:
    """Per-row score of measured metrics and, for ``freerea``, the fitted normalisation."""
    if score == "naswot":
        v = frame["naswot"].to_numpy(dtype=float)
        finite = np.isfinite(v)
        if not finite.any():
            raise InputError("no measured architecture has a finite NASWOT value")
        return np.where(finite, v, v[finite].min()), None
    scorer = FreeREAScore(tuple(frame.columns)).fit(frame)
    return np.asarray(scorer.score(frame), dtype=float), scorer.to_dict()


def pick_scored(labels: np.ndarray, eligible: np.ndarray, k: int, fraction: float,
                min_scored: int, max_scored: int | None,
                rng: np.random.Generator) -> list[np.ndarray]:
    """Per cluster, the sample rows to measure: a seeded ``fraction`` of its eligible members
    (rounded up), at least ``min_scored`` (all of them if fewer), at most ``max_scored``."""
    out = []
    for c in range(k):
        members = np.flatnonzero((labels == c) & eligible)
        n = max(min_scored, math.ceil(fraction * len(members)))
        if max_scored is not None:
            n = min(n, max_scored)
        n = min(n, len(members))
        out.append(np.sort(rng.choice(members, size=n, replace=False)) if n else members[:0])
    return out


def bootstrap_interval(values: np.ndarray, n_boot: int, level: float,
                       rng: np.random.Generator) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (NaN, NaN when empty)."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return math.nan, math.nan
    if v.size == 1 or n_boot <= 0:
        return float(v.mean()), float(v.mean())
    means = v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def cluster_scores(values: np.ndarray, scored: Sequence[np.ndarray], n_boot: int, level: float,
                   rng: np.random.Generator) -> list[dict]:
    """Mean score, interval and count per cluster; ``values`` follows the concatenated
    ``scored`` rows."""
    out, start = [], 0
    for rows in scored:
        v = values[start:start + len(rows)]
        start += len(rows)
        lo, hi = bootstrap_interval(v, n_boot, level, rng)
        out.append({"score": float(v.mean()) if v.size else math.nan, "score_lo": lo,
                    "score_hi": hi, "n_scored": int(v.size)})
    return out


__all__ = ["SCORES", "bootstrap_interval", "cluster_scores", "combine", "measure",
           "metric_columns", "pick_scored", "score_metrics"]
