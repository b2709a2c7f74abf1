"""Block-coordinate Frank-Wolfe (BINAS / HardCoRe-NAS), generalised to any QuadraticForm problem
(configured by :class:`iqnas.solvers.Bcfw`).

The relaxation puts each group's option weights on a simplex. The objective's gradient is
``linear + (P + P^T) x`` (sign-flipped when minimising). Each step picks a *block* of groups, takes
a momentum-averaged gradient, solves the block's linear program with the other blocks fixed and
moves ``x_block += gamma (s - x_block)``.

Blocks. Feasibility is kept at every iterate when every budget is linear in the block being moved:
then a convex combination of the (feasible) iterate and the (feasible) LP vertex is feasible. So
the groups are coloured greedily such that no budget form has a product inside one colour; each
colour is a block (non-controller groups are coloured first, controller groups last). On BINAS's
mobilenet problem (latency = block-option x depth products) this gives BINAS's two blocks: all
block groups (alpha) and the depth groups (beta). On nb201 with dense quadratic budgets it gives one
block per group (coordinate steps); with linear budgets, one block (plain Frank-Wolfe).
``blocks="groups"`` forces one block per group. The first step moves the last block (the
controllers, as BINAS starts with beta); later blocks are drawn uniformly at random.

LP oracle. With one budget and no linear rows: the multiple-choice knapsack LP solved greedily
(per group the upper convex hull of (cost, value), increments taken by value/cost while the budget
allows, the last one fractionally), which returns a vertex with at most one fractional group. With
several budgets or linear rows (``lp="auto"``), the block LP with all of them is solved exactly by
HiGHS' dual simplex (scipy ``linprog(method="highs-ds")``), so every budget stays feasible; a
vertex then has at most (number of rows) fractional groups. ``lp="greedy"`` with several budgets
uses the most binding budget only (the one with the least relative slack at the iterate); the
other budgets and any linear rows are then only enforced at the final check and repair.

Step size: ``gamma`` constant (BINAS default 0.002) or ``"lacoste"``: 2n/(k + 2n), n = number of
blocks. ``momentum`` 0.9: ``buf = m buf + (1 - m) grad``.

Finish. ``sparsify_steps`` LP steps with gamma 1 maximising the overlap with the iterate (blocks in
order, controllers first) turn each block into an LP vertex. Rounding: block after block, each
fractional group takes, among the options it uses, the one with the smallest budget cost given the
other blocks (relative to the budgets), which cannot raise a budget that is linear in the block.
The decoded architecture (inactive groups at option 0) is then checked against every budget, row
and exclusion; if it fails (quadratic or several budgets, conditional groups), it is repaired by
greedy single-group moves towards feasibility. Without any feasible point: NO_SOLUTION.

Initial point: the warm start if feasible, else (``init="cheapest"``, as BINAS starts from the
smallest network) a single-group descent on the budget-relative resource sum from the all-first-
option architecture, repaired if needed; ``init="sample"`` takes the best feasible of 1,000 random
architectures. Limits of the relaxation: a conditional group's "inactive means option 0" rule is
not part of it (as in BINAS, whose forms give inactive blocks zero weight).

With ``time_limit`` and no explicit ``steps``, the FW loop runs until 80 % of the time is used.
``nodes`` of the result counts FW steps.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from iqnas.problem import Problem, within_budget
from iqnas.solvers.base import RawSolution, SolveOptions
from iqnas.solvers.context import SearchContext, time_or_count
from iqnas.solvers.moves import cheapest, initial_feasible, repair, warm_start_row

log = logging.getLogger(__name__)

#: share of the time limit the FW loop may use when it runs on time
LOOP_SHARE = 0.8
#: weight below which an option counts as unused
ZERO = 1e-9


# ---- the greedy multiple-choice knapsack LP ---------------------------------------------------
def mck_lp(value: np.ndarray, cost: np.ndarray, groups: list[slice],
           budget: float) -> np.ndarray | None:
    """Maximise ``value @ s`` s.t. ``cost @ s <= budget``, one simplex per group slice.

    Returns a vertex (at most one fractional group), or None when even the cheapest choice in
    every group exceeds the budget.
    """
    s = np.zeros(len(value))
    base = 0.0
    increments = []  # (slope, dcost, group number, from index, to index)
    starts = []
    values, costs = value.tolist(), cost.tolist()
    for k, gs in enumerate(groups):
        w, v = costs[gs], values[gs]
        order = sorted(range(len(w)), key=lambda i: (w[i], -v[i]))
        hull = [order[0]]
        for i in order[1:]:
            if v[i] <= v[hull[-1]]:
                continue
            while len(hull) >= 2:
                a, b = hull[-2], hull[-1]
                # drop b when it lies on or below the segment a -> i
                if (v[b] - v[a]) * (w[i] - w[a]) <= (v[i] - v[a]) * (w[b] - w[a]):
                    hull.pop()
                else:
                    break
            hull.append(i)
        starts.append(hull[0])
        base += w[hull[0]]
        for a, b in zip(hull[:-1], hull[1:]):
            increments.append(((v[b] - v[a]) / (w[b] - w[a]), w[b] - w[a], k, a, b))
    if not within_budget(base, budget):
        return None
    current = list(starts)
    frac = None
    left = budget - base
    increments.sort(key=lambda t: -t[0])
    for _slope, dw, k, a, b in increments:
        if current[k] != a:
            continue  # an earlier (steeper) increment of this group was not taken in full
        if dw <= left:
            current[k] = b
            left -= dw
        else:
            frac = (k, a, b, max(left, 0.0) / dw)
            break
    for k, gs in enumerate(groups):
        s[gs.start + current[k]] = 1.0
    if frac is not None:
        k, a, b, t = frac
        s[groups[k].start + a] = 1.0 - t
        s[groups[k].start + b] = t
    return s


# ---- the relaxation -----------------------------------------------------------------------------
class Relaxation:
    """Gradients, budget costs and block LPs of the problem over the product of simplices."""

    def __init__(self, ctx: SearchContext, lp: str, blocks: str) -> None:
        problem = ctx.problem
        space = self.space = ctx.space
        self.objective = problem.objective
        self.sign = ctx.sign
        self.cons = [c.form for c in problem.constraints]
        self.budgets = problem.budgets
        #: what a budget's cost is relative to when budgets are added up
        self.scale = np.maximum(np.abs(self.budgets), 1e-9)
        self.rows = list(problem.linear_constraints)
        self.lp = lp
        self.blocks = self._blocks(ctx, blocks)
        self.block_vars = []
        self.block_groups = []
        for B in self.blocks:
            idx, slices, pos = [], [], 0
            for g in B:
                n = int(space.sizes[g])
                idx.append(np.arange(space.offsets[g], space.offsets[g] + n))
                slices.append(slice(pos, pos + n))
                pos += n
            self.block_vars.append(np.concatenate(idx))
            self.block_groups.append(slices)

    def _blocks(self, ctx: SearchContext, mode: str) -> list[list[int]]:
        space = self.space
        G = space.n_groups
        if mode == "groups":
            return [[g] for g in range(G)]
        adj: dict[int, set[int]] = {g: set() for g in range(G)}
        for c in ctx.problem.constraints:
            for a, b in c.form.group_pairs():
                adj[a].add(b)
                adj[b].add(a)
        ctrl = sorted({c for c, _ in space.conditions.values()})
        order = [g for g in range(G) if g not in ctrl] + ctrl
        colour: dict[int, int] = {}
        for g in order:
            used = {colour[h] for h in adj[g] if h in colour}
            colour[g] = next(k for k in range(G + 1) if k not in used)
        n = max(colour.values()) + 1
        return [sorted(g for g in range(G) if colour[g] == k) for k in range(n)]

    # ---- evaluation ----------------------------------------------------------------------------
    def grad(self, x: np.ndarray) -> np.ndarray:
        """The objective's gradient in the maximisation sense."""
        g = self.objective.gradient(x)
        return g if self.sign > 0 else -g

    def budget_costs(self, bi: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per budget: the block's cost vector and the budget left for the block (given x)."""
        idx = self.block_vars[bi]
        W = np.zeros((len(self.cons), len(idx)))
        R = np.zeros(len(self.cons))
        for k, form in enumerate(self.cons):
            value, g = form.value_and_gradient(x)
            W[k] = g[idx]
            R[k] = self.budgets[k] - (value - W[k] @ x[idx])
        return W, R

    # ---- block LP -------------------------------------------------------------------------------
    def block_lp(self, bi: int, v: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The block's LP vertex maximising ``v`` (the cheapest point when the LP is infeasible)."""
        slices = self.block_groups[bi]
        W, R = self.budget_costs(bi, x)
        if not self.cons and not self.rows:
            s = np.zeros(len(v))
            for gs in slices:
                s[gs.start + int(np.argmax(v[gs]))] = 1.0
            return s
        greedy = self.lp == "greedy" or (self.lp == "auto" and len(self.cons) == 1
                                         and not self.rows)
        if greedy and self.cons:
            idx = self.block_vars[bi]
            slack = (R - W @ x[idx]) / self.scale
            k = int(np.argmin(slack))  # the most binding budget
            s = mck_lp(v, W[k], slices, R[k])
        else:
            s = self._highs(bi, v, x, W, R)
        if s is None:
            s = self._cheapest(bi, W)
        return s

    def _highs(self, bi, v, x, W, R) -> np.ndarray | None:
        idx = self.block_vars[bi]
        slices = self.block_groups[bi]
        n = len(idx)
        A_ub, b_ub = [W], [R]
        for lc in self.rows:
            cb = lc.coef[idx]
            rest = lc.coef @ x - cb @ x[idx]
            if math.isfinite(lc.ub):
                A_ub.append(cb[None, :])
                b_ub.append([lc.ub - rest])
            if math.isfinite(lc.lb):
                A_ub.append(-cb[None, :])
                b_ub.append([rest - lc.lb])
        rows = [np.full(gs.stop - gs.start, k) for k, gs in enumerate(slices)]
        E = sp.csr_matrix((np.ones(n), (np.concatenate(rows), np.arange(n))),
                          shape=(len(slices), n))
        res = linprog(-v, A_ub=np.vstack(A_ub), b_ub=np.concatenate(b_ub), A_eq=E,
                      b_eq=np.ones(len(slices)), bounds=(0.0, 1.0), method="highs-ds")
        if res.status != 0 or res.x is None:
            return None
        s = np.clip(res.x, 0.0, 1.0)
        for gs in slices:  # exact simplices despite round-off
            s[gs] /= s[gs].sum()
        return s

    def _cheapest(self, bi: int, W: np.ndarray) -> np.ndarray:
        """Per group the option of least budget-relative cost (moves towards feasibility)."""
        n = len(self.block_vars[bi])
        cost = np.zeros(n)
        if len(self.cons):
            cost = (W / self.scale[:, None]).sum(axis=0)
        s = np.zeros(n)
        for gs in self.block_groups[bi]:
            s[gs.start + int(np.argmin(cost[gs]))] = 1.0
        return s

    # ---- rounding -------------------------------------------------------------------------------
    def round(self, x: np.ndarray) -> np.ndarray:
        """Every fractional group to its used option of least budget cost; returns choices."""
        x = x.copy()
        order = list(range(len(self.blocks)))
        for bi in order:
            idx = self.block_vars[bi]
            W, _R = self.budget_costs(bi, x)
            cost = np.zeros(len(idx))
            if len(self.cons):
                cost = (W / self.scale[:, None]).sum(axis=0)
            v = self.grad(x)[idx]
            xb = x[idx]
            for gs in self.block_groups[bi]:
                used = np.flatnonzero(xb[gs] > ZERO)
                if len(used) <= 1 and xb[gs].max() >= 1.0 - ZERO:
                    pick = int(np.argmax(xb[gs]))
                else:
                    # least cost, then largest gradient value
                    key = np.lexsort((-v[gs][used], cost[gs][used]))
                    pick = int(used[key[0]])
                xb[gs] = 0.0
                xb[gs.start + pick] = 1.0
            x[idx] = xb
        space = self.space
        return np.array([int(np.argmax(x[o:o + n])) for o, n in zip(space.offsets, space.sizes)],
                        dtype=np.int64)


def solve(problem: Problem, options: SolveOptions, cfg: dict[str, Any],
          explicit: bool) -> RawSolution:
    """``cfg``: the checked options of Bcfw (``steps`` filled in); ``explicit``: ``steps`` was
    given."""
    return BcfwSearch().run(problem, options, cfg, explicit)


class BcfwSearch:
    """The FW loop, its starting point and the sparsifying steps."""

    def run(self, problem: Problem, options: SolveOptions, cfg: dict[str, Any],
            explicit: bool) -> RawSolution:
        ctx = SearchContext(problem, options.time_limit)
        rng = np.random.default_rng(options.seed)
        space = problem.space
        start = self._start(ctx, rng, cfg["init"], options.warm_start)
        if start is None:
            return ctx.raw("infeasible_start", "bcfw found no feasible starting architecture")
        rel = Relaxation(ctx, cfg["lp"], cfg["blocks"])
        x = space.choices_to_onehot(start[None, :])[0]
        counted = time_or_count(options.time_limit, explicit)
        nb = len(rel.blocks)
        buf = None
        m = cfg["momentum"]
        k, status = 0, "steps"
        while not counted or k < cfg["steps"]:
            if ctx.out_of_time(LOOP_SHARE):
                status = "time_limit"
                break
            bi = nb - 1 if k == 0 else int(rng.integers(nb))
            g = rel.grad(x)
            buf = g if buf is None else m * buf + (1.0 - m) * g
            idx = rel.block_vars[bi]
            s = rel.block_lp(bi, buf[idx], x)
            gamma = cfg["gamma"] if cfg["gamma"] != "lacoste" else 2.0 * nb / (k + 2.0 * nb)
            x[idx] += gamma * (s - x[idx])
            k += 1
        x = self._sparsify(ctx, rel, x, cfg["sparsify_steps"])
        choice = space.canonical(rel.round(x))
        how = "rounded"
        if not ctx.feasible(choice[None, :])[0]:
            choice = repair(ctx, choice)
            how = "repaired"
        if choice is None:
            choice = start
            how = "repair failed; returned the starting architecture"
        ctx.offer(choice[None, :], ctx.fitness(choice[None, :]))
        log.debug("bcfw: %d steps over %d block(s), answer %s", k, nb, how)
        return ctx.raw(status, f"{k} steps, {nb} block(s), answer {how}", nodes=k)

    @staticmethod
    def _start(ctx: SearchContext, rng: np.random.Generator, init: str,
               warm_start) -> np.ndarray | None:
        ws = warm_start_row(ctx, warm_start)
        if ws is not None:
            return ws
        if init == "sample":
            rows = initial_feasible(ctx, rng, 1000, max_samples=1000)
            if rows.shape[0]:
                return rows[int(np.argmax(ctx.fitness(rows)))]
        low = cheapest(ctx, np.zeros(ctx.space.n_groups, dtype=np.int64))
        if ctx.feasible(low[None, :])[0]:
            return low
        fixed = repair(ctx, low)
        if fixed is not None:
            return fixed
        rows = initial_feasible(ctx, rng, 1, max_samples=10_000)
        return rows[0] if rows.shape[0] else None

    @staticmethod
    def _sparsify(ctx: SearchContext, rel: Relaxation, x: np.ndarray, steps: int) -> np.ndarray:
        """LP steps with gamma 1 towards the vertex of most overlap, controllers' block first."""
        nb = len(rel.blocks)
        order = [nb - 1] + list(range(nb - 1))
        unchanged = 0
        for t in range(steps):
            if unchanged >= nb or ctx.out_of_time():
                break
            bi = order[t % nb]
            idx = rel.block_vars[bi]
            s = rel.block_lp(bi, x[idx].copy(), x)
            unchanged = unchanged + 1 if np.allclose(s, x[idx], atol=1e-12) else 0
            x[idx] = s
        return x
