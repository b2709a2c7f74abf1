"""Samplers of distinct architectures for calibration runs: uniform, stratified, budget-aware.

Each sampler is a small object with ``sample_choices(space, n, seed) -> (n, n_groups) int array``
and ``sample(space, n, seed) -> list[Architecture]``. ``seed`` is an int, a numpy Generator or
None; the same seed gives the same sample. One call never returns the same architecture twice
(asking for more architectures than exist raises ``InputError``). Samplers take their options as
keyword arguments (``get_params`` / ``set_params``, checked by ``_parameter_constraints`` when
they sample).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping

import numpy as np

from iqnas._validation import Boolean, InstanceOf, Interval, Parameterized, check_value
from iqnas.errors import InputError
from iqnas.problem import Problem, within_budget
from iqnas.quadform import QuadraticForm
from iqnas.space import Architecture, SearchSpace

log = logging.getLogger(__name__)

#: spaces up to this size are enumerated instead of sampled by rejection
ENUMERATE_LIMIT = 200_000


class BaseSampler(Parameterized):
    """Draws distinct architectures of a space."""

    def sample_choices(self, space: SearchSpace, n: int, seed=None) -> np.ndarray:
        raise NotImplementedError

    def sample(self, space: SearchSpace, n: int, seed=None) -> list[Architecture]:
        C = self.sample_choices(space, n, seed)
        return [Architecture(space, tuple(int(v) for v in row)) for row in C]


def check_n(sampler: BaseSampler, n) -> int:
    """``n`` as a count of architectures to draw (the one message shape otherwise)."""
    return check_value(n, [Interval("int", 0, None)], "n",
                       f"{type(sampler).__name__}.sample_choices()")


def _check_n(sampler: BaseSampler, space: SearchSpace, n) -> int:
    sampler._validate_params()
    n = check_n(sampler, n)
    if n > space.size:
        raise InputError(f"cannot draw {n} distinct architectures: space {space.name!r} has only "
                         f"{space.size}")
    return int(n)


def unique_rows(C: np.ndarray) -> np.ndarray:
    """Rows of ``C`` without repeats, in order of first occurrence."""
    if C.shape[0] == 0:
        return C
    _, idx = np.unique(C, axis=0, return_index=True)
    return C[np.sort(idx)]


def duplicated(C: np.ndarray) -> np.ndarray:
    """Boolean mask of rows equal to an earlier row."""
    out = np.ones(C.shape[0], dtype=bool)
    if C.shape[0]:
        _, idx = np.unique(C, axis=0, return_index=True)
        out[idx] = False
    return out


class UniformSampler(BaseSampler):
    """Uniform over distinct architectures (each architecture equally likely, no repeats)."""

    def sample_choices(self, space: SearchSpace, n: int, seed=None) -> np.ndarray:
        n = _check_n(self, space, n)
        rng = np.random.default_rng(seed)
        if space.size <= 4 * n:  # dense request: choose from the enumeration
            allc = space.enumerate_choices().astype(np.int64)
            return allc[rng.choice(allc.shape[0], size=n, replace=False)]
        out = np.zeros((0, space.n_groups), dtype=np.int64)
        while out.shape[0] < n:  # the space has > 4n architectures: few repeats per round
            out = unique_rows(np.concatenate([out, space.sample_choices(rng, n - out.shape[0])]))
        return out[:n]


def _balanced(k: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """``m`` draws from ``range(k)`` whose counts differ by at most 1, in random order."""
    seq = rng.permutation(k)[np.arange(m) % k]
    rng.shuffle(seq)
    return seq


def balanced_choices(space: SearchSpace, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` rows with balanced option counts per group (over its active rows); may repeat."""
    C = np.zeros((n, space.n_groups), dtype=np.int64)
    for g in range(space.n_groups):
        if g not in space.conditions:
            C[:, g] = _balanced(int(space.sizes[g]), n, rng)
    act = space.activity(C)  # controllers are unconditional: their options are all set
    for g in space.conditions:
        C[act[:, g], g] = _balanced(int(space.sizes[g]), int(act[:, g].sum()), rng)
    return C


class _RepairFailed(Exception):
    """The balanced rows could not be made distinct."""


