"""Re-ranking the IQP's candidates with graph networks inside calibration (``rerank="gcn"``).

Each selection round the IQP proves ``factor * k`` candidates feasible under the fitted resource
models (hard budgets); a ``GCNRanker`` fitted on the objective of the earlier rounds' samples
orders them and the best ``k`` are measured; with look-ups they are screened in that order until
``k`` pass (``iqnas.calibration.selection.iqp_plan``), so the re-ranked run looks up no more than
the plain one. ``rule`` (``rerank_params={"rule": ...}``) says how the GCN's order is used; the
candidates arrive in the IQP's order (best first, the scenarios' lists interleaved):

* ``"gcn"``: the GCN's order replaces the IQP's;
* ``"hedge"``: the IQP's first ``len / (2 * factor)`` candidates (half of what the round takes)
  keep their place, the rest follow in the GCN's order;
* ``"borda"``: ordered by the sum of each candidate's IQP rank and GCN rank (ties: IQP order);
* ``"iqp"``: the IQP's order kept (no GCN is fitted; the loosened plan alone).

``loosen`` (``rerank_params={"loosen": ...}``, default ``DEFAULT_LOOSEN``): while look-ups are
left, the IQP plans within ``loosen`` times each budget instead of the budget, and every
candidate of the round that is not known is looked up before it is trained (the screen trusts
no prediction below ``loosen`` times a budget, ``Screen.loosen``): the fitted latency model
over-predicts the cheap outliers among the accurate NB201 cells (on LatBench Adreno-506 it
puts 14-18 of the 20 best truly feasible cells over the budget, and so does a GCN trained on
900 cells), so the plain IQP never proposes them; the look-up, never a model, decides
feasibility, so only truly feasible networks are trained after the first round.
With ``use_filter``, a ``GCNRegressor`` per budgeted metric first moves the
candidates it predicts over every scenario's budgets to the end (they are measured only if
fewer than ``k`` pass). The measurement still decides feasibility.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from iqnas.calibration.gcn import GCNRanker, GCNRegressor
from iqnas.calibration.graphs import graph_encoding
from iqnas.calibration.neural import require_torch
from iqnas.errors import InputError
from iqnas.space import Architecture, SearchSpace

log = logging.getLogger(__name__)

RERANKERS = ("gcn",)
#: how the GCN's order is used (module docstring); the first is the default
RULES = ("gcn", "hedge", "borda", "iqp")


def _estimator_params(cls) -> set[str]:
    return set(cls._param_names()) - {"space", "seed", "name", "units"}


#: the re-ranker's own keys of ``rerank_params`` (the others go to the GCNs)
OWN_PARAMS = ("rule", "loosen")
#: ``loosen`` unless given: the IQP plans within this many times each budget while look-ups last
DEFAULT_LOOSEN = 3.0


def split_params(params: Mapping | None) -> tuple[dict, dict]:
    """``rerank_params`` as (ranker, filter) keyword arguments: a key goes to each of
    ``GCNRanker`` / ``GCNRegressor`` that takes it; a key neither takes is an InputError
    (``rule`` and ``loosen``, the re-ranker's own, are checked by ``rerank_rule`` /
    ``rerank_loosen`` and left out)."""
    params = {k: v for k, v in dict(params or {}).items() if k not in OWN_PARAMS}
    rank_ok, filt_ok = _estimator_params(GCNRanker), _estimator_params(GCNRegressor)
    bad = sorted(k for k in params if k not in rank_ok | filt_ok)
    if bad:
        raise InputError(f"rerank_params: unknown parameter {bad[0]!r}; GCN parameters are "
                         f"{', '.join(sorted(rank_ok | filt_ok | set(OWN_PARAMS)))}")
    return ({k: v for k, v in params.items() if k in rank_ok},
            {k: v for k, v in params.items() if k in filt_ok})


def rerank_rule(params: Mapping | None) -> str:
    """The ``rule`` of ``rerank_params`` (default ``RULES[0]``); an unknown one is an
    InputError."""
    rule = dict(params or {}).get("rule", RULES[0])
    if rule not in RULES:
        raise InputError(f"rerank_params: unknown rule {rule!r}; use one of {', '.join(RULES)}")
    return rule


def rerank_loosen(params: Mapping | None) -> float:
    """The ``loosen`` factor of ``rerank_params`` (default ``DEFAULT_LOOSEN``): a number
    >= 1, else an InputError."""
    value = dict(params or {}).get("loosen", DEFAULT_LOOSEN)
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value < 1:
        raise InputError(f"rerank_params: loosen={value!r} must be a number >= 1 (1: the IQP "
                         "plans within the budgets; 2: within twice them; CLI --rerank-loosen)")
    return float(value)


def check_rerank(space: SearchSpace, rerank: str | None, params: Mapping | None) -> None:
    """Validate calibrate's re-rank method and GCN parameters against ``space`` before any
    work starts (``rerank_factor`` / ``rerank_filter`` are checked with calibrate's others)."""
    if rerank is None:
        return
    if rerank not in RERANKERS:
        raise InputError(f"unknown rerank {rerank!r}; use one of {', '.join(RERANKERS)} or None")
    graph_encoding(space)
    rerank_rule(params)
    rerank_loosen(params)
    rank_kw, filt_kw = split_params(params)
    GCNRanker(space, **rank_kw)._check_params()
    GCNRegressor(space, **filt_kw)._check_params()
    require_torch("rerank='gcn'")


class GCNReranker:
    """Orders IQP candidates by a GCN accuracy ranker, optionally filtering by GCN resource
    models (see the module docstring). ``last`` describes the latest call."""

    def __init__(self, space: SearchSpace, objective: str,
                 scenarios: Sequence[Mapping[str, float]], *, factor: int = 4,
                 use_filter: bool = False, params: Mapping | None = None,
                 units: Mapping[str, str] | None = None, progress: bool | None = None) -> None:
        self.space, self.objective = space, objective
        self.scenarios = [dict(s) for s in scenarios]
        self.factor, self.use_filter = int(factor), bool(use_filter)
        self.rank_kw, self.filter_kw = split_params(params)
        self.rule = rerank_rule(params)
        self.loosen = rerank_loosen(params)
        self.units = dict(units or {})
        self.progress = progress
        self.last: dict = {}

    def order(self, candidates: list[Architecture], k: int, samples: pd.DataFrame,
              seed: int) -> list[Architecture]:
        """The ``k`` candidates to measure, best first, from models fitted on ``samples``."""
        self.last = {"candidates": len(candidates), "filtered_out": 0}
        y = samples[self.objective].to_numpy(dtype=float) if len(samples) else np.zeros(0)
        if len(candidates) == 0 or len(y) < 2 or np.ptp(y) == 0 or self.rule == "iqp":
            return candidates[:k]
        X = [self.space.parse_key(key) for key in samples["key"]]
        kw = {"progress": self.progress, **self.rank_kw}
        ranker = GCNRanker(self.space, seed=seed, name=f"{self.objective} ranker", **kw).fit(X, y)
        score = ranker.predict(candidates)
        order = self._combine(score)
        if self.use_filter:
            excess = self._predicted_excess(candidates, X, samples, seed)
            passing = [i for i in order if excess[i] <= 0]
            failing = sorted((i for i in order if excess[i] > 0), key=lambda i: excess[i])
            self.last["filtered_out"] = len(failing)
            order = np.array(passing + failing, dtype=np.int64)
        return [candidates[i] for i in order[:k]]

    def _combine(self, score: np.ndarray) -> np.ndarray:
        """Candidate indices best first under ``rule`` from the GCN's scores of candidates
        given in the IQP's order."""
        gcn = np.argsort(-score, kind="stable")
        if self.rule == "gcn":
            return gcn
        n = len(score)
        if self.rule == "hedge":
            keep = min(n, -(-n // (2 * self.factor)))
            return np.concatenate([np.arange(keep), gcn[gcn >= keep]]).astype(np.int64)
        gcn_rank = np.empty(n, dtype=np.int64)
        gcn_rank[gcn] = np.arange(n)
        return np.lexsort((np.arange(n), np.arange(n) + gcn_rank))

    def _predicted_excess(self, candidates, X, samples: pd.DataFrame, seed: int) -> np.ndarray:
        """Per candidate, the smallest over scenarios of its largest relative excess over a
        budget as predicted by GCN regressors (<= 0: within some scenario's budgets)."""
        metrics = sorted({m for s in self.scenarios for m in s})
        pred = {}
        for j, m in enumerate(metrics):
            kw = {"progress": self.progress, **self.filter_kw}
            est = GCNRegressor(self.space, seed=seed + 1 + j, name=m,
                               units=self.units.get(m, ""), **kw)
            pred[m] = est.fit(X, samples[m].to_numpy(dtype=float)).predict(candidates)
        best = np.full(len(candidates), np.inf)
        for scen in self.scenarios:
            worst = np.full(len(candidates), -np.inf)
            for m, b in scen.items():
                worst = np.maximum(worst, (pred[m] - b) / max(abs(b), 1e-12))
            best = np.minimum(best, worst)
        return best


__all__ = ["DEFAULT_LOOSEN", "GCNReranker", "RERANKERS", "RULES", "check_rerank",
           "rerank_loosen", "rerank_rule", "split_params"]
