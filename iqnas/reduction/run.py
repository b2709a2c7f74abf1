"""``iqnas.reduce``: cluster a space on linear op-usage features, score the clusters by
training-free statistics and return the best one as a :class:`~iqnas.reduction.Cluster`.

1. The clustering sample is every architecture of an enumerable space (up to 200,000, e.g.
   NB201's 15,625), else ``n_samples`` uniform ones (an oracle that measures only some
   architectures, such as a CSV file, gives its own architectures instead).
2. k-means (``n_init`` k-means++ starts, ``seed``) on the scaled features; ``k=None`` picks K of
   ``k_range`` by silhouette. The rounded centroids' Voronoi cells are the clusters.
   With ``constraints``, k-means runs on the sample's architectures within every budget (the
   clusters of the feasible set, as C-BRED filters by hardware first); the cells still cover
   the whole space and every sample member is assigned to one.
3. A seeded ``score_fraction`` of each cluster's members (of those within every budget) is
   measured by the oracle; a cluster's score is the mean member score, with a percentile
   bootstrap interval. The cluster with the highest score is selected.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

from iqnas import spaces
from iqnas._validation import InstanceOf, Interval, Options, validate_params
from iqnas.calibration.samplers import UniformSampler
from iqnas.errors import InputError
from iqnas.oracles.oracle import Oracle
from iqnas.reduction import budgets as budgeting
from iqnas.reduction import cells, scoring
from iqnas.reduction.cells import CENTROID_GRID
from iqnas.reduction.cluster import ENUMERATE_LIMIT, Cluster
from iqnas.reduction.clustering import choose_k, kmeans, require_sklearn
from iqnas.reduction.features import op_usage_features
from iqnas.space import SearchSpace

log = logging.getLogger(__name__)

#: architectures clustered when the space is too large to enumerate
DEFAULT_SAMPLES = 10_000
# independent random streams: default_rng([seed, tag])
_SAMPLE, _SCORED, _BOOT = 1, 2, 3


def _k_range(value) -> bool:
    return (isinstance(value, (tuple, list)) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            and 2 <= value[0] <= value[1])


@validate_params({
    "space": [InstanceOf((str, SearchSpace), "a space name or a SearchSpace")],
    "k": [Interval("int", 2, None), None],
    "score": [Options(scoring.SCORES)],
    "seed": [Interval("int", 0, None)],
    "oracle": [InstanceOf((str, Oracle), "an oracle name, a .csv path or an Oracle"), None],
    "dataset": [InstanceOf(str, "a dataset name"), None],
    "constraints": [InstanceOf(Mapping, "a mapping name -> budget or (form, budget)"), None],
    "n_samples": [Interval("int", 2, None), None],
    "score_fraction": [Interval("real", 0, 1, closed="right")],
    "min_scored": [Interval("int", 1, None)],
    "max_scored": [Interval("int", 1, None), None],
    "n_init": [Interval("int", 1, None)],
    "n_boot": [Interval("int", 0, None)],
    "level": [Interval("real", 0, 1, closed="neither")],
})
def reduce(space: str | SearchSpace, k: int | None = None, score: str = "freerea",
           seed: int = 0, *, oracle: str | Oracle | None = None, dataset: str | None = None,
           constraints: Mapping | None = None, n_samples: int | None = None,
           score_fraction: float = 0.1, min_scored: int = 5, max_scored: int | None = None,
           k_range: tuple[int, int] = (2, 12), n_init: int = 10, n_boot: int = 1000,
           level: float = 0.95, progress: bool | None = None) -> Cluster:
    """The best cluster of ``space`` by the training-free ``score``: "freerea" (FreeREA's
    combined NASWOT + LogSynflow (+ skip) score, the default) or "naswot" (NASWOT alone).

    ``k=None`` picks K of ``k_range`` (inclusive) by silhouette. ``oracle`` measures the
    score's metrics: by default the NB201 table (``dataset``, default cifar100) on nb201 and
    live proxies (:class:`~iqnas.oracles.ProxyOracle`) on spaces with a network builder; a
    name, a CSV path or an Oracle otherwise. ``constraints`` maps a name to a budget on that
    metric (measured by the oracle or the space's table) or to ``(form, budget)``; the
    clusters are then fitted and scored on the feasible architectures only, and a cluster
    without a feasible member cannot be selected. ``n_samples`` sets the clustering sample of
    a space too large to enumerate (default 10,000); ``score_fraction``, ``min_scored`` and
    ``max_scored`` how many members of each cluster are measured; ``n_boot`` and ``level``
    the bootstrap interval. Every cluster's statistics are in ``summary()``; ``select(i)``
    gives another cluster of the same clustering.
    """
    require_sklearn()
    space = spaces.get(space)
    if not _k_range(k_range):
        raise InputError(f"The 'k_range' parameter of reduce() must be a pair (low, high) of "
                         f"ints with 2 <= low <= high. Got {k_range!r} instead.")
    if k is not None and k > space.size:
        raise InputError(f"k = {k} is more than the {space.size} architectures of space "
                         f"{space.name!r}")
    oracle = _oracle(space, oracle, dataset)
    columns = scoring.metric_columns(oracle, score)
    budgets = budgeting.parse_budgets(space, constraints, oracle,
                                      dataset or getattr(oracle, "dataset", None))

    C, enumerated = _sample(space, oracle, n_samples, seed)
    if k is not None and k > len(C):
        raise InputError(f"k = {k} is more than the {len(C)} architectures of the clustering "
                         "sample; lower k or raise n_samples")
    feasible = budgeting.feasible(budgets, space, C)
    eligible = np.ones(len(C), dtype=bool)
    for ok in feasible.values():
        eligible &= ok
    if not eligible.any():
        raise InputError("no architecture of the clustering sample meets every budget "
                         f"({', '.join(f'{b.name} <= {b.budget:g}' for b in budgets)})")
    fit_on = C[eligible]
    features = op_usage_features(space).fit_scaling(fit_on, CENTROID_GRID)
    Z = features.of_choices(fit_on)
    silhouettes, k_requested = None, k
    if k is None:
        k, by_k = choose_k(Z, range(k_range[0], k_range[1] + 1), seed, n_init)
        silhouettes = {str(kk): v for kk, v in by_k.items()}
    centroids, _ = kmeans(Z, k, seed, n_init)
    K = len(centroids)
    labels = cells.nearest(features, centroids, space.choices_to_onehot(C))

    scored = scoring.pick_scored(labels, eligible, K, score_fraction, min_scored, max_scored,
                                 np.random.default_rng([seed, _SCORED]))
    rows = np.concatenate(scored)
    frame = scoring.measure(oracle, columns, space, C[rows], progress)
    values, normalisation = scoring.combine(score, frame)
    stats = scoring.cluster_scores(values, scored, n_boot, level,
                                   np.random.default_rng([seed, _BOOT]))

    raw = features.of_choices(C, scaled=False)
    clusters = []
    for c in range(K):
        member = labels == c
        st = {"size": int(member.sum()), "share": float(member.mean()),
              "means": dict(zip(features.names, raw[member].mean(axis=0).tolist())), **stats[c]}
        if budgets:
            n = max(int(member.sum()), 1)
            st["feasible"] = {name: float(ok[member].sum() / n) for name, ok in feasible.items()}
            if len(budgets) > 1:
                st["feasible"]["all"] = float(eligible[member].sum() / n)
        clusters.append(st)
    candidates = [c for c in range(K) if stats[c]["n_scored"] > 0]
    best = max(candidates, key=lambda c: (stats[c]["score"], -c))
    settings = {
        "k": K, "k_requested": k_requested, "k_range": list(k_range), "silhouette": silhouettes,
        "score": score, "metrics": columns, "seed": seed, "oracle": oracle.name,
        "dataset": getattr(oracle, "dataset", dataset), "n_sample": len(C),
        "n_clustered": int(eligible.sum()),
        "enumerated": enumerated, "score_fraction": score_fraction, "min_scored": min_scored,
        "max_scored": max_scored, "n_measured": int(len(rows)), "n_init": n_init,
        "n_boot": n_boot, "level": level, "normalisation": normalisation,
        "constraints": [b.describe() for b in budgets],
    }
    log.info("reduce %s: K = %d, selected cluster %d (score %.6g, %d members)", space.name, K,
             best, stats[best]["score"], clusters[best]["size"])
    return Cluster(space, features, centroids, best, clusters, settings)


def _oracle(space: SearchSpace, oracle, dataset: str | None) -> Oracle:
    from iqnas import builders, oracles

    if isinstance(oracle, Oracle):
        if oracle.space.name != space.name:
            raise InputError(f"the oracle measures space {oracle.space.name!r}, not "
                             f"{space.name!r}")
        return oracle
    if oracle is None:
        if space.name == "nb201":
            return oracles.nb201(dataset or "cifar100")
        if space.name not in builders.names():
            raise InputError(f"no oracle of training-free metrics for space {space.name!r} "
                             f"(live proxies need a network builder: {', '.join(builders.names())})"
                             "; give oracle= a CSV file with naswot (and logsynflow) columns")
        oracle = "proxies"
    return oracles.get(oracle, space, dataset=dataset)


def _sample(space: SearchSpace, oracle: Oracle, n_samples: int | None,
            seed: int) -> tuple[np.ndarray, bool]:
    """The clustering sample (choices) and whether it is the whole space."""
    rng = np.random.default_rng([seed, _SAMPLE])
    pool = oracle.candidates() if hasattr(oracle, "candidates") else None
    if pool is not None:
        pool = np.asarray(pool, dtype=np.int64)
        if n_samples is None or n_samples >= len(pool):
            return pool, False
        return pool[np.sort(rng.choice(len(pool), size=n_samples, replace=False))], False
    if n_samples is None and space.size <= ENUMERATE_LIMIT:
        return space.enumerate_choices().astype(np.int64), True
    n = DEFAULT_SAMPLES if n_samples is None else n_samples
    if n >= space.size:
        return space.enumerate_choices().astype(np.int64), True
    return UniformSampler().sample_choices(space, n, rng), False


__all__ = ["DEFAULT_SAMPLES", "reduce"]