class StratifiedSampler(BaseSampler):
    """Every option of every group appears equally often (Latin-hypercube style).

    Each group gets a shuffled sequence of option indices whose counts differ by at most one.
    A conditional group is balanced over the rows where it is active (elsewhere it holds option
    0); controller groups (e.g. depths) are balanced too, so they are not size-weighted as in
    ``UniformSampler``. Repeated rows are repaired by swapping one group's options between two
    rows, which keeps every count. ``n`` equal to the space's size returns the whole space;
    between about 80 % of it and all of it the repair may fail: those rows are then drawn as
    ``UniformSampler`` draws them (logged).
    """

    _parameter_constraints = {"max_tries": [Interval("int", 1, None)]}

    def __init__(self, max_tries: int = 200) -> None:
        self.max_tries = max_tries

    def sample_choices(self, space: SearchSpace, n: int, seed=None) -> np.ndarray:
        n = _check_n(self, space, n)
        rng = np.random.default_rng(seed)
        if n == space.size:  # the only distinct sample: the whole space, shuffled
            return rng.permutation(space.enumerate_choices().astype(np.int64))
        try:
            return self._repair(space, balanced_choices(space, n, rng), rng)
        except _RepairFailed:
            log.info("StratifiedSampler: %d balanced rows cannot be made distinct in space %r "
                     "(%d architectures); drawing them uniformly instead", n, space.name,
                     space.size)
            return UniformSampler().sample_choices(space, n, rng)

    def _repair(self, space: SearchSpace, C: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Swap one movable group's options between a repeated row and another row, so every
        option count is unchanged. Preferred swaps make both rows new architectures; after
        ``max_tries`` failures one that makes the repeated row new is accepted; after twice
        that, any swap (a random-walk step) and the rows are queued again."""
        ctrls = {c for c, _ in space.conditions.values()}
        act = space.activity(C)
        movable = [g for g in range(space.n_groups) if g not in ctrls]
        holders = {g: np.flatnonzero(act[:, g]) for g in movable}
        seen: dict[bytes, int] = {}
        for row in C:
            seen[row.tobytes()] = seen.get(row.tobytes(), 0) + 1
        queue = deque(int(r) for r in np.flatnonzero(duplicated(C)))
        budget = start = 100 * (len(queue) + self.max_tries)
        while queue:
            r = queue.popleft()
            groups = [g for g in movable if act[r, g]]
            if seen[C[r].tobytes()] < 2 or not groups:
                continue
            for attempt in range(2 * self.max_tries + 1):
                budget -= 1
                g = groups[int(rng.integers(len(groups)))]
                s = int(holders[g][int(rng.integers(len(holders[g])))])
                if C[s, g] == C[r, g]:
                    continue
                old_r, old_s = C[r].tobytes(), C[s].tobytes()
                C[r, g], C[s, g] = C[s, g], C[r, g]
                new_r, new_s = C[r].tobytes(), C[s].tobytes()
                forced = attempt == 2 * self.max_tries
                if forced or (new_r not in seen and (new_s not in seen
                                                      or attempt >= self.max_tries)):
                    for k in (old_r, old_s):
                        seen[k] -= 1
                    for k, row in ((new_r, r), (new_s, s)):
                        seen[k] = seen.get(k, 0) + 1
                        if seen[k] > 1:
                            queue.append(row)
                    break
                C[r, g], C[s, g] = C[s, g], C[r, g]
            else:
                queue.append(r)
            if budget < 0:
                raise _RepairFailed
        log.debug("StratifiedSampler: repair used %d swap attempts", start - budget)
        if duplicated(C).any():  # only rows without a movable group can remain repeated
            raise _RepairFailed
        return C


class BudgetAwareSampler(BaseSampler):
    """Only architectures within every budget: ``constraints`` maps a name to ``(form, budget)``.

    Spaces of up to ``ENUMERATE_LIMIT`` architectures are enumerated and filtered exactly;
    larger ones are sampled by vectorised rejection in batches of ``batch`` until ``n`` distinct
    feasible rows are found or ``max_draws`` candidates were tried (then ``InputError`` names
    the tightest budget). Without ``stratified`` the result is uniform over the feasible set;
    with it, candidates are drawn stratified and rows are picked greedily from a feasible pool of
    ``pool_factor * n`` so that option counts are as even as the budgets allow.
    """

    _parameter_constraints = {
        "constraints": [InstanceOf((Mapping, list, tuple),
                                   "a dict of name -> (form, budget) or a list of Constraints")],
        "stratified": [Boolean()],
        "batch": [Interval("int", 1, None)],
        "max_draws": [Interval("int", 1, None)],
        "pool_factor": [Interval("int", 1, None)],
    }

    def __init__(self, constraints, *, stratified: bool = False, batch: int = 8192,
                 max_draws: int = 2_000_000, pool_factor: int = 4) -> None:
        self.constraints = constraints
        self.stratified = stratified
        self.batch = batch
        self.max_draws = max_draws
        self.pool_factor = pool_factor

    def _problem(self, space: SearchSpace) -> Problem:
        """The budgets as a problem (zero objective): its kernel checks them."""
        return Problem(space, QuadraticForm(space), constraints=self.constraints)

    def feasible(self, space: SearchSpace, C: np.ndarray) -> np.ndarray:
        """Mask of rows of ``C`` within every budget (``Problem.feasible``)."""
        return self._problem(space).feasible(C)

    def sample_choices(self, space: SearchSpace, n: int, seed=None) -> np.ndarray:
        n = _check_n(self, space, n)
        rng = np.random.default_rng(seed)
        problem = self._problem(space)
        want = n * self.pool_factor if self.stratified else n
        if space.size <= ENUMERATE_LIMIT:
            pool = self._enumerated(space, problem, n)
            pool = pool[rng.permutation(pool.shape[0])]
        else:
            pool = self._rejection(space, problem, n, want, rng)
        if not self.stratified:
            return pool[:n]
        return _balanced_subset(space, pool[:want], n, rng)

    def _enumerated(self, space: SearchSpace, problem: Problem, n: int) -> np.ndarray:
        allc = space.enumerate_choices().astype(np.int64)
        within = _within(problem, allc)
        ok = within.all(axis=1)
        passes = {c.name: float(within[:, k].mean()) for k, c in enumerate(problem.constraints)}
        if ok.sum() < n:
            raise InputError(f"only {int(ok.sum())} architectures of {space.name!r} meet the "
                             f"budgets, {n} requested; {_advice(passes)}")
        return allc[ok]

    def _rejection(self, space, problem: Problem, n: int, want: int, rng) -> np.ndarray:
        pool = np.zeros((0, space.n_groups), dtype=np.int64)
        draws, passed = 0, {c.name: 0 for c in problem.constraints}
        while pool.shape[0] < want and draws < self.max_draws:
            m = min(self.batch, self.max_draws - draws)
            B = balanced_choices(space, m, rng) if self.stratified else space.sample_choices(rng, m)
            draws += B.shape[0]
            within = _within(problem, B)
            for k, c in enumerate(problem.constraints):
                passed[c.name] += int(within[:, k].sum())
            ok = within.all(axis=1)
            pool = unique_rows(np.concatenate([pool, B[ok]]))
        if pool.shape[0] < n:
            frac = {k: v / max(draws, 1) for k, v in passed.items()}
            raise InputError(f"only {pool.shape[0]} distinct feasible architectures in {draws} "
                             f"draws (feasible fraction {pool.shape[0] / max(draws, 1):.2g}), "
                             f"{n} requested; {_advice(frac)} or raise max_draws")
        log.debug("BudgetAwareSampler: %d feasible of %d draws", pool.shape[0], draws)
        return pool


def _within(problem: Problem, C: np.ndarray) -> np.ndarray:
    """(n, n_constraints): each row within each budget (the tolerance of ``within_budget``)."""
    return within_budget(problem.resource_values(C), problem.budgets)


def _advice(pass_fraction: dict[str, float]) -> str:
    if not pass_fraction:
        return "lower n"
    name = min(pass_fraction, key=pass_fraction.get)
    return (f"increase the budget of {name!r} (only {pass_fraction[name]:.2%} of architectures "
            "meet it) or lower n")


def _balanced_subset(space: SearchSpace, pool: np.ndarray, n: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Greedily pick ``n`` rows of ``pool`` whose active option counts are as even as possible:
    each step takes the row whose options (averaged over its active groups) have been picked
    least so far, ties broken at random."""
    pool = space.canonical(pool)
    act = space.activity(pool)
    weight = 1.0 / act.sum(axis=1)
    score = np.zeros(pool.shape[0])
    priority = 1e-6 * rng.random(pool.shape[0])  # breaks ties only
    taken = np.zeros(pool.shape[0], dtype=bool)
    members = {}  # (group, option) -> pool rows where the group is active with that option
    for g in range(space.n_groups):
        rows = np.flatnonzero(act[:, g])
        for o in range(int(space.sizes[g])):
            members[g, o] = rows[pool[rows, g] == o]
    out = np.empty(n, dtype=np.int64)
    for t in range(n):
        key = np.where(taken, np.inf, score + priority)
        r = int(np.argmin(key))
        out[t], taken[r] = r, True
        for g in np.flatnonzero(act[r]):
            rows = members[g, int(pool[r, g])]
            score[rows] += weight[rows]
    return pool[out]


__all__ = ["BaseSampler", "BudgetAwareSampler", "StratifiedSampler", "UniformSampler",
           "duplicated", "unique_rows"]
