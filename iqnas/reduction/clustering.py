"""k-means on the clustered coordinates of a sample, with rounded centroids; K by silhouette.

Many architectures share one feature vector (NB201's 15,625 cells have 210 distinct op counts),
so k-means runs on the distinct vectors weighted by how often each occurs: the same objective as
on every row, much faster. The centroids are then rounded to the exact grid of
:mod:`iqnas.reduction.cells`, every sample row is re-assigned to its nearest rounded centroid,
and centroids left without a member are dropped (that changes no member's label: a cell only
grows when a centroid disappears).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from iqnas.errors import InputError
from iqnas.reduction.cells import round_centroids

log = logging.getLogger(__name__)

#: rows the silhouette of each candidate K is computed on (a seeded subsample)
SILHOUETTE_SAMPLE = 4000


def require_sklearn():
    """The ``sklearn`` module, or an InputError saying how to install it."""
    try:
        import sklearn
    except ImportError:
        raise InputError("search-space reduction needs scikit-learn: pip install "
                         "'iqnas[reduce]'") from None
    return sklearn


def distinct(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, inverse, counts)`` of the distinct rows of ``Z``."""
    rows, inverse, counts = np.unique(Z, axis=0, return_inverse=True, return_counts=True)
    return rows, inverse.ravel(), counts


def kmeans(Z: np.ndarray, k: int, seed: int, n_init: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """``(centroids, labels)``: k-means (k-means++ starts, ``n_init`` runs, ``seed``) on the
    rows of ``Z``, centroids rounded to the exact grid, empty ones dropped (labels follow)."""
    require_sklearn()
    from sklearn.cluster import KMeans

    rows, inverse, counts = distinct(Z)
    if k > len(rows):
        raise InputError(f"k = {k} is more than the {len(rows)} distinct feature vectors of the "
                         f"sample; use k <= {len(rows)}")
    km = KMeans(n_clusters=k, n_init=n_init, random_state=seed)
    km.fit(rows, sample_weight=counts)
    centroids = round_centroids(km.cluster_centers_)
    while True:
        d = ((rows[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
        near = np.argmin(d, axis=1)
        used = np.bincount(near, weights=counts, minlength=len(centroids)) > 0
        if used.all():
            break
        log.warning("%d of %d rounded centroids have no member; dropped", int((~used).sum()),
                    len(centroids))
        centroids = centroids[used]
    return centroids, near[inverse]


def silhouette(Z: np.ndarray, labels: np.ndarray, seed: int) -> float:
    """Silhouette of a labelling on a seeded subsample of at most ``SILHOUETTE_SAMPLE`` rows."""
    from sklearn.metrics import silhouette_score

    if len(np.unique(labels)) < 2:
        return float("nan")
    n = min(len(Z), SILHOUETTE_SAMPLE)
    return float(silhouette_score(Z, labels, sample_size=n, random_state=seed))


def choose_k(Z: np.ndarray, k_range: Sequence[int], seed: int,
             n_init: int = 10) -> tuple[int, dict[int, float]]:
    """The K of ``k_range`` with the largest silhouette (the smallest such K on ties), and the
    silhouette of each candidate."""
    n_distinct = len(distinct(Z)[0])
    scores: dict[int, float] = {}
    for k in k_range:
        if k > n_distinct:
            break
        centroids, labels = kmeans(Z, int(k), seed, n_init)
        scores[int(k)] = silhouette(Z, labels, seed)
    finite = {k: s for k, s in scores.items() if np.isfinite(s)}
    if not finite:
        raise InputError(f"no K in {list(k_range)} gives two or more clusters of the sample")
    best = max(finite, key=lambda k: (finite[k], -k))
    log.info("silhouette per K: %s; K = %d", {k: round(s, 4) for k, s in scores.items()}, best)
    return best, scores


__all__ = ["choose_k", "distinct", "kmeans", "require_sklearn", "silhouette"]
