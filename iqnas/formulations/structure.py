"""Rows every formulation shares: one-hot groups, conditional groups, no-good cuts, extra rows."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from iqnas.problem import Problem



class RowBuilder:
    """Accumulates sparse rows ``lb <= sum coef * v <= ub`` with names."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.lb: list[float] = []
        self.ub: list[float] = []
        self.names: list[str] = []

    def add(self, name: str, cols, vals, lb: float = -math.inf, ub: float = math.inf) -> int:
        r = len(self.names)
        cols = np.asarray(cols, dtype=np.int64)
        self.rows.append(np.full(len(cols), r, dtype=np.int64))
        self.cols.append(cols)
        self.vals.append(np.broadcast_to(np.asarray(vals, dtype=float), cols.shape).copy())
        self.lb.append(lb)
        self.ub.append(ub)
        self.names.append(name)
        return r

    def __len__(self) -> int:
        return len(self.names)


def add_structural_rows(problem: Problem, rows: RowBuilder) -> None:
    space = problem.space
    for g, off, n in zip(space.groups, space.offsets, space.sizes):
        rows.add(f"onehot[{g.name}]", np.arange(off, off + n), 1.0, 1.0, 1.0)
    for i, (c, mask) in space.conditions.items():
        # an inactive group takes its first option: x[g,0] + sum(x[c, allowed]) >= 1
        g = space.groups[i]
        cols = [space.offsets[i]] + list(space.offsets[c] + np.flatnonzero(mask))
        rows.add(f"inactive[{g.name}]", cols, 1.0, 1.0, math.inf)
    for lc in problem.linear_constraints:
        nz = np.flatnonzero(lc.coef)
        rows.add(f"linear[{lc.name}]", nz, lc.coef[nz], lc.lb, lc.ub)
    for k, arch in enumerate(problem.exclude):
        cols = space.offsets + np.asarray(arch.choices)
        rows.add(f"exclude[{k}]", cols, 1.0, -math.inf, len(cols) - 1.0)
