"""Tightening rows: the convex hull of a cell's feature vectors, for spaces small enough to list.

The Voronoi rows of a cell are exact on integer points, but their LP relaxation is weak: a
fractional one-hot vector mixes architectures inside and outside the cell. When every feature
vector the space can take is known (an enumerable space: NB201 has 210 distinct op counts), the
facets of the convex hull of the cell's member vectors are the tightest linear description of the
cell in feature space. They are added as valid inequalities: every member satisfies them by
construction (each bound is the largest value over the members, computed exactly) and the
Voronoi rows still exclude every non-member, so the member set is unchanged and only the
relaxation gets tighter (on fitted NB201 models SCIP then needs about as many nodes as without
the cell; see BENCHMARKS.md).

Facet normals are rounded to ``NORMAL_BITS`` binary digits, so every value stays an exact binary
fraction (as in :mod:`iqnas.reduction.cells`); a rounded normal still gives a supporting
hyperplane, only perhaps not a facet.
"""

from __future__ import annotations

import logging

import numpy as np

from iqnas.reduction.features import LinearFeatures

log = logging.getLogger(__name__)

NORMAL_BITS = 10
#: hulls are computed in at most this many affine dimensions, with at most this many facets
MAX_DIMENSIONS = 8
MAX_FACETS = 200


def hull_rows(features: LinearFeatures, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(coef, ub)`` rows ``coef @ x <= ub`` from the hull of the distinct member vectors
    ``members`` (clustered coordinates, (m, d)); empty when the hull is degenerate or too big."""
    from scipy.spatial import ConvexHull, QhullError

    empty = (np.zeros((0, features.space.n_vars)), np.zeros(0))
    V = np.unique(np.asarray(members, dtype=float), axis=0)
    if len(V) < 2:
        return empty
    origin = V.mean(axis=0)
    _, sv, vt = np.linalg.svd(V - origin, full_matrices=False)
    rank = int((sv > 1e-9 * max(sv[0], 1.0)).sum())
    if rank < 1 or rank > MAX_DIMENSIONS or len(V) <= rank:
        return empty
    basis = vt[:rank]                                   # (rank, d), orthonormal rows
    P = (V - origin) @ basis.T
    if rank == 1:
        normals = np.array([[1.0], [-1.0]])
    else:
        try:
            hull = ConvexHull(P)
        except QhullError as exc:
            log.info("no hull rows: %s", str(exc).splitlines()[0])
            return empty
        normals = hull.equations[:, :-1]
    if len(normals) > MAX_FACETS:
        log.info("no hull rows: %d facets", len(normals))
        return empty
    a = normals @ basis                                 # back to feature space
    scale = 2.0 ** NORMAL_BITS / np.abs(a).max(axis=1, keepdims=True)
    a = np.unique(np.round(a * scale) / 2.0 ** NORMAL_BITS, axis=0)
    ub = (V @ a.T).max(axis=0)                          # exact: binary fractions
    coef = (a * features.weights) @ features.matrix
    return coef, ub + a @ features.center


__all__ = ["hull_rows"]
