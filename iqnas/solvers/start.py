"""A fast primal start: best sampled architectures improved by feasible one-group moves.

Used by the SCIP backend as a MIP start. It only proposes architectures that satisfy every budget,
linear constraint and exclusion of the problem (checked exactly, with a small safety margin), so
it never changes what is optimal: it only gives the solver an early incumbent.
"""

from __future__ import annotations

import time

import numpy as np

from iqnas.problem import Problem
from iqnas.space import Architecture

#: budgets are met with this relative margin, so the solver's own tolerances accept the start
MARGIN = 1e-7


class _Dense:
    """``value(x) = c0 + lin @ x + 0.5 * x @ Q @ x`` with a dense symmetric ``Q``."""

    def __init__(self, c0: float, lin: np.ndarray, pairwise) -> None:
        self.c0 = float(c0)
        self.lin = np.asarray(lin, dtype=float)
        p = pairwise.toarray() if hasattr(pairwise, "toarray") else np.asarray(pairwise)
        self.Q = p + p.T

    # small, index-based arithmetic on purpose: BLAS threads are slow on a busy machine
    def value(self, idx: np.ndarray) -> float:
        return self.c0 + float(self.lin[idx].sum()) + 0.5 * float(self.Q[np.ix_(idx, idx)].sum())

    def grad(self, idx: np.ndarray) -> np.ndarray:
        """Gradient at the one-hot vector whose ones are at ``idx``."""
        return self.lin + self.Q[:, idx].sum(axis=1)

    def quad(self, nz: np.ndarray, d: np.ndarray) -> np.ndarray:
        """``0.5 * d[r] @ Q @ d[r]`` for changes ``d`` (R, L) on the variables ``nz`` (R, L)."""
        sub = self.Q[nz[:, :, None], nz[:, None, :]]
        return 0.5 * np.einsum("rl,rlm,rm->r", d, sub, d)


def local_search(problem: Problem, n_samples: int = 256, starts: int = 4, seed: int = 0,
                 time_limit: float = 1.0) -> Architecture | None:
    """A good feasible architecture (or None if none was found)."""
    t_end = time.perf_counter() + time_limit
    space = problem.space
    sign = 1.0 if problem.sense == "maximize" else -1.0
    obj = _Dense(sign * problem.objective.intercept, sign * problem.objective.linear,
                 sign * problem.objective.pairwise)
    cons = [(_Dense(c.form.intercept, c.form.linear, c.form.pairwise),
             c.budget - MARGIN * max(1.0, abs(c.budget))) for c in problem.constraints]
    lins = [(lc.coef, lc.lb + 1e-9, lc.ub - 1e-9) for lc in problem.linear_constraints]
    excluded = {a.choices for a in problem.exclude}
    rng = np.random.default_rng(seed)
    C = np.vstack([np.zeros((1, space.n_groups), dtype=np.int64),
                   space.sample_choices(rng, n_samples)])
    ok = np.ones(len(C), dtype=bool)
    for f, budget in cons:
        ok &= _batch_values(f, C, space.offsets) <= budget
    for coef, lb, ub in lins:
        v = coef[C + space.offsets[None, :]].sum(axis=1)
        ok &= (v >= lb) & (v <= ub)
    ok &= np.array([tuple(int(v) for v in row) not in excluded for row in C])
    if not ok.any():
        return None
    C = C[ok]
    vals = _batch_values(obj, C, space.offsets)
    best, best_val = None, -np.inf
    for k in np.argsort(-vals)[:starts]:
        choices, val = _climb(space, obj, cons, lins, excluded, C[k].copy(), t_end)
        if val > best_val:
            best, best_val = choices, val
        if time.perf_counter() > t_end:
            break
    return Architecture(space, tuple(int(v) for v in best))


def _batch_values(f: _Dense, C: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Values for an (n, n_groups) choice array."""
    idx = C + offsets[None, :]
    quad = f.Q[idx[:, :, None], idx[:, None, :]].sum(axis=(1, 2))
    return f.c0 + f.lin[idx].sum(axis=1) + 0.5 * quad


def _climb(space, obj, cons, lins, excluded, choices, t_end):
    """Best-improvement hill climbing over feasible one-group moves.

    A move sets one active group to another option; moving a controller also resets the groups
    it deactivates to option 0. The change of every form is computed from its gradient.
    """
    deps: dict[int, list[tuple[int, np.ndarray]]] = {}
    for g, (c, mask) in space.conditions.items():
        deps.setdefault(int(c), []).append((int(g), mask))
    is_ctrl_var = np.isin(space.group_of_var, list(deps))
    forms = [obj] + [f for f, _ in cons]
    idx = space.offsets + choices
    vals = np.array([f.value(idx) for f in forms])
    while time.perf_counter() < t_end:
        active = np.asarray(space.activity(choices))
        var_ok = active[space.group_of_var]
        var_ok[idx] = False
        plus = np.flatnonzero(var_ok & ~is_ctrl_var)
        minus = idx[space.group_of_var[plus]]
        ctrl = np.flatnonzero(var_ok & is_ctrl_var)
        changes = []  # controller moves: (variables, +-1 per variable)
        for v in ctrl:
            g = space.group_of_var[v]
            nz, d = [v, idx[g]], [1.0, -1.0]
            for dep, mask in deps[g]:
                if not mask[v - space.offsets[g]] and choices[dep] != 0:
                    nz += [space.offsets[dep], idx[dep]]
                    d += [1.0, -1.0]
            changes.append((np.array(nz), np.array(d)))
        # controller moves as padded (R, L) arrays; padding has d = 0 and adds nothing
        width = max((len(nz) for nz, _ in changes), default=0)
        NZ = np.zeros((len(changes), width), dtype=np.int64)
        D = np.zeros((len(changes), width))
        for r, (nz, d) in enumerate(changes):
            NZ[r, :len(nz)], D[r, :len(d)] = nz, d
        delta = np.empty((len(forms), len(plus) + len(ctrl)))
        for k, f in enumerate(forms):
            grad = f.grad(idx)
            delta[k, :len(plus)] = grad[plus] - grad[minus]
            if len(changes):
                delta[k, len(plus):] = (grad[NZ] * D).sum(axis=1) + f.quad(NZ, D)
        new_vals = vals[:, None] + delta
        ok = delta[0] > 1e-12
        for k, (_, budget) in enumerate(cons, start=1):
            ok &= new_vals[k] <= budget
        targets = np.concatenate([plus, ctrl])
        for coef, lb, ub in lins:
            base = coef[idx].sum()
            lv = np.concatenate([base + coef[plus] - coef[minus],
                                 [base + coef[nz] @ d for nz, d in changes]])
            ok &= (lv >= lb) & (lv <= ub)
        step = new = None
        for r in np.flatnonzero(ok)[np.argsort(-delta[0][ok])]:
            v = targets[r]
            g = space.group_of_var[v]
            new = choices.copy()
            new[g] = v - space.offsets[g]
            for dep, mask in deps.get(g, ()):
                if not mask[new[g]]:
                    new[dep] = 0
            if not excluded or tuple(int(c) for c in new) not in excluded:
                step = r
                break
        if step is None:
            break
        choices = new
        idx = space.offsets + choices
        vals = new_vals[:, step]
    return choices, float(vals[0])
