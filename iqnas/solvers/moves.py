"""Single-group moves: neighbours, repair towards feasibility, cheapest descent, and the feasible
starting rows of the heuristic searchers built on them."""

from __future__ import annotations

import math

import numpy as np

from iqnas.solvers.context import SearchContext
from iqnas.solvers.genomes import row_keys
from iqnas.space import SearchSpace


def move_targets(space: SearchSpace, c: np.ndarray) -> np.ndarray:
    """The one-hot variables a single-group move from canonical row ``c`` switches on: every
    other option of every active group, by group then option."""
    on = space.activity(c)[space.group_of_var]
    on[space.offsets + c] = False
    return np.flatnonzero(on)


def apply_moves(space: SearchSpace, c: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The canonical rows that switch each target variable on in ``c`` (moving a controller
    also resets the groups it deactivates to option 0)."""
    group = space.group_of_var[targets]
    rows = np.repeat(np.asarray(c, dtype=np.int64)[None, :], len(targets), axis=0)
    rows[np.arange(len(targets)), group] = targets - space.offsets[group]
    return space.canonical(rows)


def neighbours(space: SearchSpace, c: np.ndarray) -> np.ndarray:
    """Every canonical row that differs from canonical row ``c`` in one active group."""
    return apply_moves(space, c, move_targets(space, c))


def repair(ctx: SearchContext, c: np.ndarray, max_steps: int | None = None) -> np.ndarray | None:
    """Greedy single-group moves from ``c`` until feasible, or None.

    Each step takes the best feasible neighbour if there is one; otherwise the neighbour that
    lowers the violation the most per unit of objective lost. Stops when nothing lowers it.
    """
    space = ctx.space
    c = space.canonical(np.asarray(c, dtype=np.int64))
    max_steps = max_steps if max_steps is not None else 2 * int(space.sizes.sum())
    v_c = float(ctx.violation(c[None, :])[0])
    f_c = float(ctx.fitness(c[None, :])[0])
    for _ in range(max_steps + 1):
        if ctx.feasible(c[None, :])[0]:
            return c
        nb = neighbours(space, c)
        if nb.shape[0] == 0:
            return None
        feas = ctx.feasible(nb)
        fit = ctx.fitness(nb)
        if feas.any():
            k = int(np.flatnonzero(feas)[np.argmax(fit[feas])])
            return nb[k]
        viol = ctx.violation(nb)
        drop = v_c - viol
        better = drop > 1e-12 * max(1.0, v_c)
        if not better.any():
            return None
        loss = np.maximum(f_c - fit, 0.0)
        score = np.where(better, drop / (loss + 1e-12 * max(1.0, abs(f_c))), -np.inf)
        # prefer the largest violation drop among moves that lose no objective
        free = better & (loss <= 0)
        k = int(np.argmax(np.where(free, drop, -np.inf))) if free.any() else int(np.argmax(score))
        c, v_c, f_c = nb[k], float(viol[k]), float(fit[k])
    return None


def resource_score(ctx: SearchContext, C: np.ndarray) -> np.ndarray:
    """Sum of resources relative to their budgets, plus a large weight on the other rows."""
    C = np.asarray(C, dtype=np.int64)
    s = 1e3 * ctx.other_violation(C)
    if ctx.budgets.size:
        s += (ctx.resources(C) / np.maximum(np.abs(ctx.budgets), 1e-9)).sum(axis=1)
    return s


def cheapest(ctx: SearchContext, c: np.ndarray, max_steps: int | None = None) -> np.ndarray:
    """Best-improvement single-group descent on :func:`resource_score` from canonical ``c``."""
    space = ctx.space
    c = space.canonical(np.asarray(c, dtype=np.int64))
    s_c = float(resource_score(ctx, c[None, :])[0])
    max_steps = max_steps if max_steps is not None else 2 * int(space.sizes.sum())
    for _ in range(max_steps):
        nb = neighbours(space, c)
        if nb.shape[0] == 0:
            break
        s = resource_score(ctx, nb)
        k = int(np.argmin(s))
        if not s[k] < s_c - 1e-12 * max(1.0, abs(s_c)):
            break
        c, s_c = nb[k], float(s[k])
    return c


def initial_feasible(ctx: SearchContext, rng: np.random.Generator, n: int, max_samples: int,
                     batch: int = 1024) -> np.ndarray:
    """Up to ``n`` distinct feasible canonical rows by rejection sampling.

    Draws at most ``max_samples`` rows (at least one batch, even past the deadline); when none is
    feasible, repairs the cheapest of the drawn rows instead. May return fewer than ``n`` rows.
    """
    space = ctx.space
    found: dict[bytes, np.ndarray] = {}
    drawn = 0
    best_bad, best_bad_v = None, math.inf
    while len(found) < n and drawn < max_samples:
        if drawn and ctx.out_of_time():
            break
        m = min(batch, max_samples - drawn)
        C = space.sample_choices(rng, m)
        drawn += m
        ok = ctx.feasible(C)
        for key, row in zip(row_keys(C[ok]), C[ok]):
            if len(found) >= n:
                break
            found.setdefault(key, row)
        if not found and (~ok).any():
            v = ctx.violation(C[~ok])
            k = int(np.argmin(v))
            if v[k] < best_bad_v:
                best_bad, best_bad_v = C[~ok][k], float(v[k])
    if not found and best_bad is not None:
        for start in (best_bad, cheapest(ctx, best_bad)):
            fixed = repair(ctx, start)
            if fixed is not None:
                return fixed[None, :]
    if not found:
        return np.zeros((0, space.n_groups), dtype=np.int64)
    return np.stack(list(found.values()))


def warm_start_row(ctx: SearchContext, arch) -> np.ndarray | None:
    """The warm-start architecture as a canonical row if it is feasible."""
    if arch is None:
        return None
    row = np.asarray(ctx.space.to_arch(arch).choices, dtype=np.int64)[None, :]
    return row[0] if ctx.feasible(row)[0] else None
