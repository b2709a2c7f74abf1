"""Pareto fronts: non-dominated rows of a sweep, and the exact constrained optimum of a table
oracle per budget (vectorised: one sort and a running maximum per fixed set of other budgets)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

from iqnas.problem import budget_limit, within_budget


def pareto_mask(objective: np.ndarray, costs: np.ndarray, maximize: bool = True) -> np.ndarray:
    """True for rows no other row dominates (objective at least as good and every cost at most
    as large, one of them strictly). Rows with a NaN are never on the front."""
    obj = np.asarray(objective, dtype=float) * (1.0 if maximize else -1.0)
    cost = np.asarray(costs, dtype=float)
    cost = cost[:, None] if cost.ndim == 1 else cost
    ok = np.isfinite(obj) & np.all(np.isfinite(cost), axis=1)
    keep = ok.copy()
    for i in np.flatnonzero(ok):
        no_worse = ok & (obj >= obj[i]) & np.all(cost <= cost[i], axis=1)
        better = (obj > obj[i]) | np.any(cost < cost[i], axis=1)
        keep[i] = not np.any(no_worse & better)
    return keep


def staircase(x: np.ndarray, objective: np.ndarray, maximize: bool = True) -> np.ndarray:
    """Indices of the Pareto front of (x smaller is better, objective), by increasing x: each
    row strictly improves on every row with a smaller or equal x."""
    obj = np.asarray(objective, dtype=float) * (1.0 if maximize else -1.0)
    x = np.asarray(x, dtype=float)
    rows = np.flatnonzero(np.isfinite(x) & np.isfinite(obj))
    order = rows[np.lexsort((-obj[rows], x[rows]))]
    best = np.maximum.accumulate(obj[order])
    new = np.r_[True, best[1:] > best[:-1]]
    return order[new]


def constrained_best(objective: np.ndarray, values: Mapping[str, np.ndarray],
                     budgets: Sequence[Mapping[str, float]], axis: str,
                     maximize: bool = True) -> np.ndarray:
    """For each budget set, the row of the best objective whose every value meets its budget
    (-1 if none); rows with NaN values never qualify. ``axis`` is the resource that varies most
    (the swept one): points that share the other budgets share one sort."""
    obj = np.asarray(objective, dtype=float) * (1.0 if maximize else -1.0)
    obj = np.where(np.isfinite(obj), obj, -np.inf)
    out = np.full(len(budgets), -1, dtype=np.int64)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, b in enumerate(budgets):
        groups[tuple(sorted((n, v) for n, v in b.items() if n != axis))].append(i)
    x_all = np.asarray(values[axis], dtype=float)
    for others, members in groups.items():
        mask = np.isfinite(x_all)
        for name, budget in others:
            v = np.asarray(values[name], dtype=float)
            mask &= np.isfinite(v) & within_budget(v, budget)
        rows = np.flatnonzero(mask)
        if rows.size == 0:
            continue
        order = rows[np.argsort(x_all[rows], kind="stable")]
        xs, os_ = x_all[order], obj[order]
        running = np.maximum.accumulate(os_)
        new = np.r_[True, running[1:] > running[:-1]]
        best_pos = np.maximum.accumulate(np.where(new, np.arange(len(order)), 0))
        for i in members:
            pos = int(np.searchsorted(xs, budget_limit(budgets[i][axis]), side="right")) - 1
            if pos >= 0 and np.isfinite(os_[best_pos[pos]]):
                out[i] = order[best_pos[pos]]
    return out

