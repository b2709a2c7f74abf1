"""Voronoi cells of rounded centroids as exact linear rows of the one-hot vector.

With clustered coordinates ``f(x) = weights * (matrix @ x) - center`` (linear in ``x``), the cell
of centroid ``k`` among centroids ``c_0..c_{K-1}`` is, for every other ``j``,

    d_kj(x) = ||f - c_k||^2 - ||f - c_j||^2 = 2 (c_j - c_k) . f - (||c_j||^2 - ||c_k||^2) <= 0,

one linear row per ``j``. Membership is the nearest centroid; a tie goes to the lowest index, so
the inequality against a lower ``j`` is strict.

Exactness: the centroids are rounded to multiples of ``CENTROID_GRID`` (a power of two), the
weights are powers of two and ``matrix`` and ``center`` are integer and grid multiples, so every
number here is a short binary fraction and float64 computes it without rounding. ``d_kj`` is then
always a multiple of ``resolution(...)`` (``u``), and the rows

    2 (c_j - c_k) . f <= ||c_j||^2 - ||c_k||^2 + u/2    (j > k)
    2 (c_j - c_k) . f <= ||c_j||^2 - ||c_k||^2 - u/2    (j < k, strict)

hold exactly when ``d_kj <= 0`` and ``d_kj < 0``: every architecture is at least ``u/2`` away from
every bound, so the rows, the nearest-centroid rule and a solver's feasibility tolerance agree.
"""

from __future__ import annotations

import numpy as np

from iqnas.errors import InputError
from iqnas.problem import LinearConstraint
from iqnas.reduction.features import LinearFeatures

#: centroid coordinates are multiples of this power of two
CENTROID_GRID = 2.0 ** -4
#: float64 computes sums of multiples of u exactly while they stay below 2**MAX_BITS * u
MAX_BITS = 50


def round_centroids(centroids: np.ndarray) -> np.ndarray:
    """Centroids rounded to multiples of ``CENTROID_GRID``."""
    c = np.asarray(centroids, dtype=float)
    return np.round(c / CENTROID_GRID) * CENTROID_GRID


def on_grid(values: np.ndarray, grid: float) -> bool:
    v = np.asarray(values, dtype=float) / grid
    return bool(np.all(np.isfinite(v)) and np.array_equal(v, np.round(v)))


def resolution(features: LinearFeatures) -> float:
    """``u``: every ``d_kj(x)`` of a valid architecture is a multiple of it."""
    coordinate = min(features.grid, CENTROID_GRID)
    return min(2.0 * CENTROID_GRID * coordinate, CENTROID_GRID ** 2)


def check_exact(features: LinearFeatures, centroids: np.ndarray) -> None:
    """Raise InputError unless the centroids and the center lie on their grids and every row
    stays within the exactly representable range."""
    c = np.asarray(centroids, dtype=float)
    if c.ndim != 2 or c.shape[1] != features.n_features:
        raise InputError(f"centroids must have shape (k, {features.n_features}), got {c.shape}")
    if not on_grid(c, CENTROID_GRID):
        raise InputError(f"centroids must be multiples of {CENTROID_GRID:g} (rounded with "
                         "round_centroids)")
    if not on_grid(features.center, min(features.grid, CENTROID_GRID)):
        raise InputError("the feature center must lie on the coordinate grid")
    span = np.abs(features.matrix).sum(axis=1) * features.weights + np.abs(features.center)
    bound = float(np.sum((span + np.abs(c).max(axis=0)) ** 2)) * 4.0
    if bound >= 2.0 ** MAX_BITS * resolution(features):
        raise InputError("the features are too large for exact Voronoi rows; use smaller "
                         "weights")


def distances(features: LinearFeatures, centroids: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Squared distances (n, k) of one-hot rows to the centroids (exact)."""
    Z = features.scaled(X)
    c = np.asarray(centroids, dtype=float)
    return ((Z[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)


def nearest(features: LinearFeatures, centroids: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid of each one-hot row; ties go to the lowest index."""
    return np.argmin(distances(features, centroids, X), axis=1)


def nearest_points(centroids: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid of each point ``Z`` (clustered coordinates); ties go to the
    lowest index."""
    c = np.asarray(centroids, dtype=float)
    return np.argmin(((Z[:, None, :] - c[None, :, :]) ** 2).sum(axis=2), axis=1)


def cell_rows(features: LinearFeatures, centroids: np.ndarray,
              k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(others, coef, ub)``: the cell of centroid ``k`` is ``coef @ x <= ub`` (row by row),
    one row against each other centroid ``others[r]``."""
    c = np.asarray(centroids, dtype=float)
    K = c.shape[0]
    if not 0 <= k < K:
        raise InputError(f"cluster index {k} out of range 0..{K - 1}")
    half = resolution(features) / 2.0
    others = np.array([j for j in range(K) if j != k], dtype=np.int64)
    diff = 2.0 * (c[others] - c[k])                       # (K-1, d)
    coef = (diff * features.weights) @ features.matrix     # (K-1, n_vars)
    sq = (c ** 2).sum(axis=1)
    ub = diff @ features.center + sq[others] - sq[k] + np.where(others > k, half, -half)
    return others, coef, ub


def linear_constraints(features: LinearFeatures, centroids: np.ndarray, k: int,
                       prefix: str = "cluster") -> tuple[LinearConstraint, ...]:
    """The cell of centroid ``k`` as ``LinearConstraint`` rows for ``Problem``."""
    others, coef, ub = cell_rows(features, centroids, k)
    return tuple(LinearConstraint(f"{prefix}{k}_vs_{j}", coef[r], ub=float(ub[r]))
                 for r, j in enumerate(others))


def in_cell(features: LinearFeatures, centroids: np.ndarray, k: int,
            X: np.ndarray) -> np.ndarray:
    """Which one-hot rows satisfy every row of the cell of ``k``."""
    _, coef, ub = cell_rows(features, centroids, k)
    return np.all(np.asarray(X, dtype=float) @ coef.T <= ub[None, :], axis=1)


__all__ = ["CENTROID_GRID", "cell_rows", "check_exact", "distances", "in_cell",
           "linear_constraints", "nearest", "nearest_points", "resolution", "round_centroids"]
