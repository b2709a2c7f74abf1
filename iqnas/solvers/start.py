"""A fast primal start: best sampled architectures improved by feasible one-group moves and, where
those stall, two-group moves.

Used by the SCIP backend as a MIP start. It only proposes architectures that satisfy every budget,
linear constraint and exclusion of the problem with a small safety margin
(``problem.feasible(C, margin=MARGIN)``), so it never changes what is optimal: it only gives the
solver an early incumbent.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from iqnas.problem import Problem
from iqnas.solvers.context import SearchContext
from iqnas.solvers.moves import apply_moves, move_targets, repair
from iqnas.space import Architecture

#: budgets are met with this relative margin, so the solver's own tolerances accept the start
MARGIN = 1e-7
#: a move must raise the objective by more than this to be taken
MIN_GAIN = 1e-12
#: two-group moves are tried while the one-group targets are at most this many (pairs grow
#: quadratically) and the one-hot vector is at most this long (dense pair matrices)
PAIR_MAX_TARGETS = 1500
PAIR_MAX_VARS = 2048
#: candidate two-group moves checked exactly per step (best predicted gain first)
PAIR_CHECK = 64


def local_search(problem: Problem, n_samples: int = 256, starts: int = 4, seed: int = 0,
                 time_limit: float = 1.0, pair_moves: bool = True,
                 patience: int = 0, max_climbs: int = 0) -> Architecture | None:
    """A good feasible architecture (or None if none was found).

    Climbs from the best of ``n_samples`` sampled architectures (and of the least violating ones,
    repaired, when fewer than ``starts`` samples are feasible). ``starts`` climbs, or with
    ``patience`` > 0: climbs from ever new samples until ``patience`` climbs in a row end no
    higher than the best so far (at most ``max_climbs``, 0 = no limit), within ``time_limit``
    seconds. ``pair_moves``: when no one-group move improves, try moves that change two groups
    at once (needed when several budgets are tight: a gain in one group must be paid for in
    another)."""
    t_end = time.perf_counter() + time_limit
    space = problem.space
    sign = 1.0 if problem.sense == "maximize" else -1.0
    rng = np.random.default_rng(seed)
    first = np.zeros((1, space.n_groups), dtype=np.int64)
    best, best_val = None, -np.inf
    pairs = _PairMoves(problem, sign) if pair_moves and _PairMoves.fits(problem) else None
    climbs = since_best = 0
    while time.perf_counter() < t_end:
        C = np.vstack([first, space.sample_choices(rng, n_samples)])
        first = first[:0]
        feasible = problem.feasible(C, margin=MARGIN)
        F = C[feasible]
        vals = sign * problem.objective_values(F)
        rows = [(F[k], float(vals[k])) for k in np.argsort(-vals)[:starts]]
        if len(rows) < starts:  # tight budgets: climb repaired samples too, after these
            rows = itertools.chain(rows, _repaired(problem, C[~feasible], starts - len(rows),
                                                   sign, t_end))
        found = False
        for row, val0 in rows:
            choices, val = _climb(problem, sign, row, val0, t_end, pairs)
            found = True
            climbs += 1
            since_best += 1
            if val > best_val + MIN_GAIN:
                best, best_val, since_best = choices, val, 0
            if time.perf_counter() > t_end:
                break
        if not found or patience <= 0 or since_best >= patience or 0 < max_climbs <= climbs:
            break
    if best is None:
        return None
    return Architecture(space, tuple(int(v) for v in best))


def _repaired(problem: Problem, C: np.ndarray, k: int, sign: float, t_end: float):
    """Up to ``k`` feasible rows (with their sign-adjusted objective) repaired by greedy
    one-group moves (``moves.repair``) from the rows of ``C`` that break the budgets least,
    one at a time."""
    ctx = SearchContext(problem, None)
    for c in C[np.argsort(ctx.violation(C), kind="stable")][:k]:
        if time.perf_counter() > t_end:
            return
        r = repair(ctx, c)
        if r is not None and problem.feasible(r[None, :], margin=MARGIN)[0]:
            yield r, sign * float(problem.objective_values(r[None, :])[0])


def _climb(problem: Problem, sign: float, choices: np.ndarray, value: float,
           t_end: float, pairs: _PairMoves | None = None) -> tuple[np.ndarray, float]:
    """Best-improvement hill climbing over feasible one-group moves (moving a controller also
    resets the groups it deactivates to option 0).

    A move that changes one group's option changes the objective by exactly the difference of
    the gradient at the two options; controller moves, which may reset other groups, are
    evaluated.
    """
    space, objective = problem.space, problem.objective
    controller = np.zeros(space.n_groups, dtype=bool)
    controller[[c for c, _ in space.conditions.values()]] = True
    while time.perf_counter() < t_end:
        targets = move_targets(space, choices)
        if not len(targets):
            break
        nb = apply_moves(space, choices, targets)
        group = space.group_of_var[targets]
        grad = sign * objective.gradient(choices=choices[None, :])[0]
        gain = grad[targets] - grad[space.offsets[group] + choices[group]]
        ctrl = controller[group]
        if ctrl.any():
            gain[ctrl] = sign * problem.objective_values(nb[ctrl]) - value
        up = np.flatnonzero(gain > MIN_GAIN)
        if len(up):
            up = up[problem.feasible(nb[up], margin=MARGIN)]
        if not len(up):
            moved = None if pairs is None else pairs.best(choices, targets[~ctrl], value)
            if moved is None:
                break
            choices, value = moved
            continue
        k = up[int(np.argmax(gain[up]))]
        choices, value = nb[k], value + float(gain[k])
    return choices, sign * float(problem.objective_values(choices)[0])


class _PairMoves:
    """Improving feasible moves that switch two (non-controller) groups at once.

    The objective and every budget change by the two one-group changes plus one interaction
    term read from the dense symmetric pair matrix ``S = P + P^T``: for targets ``a`` and ``b``
    replacing options ``a0`` and ``b0``, ``S[a, b] - S[a, b0] - S[a0, b] + S[a0, b0]``. The
    predicted best few are checked exactly (``problem.feasible``, the objective re-evaluated).
    """

    def __init__(self, problem: Problem, sign: float) -> None:
        self.problem, self.sign = problem, sign
        forms = [problem.objective] + [c.form for c in problem.constraints]
        self.S = [_dense_symmetric(f) for f in forms]
        self.lin = [f.linear for f in forms]
        self.scale = np.maximum(1.0, np.abs(problem.budgets))

    @staticmethod
    def fits(problem: Problem) -> bool:
        return problem.space.n_vars <= PAIR_MAX_VARS

    def _delta(self, k: int, cur: np.ndarray, a: np.ndarray, a0: np.ndarray) -> np.ndarray:
        """(T, T) change of form ``k`` for switching targets ``a[i]`` (from ``a0[i]``) and
        ``a[j]`` (from ``a0[j]``) together, from the one-hot vector ``cur``."""
        S, lin = self.S[k], self.lin[k]
        g = lin + S @ cur
        one = g[a] - g[a0] - S[a, a0]  # each single move (S[a0, a0] = 0: no product in a group)
        inter = S[np.ix_(a, a)] - S[np.ix_(a, a0)] - S[np.ix_(a0, a)] + S[np.ix_(a0, a0)]
        return one[:, None] + one[None, :] + inter

    def best(self, choices: np.ndarray, targets: np.ndarray, value: float):
        """The best improving feasible two-group move from ``choices``, or None."""
        space, problem = self.problem.space, self.problem
        if len(targets) < 2 or len(targets) > PAIR_MAX_TARGETS:
            return None
        group = space.group_of_var[targets]
        a0 = space.offsets[group] + choices[group]
        cur = space.choices_to_onehot(choices[None, :])[0]
        gain = self.sign * self._delta(0, cur, targets, a0)
        ok = (group[:, None] != group[None, :]) & np.triu(np.ones(gain.shape, bool), 1)
        ok &= gain > MIN_GAIN
        if not ok.any():
            return None
        if problem.constraints:
            now = problem.resource_values(choices[None, :])[0]
            for k, c in enumerate(problem.constraints, start=1):
                room = c.budget + 1e-7 * self.scale[k - 1] - now[k - 1]
                ok &= self._delta(k, cur, targets, a0) <= room
        i, j = np.nonzero(ok)
        if not len(i):
            return None
        order = np.argsort(-gain[i, j], kind="stable")[:PAIR_CHECK]
        i, j = i[order], j[order]
        rows = np.repeat(choices[None, :], len(i), axis=0)
        rows[np.arange(len(i)), group[i]] = targets[i] - space.offsets[group[i]]
        rows[np.arange(len(i)), group[j]] = targets[j] - space.offsets[group[j]]
        rows = space.canonical(rows)
        feas = problem.feasible(rows, margin=MARGIN)
        if not feas.any():
            return None
        vals = self.sign * problem.objective_values(rows[feas])
        k = int(np.argmax(vals))
        if not vals[k] > value + MIN_GAIN:
            return None
        return rows[feas][k], float(vals[k])


def _dense_symmetric(form) -> np.ndarray:
    P = form.pairwise
    S = P.toarray() if hasattr(P, "toarray") else np.asarray(P, dtype=float)
    return S + S.T
