"""Shared pieces of the heuristic searchers (random, evolution, bcfw).

* :class:`FastForm` evaluates a QuadraticForm over batches of option-index rows with its pair
  blocks cached once (``QuadraticForm.evaluate_choices`` rebuilds them on every call, which
  dominates when a searcher evaluates a few rows at a time).
* :class:`SearchContext` wraps a problem for a searcher: fitness in the maximisation sense,
  feasibility through :func:`iqnas.solvers.exhaustive.feasible_mask`, a deadline, the incumbent,
  evaluation counts and the trace, and builds the :class:`RawSolution`.
* Genome helpers: canonical rows (inactive groups hold option 0), hidden genes for inactive
  groups, mutation and crossover, all vectorised over rows.
* :func:`repair` and :func:`cheapest` walk single-group moves towards feasibility.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from iqnas.errors import InputError
from iqnas.problem import Constraint, Problem
from iqnas.quadform import QuadraticForm
from iqnas.result import TracePoint
from iqnas.solvers.base import RawSolution
from iqnas.solvers.exhaustive import feasible_mask
from iqnas.space import SearchSpace
from iqnas.status import Status

#: above this many group pairs with products, FastForm gathers from a dense matrix instead
DENSE_PAIRS = 32
#: largest one-hot length for which the dense matrix is built
DENSE_MAX_VARS = 3000
#: rows evaluated at once by the dense gather (bounds its memory)
GATHER_ROWS = 4096


# ---- options ---------------------------------------------------------------------------------
def positive_int(name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise InputError(f"option {name!r} must be a positive integer, got {v!r}")
    return int(v)


def nonneg_int(name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
        raise InputError(f"option {name!r} must be an integer >= 0, got {v!r}")
    return int(v)


def fraction(name: str, v: Any) -> float:
    """A number in (0, 1]."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not 0 < v <= 1:
        raise InputError(f"option {name!r} must be a number in (0, 1], got {v!r}")
    return float(v)


def probability(name: str, v: Any) -> float:
    """A number in [0, 1]."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not 0 <= v <= 1:
        raise InputError(f"option {name!r} must be a number in [0, 1], got {v!r}")
    return float(v)


def boolean(name: str, v: Any) -> bool:
    if not isinstance(v, (bool, np.bool_)):
        raise InputError(f"option {name!r} must be True or False, got {v!r}")
    return bool(v)


def one_of(*choices: str) -> Callable[[str, Any], str]:
    def check(name: str, v: Any) -> str:
        if v not in choices:
            raise InputError(f"option {name!r} must be one of {', '.join(choices)}, got {v!r}")
        return v
    return check


def parse_params(solver: str, params: Mapping[str, Any],
                 spec: Mapping[str, tuple[Any, Callable[[str, Any], Any]]]
                 ) -> tuple[dict[str, Any], set[str]]:
    """Validate ``params`` against ``spec`` (name -> (default, checker)).

    Returns the full settings and the set of names the caller gave explicitly.
    """
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise InputError(f"unknown {solver} option(s) {unknown}; allowed: {', '.join(spec)}")
    out = {k: default for k, (default, _) in spec.items()}
    for k, v in params.items():
        out[k] = spec[k][1](k, v)
    return out, set(params)


# ---- fast evaluation -------------------------------------------------------------------------
class FastForm:
    """Batch evaluator of a QuadraticForm over (n, n_groups) option-index arrays."""

    def __init__(self, form: QuadraticForm) -> None:
        sp_ = form.space
        self.form = form
        self.offsets = sp_.offsets
        self.intercept = form.intercept
        self.linear = form.linear
        blocks = form._pair_blocks()
        self.pairs = [(gi, gj, b) for (gi, gj), b in blocks.items()]
        self.dense = None
        if len(self.pairs) > DENSE_PAIRS and sp_.n_vars <= DENSE_MAX_VARS:
            self.dense = form.pairwise.toarray()

    def evaluate_choices(self, choices: np.ndarray) -> np.ndarray:
        C = np.asarray(choices, dtype=np.int64)
        idx = C + self.offsets[None, :]
        val = self.intercept + self.linear[idx].sum(axis=1)
        if self.dense is not None:
            for s in range(0, C.shape[0], GATHER_ROWS):
                sl = idx[s:s + GATHER_ROWS]
                pair_sum = self.dense[sl[:, :, None], sl[:, None, :]].sum(axis=(1, 2))
                val[s:s + GATHER_ROWS] += pair_sum
        else:
            for gi, gj, b in self.pairs:
                val += b[C[:, gi], C[:, gj]]
        return val

    def __call__(self, choices: np.ndarray) -> np.ndarray:
        return self.evaluate_choices(choices)


@dataclass
class _View:
    """What feasible_mask reads from a problem, with cached evaluators."""

    space: SearchSpace
    constraints: tuple
    linear_constraints: tuple
    exclude: tuple


class SearchContext:
    """A problem as a searcher sees it: maximise ``fitness`` over feasible canonical rows."""

    def __init__(self, problem: Problem, time_limit: float | None) -> None:
        self.problem = problem
        self.space = problem.space
        self.sign = 1.0 if problem.sense == "maximize" else -1.0
        self.objective = FastForm(problem.objective)
        self.constraints = tuple(Constraint(c.name, FastForm(c.form), c.budget, c.units)
                                 for c in problem.constraints)
        self._view = _View(self.space, self.constraints, tuple(problem.linear_constraints),
                           tuple(problem.exclude))
        self.t0 = time.perf_counter()
        self.deadline = None if time_limit is None else self.t0 + float(time_limit)
        self.n_evals = 0
        self.n_checks = 0
        self.best: np.ndarray | None = None
        self.best_fit = -math.inf
        self.trace: list[TracePoint] = []

    # ---- time ----------------------------------------------------------------------------
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def out_of_time(self, fraction_: float = 1.0) -> bool:
        if self.deadline is None:
            return False
        limit = self.t0 + fraction_ * (self.deadline - self.t0)
        return time.perf_counter() >= limit

    # ---- evaluation ----------------------------------------------------------------------
    def feasible(self, C: np.ndarray) -> np.ndarray:
        """Feasibility of canonical rows (budgets, linear rows, exclusions)."""
        C = np.asarray(C, dtype=np.int64)
        self.n_checks += C.shape[0]
        return feasible_mask(self._view, C)

    def fitness(self, C: np.ndarray) -> np.ndarray:
        """The objective in the maximisation sense."""
        C = np.asarray(C, dtype=np.int64)
        self.n_evals += C.shape[0]
        return self.sign * self.objective.evaluate_choices(C)

    def resources(self, C: np.ndarray) -> np.ndarray:
        """(n, n_constraints) resource values."""
        C = np.asarray(C, dtype=np.int64)
        if not self.constraints:
            return np.zeros((C.shape[0], 0))
        return np.stack([c.form.evaluate_choices(C) for c in self.constraints], axis=1)

    def violation(self, C: np.ndarray) -> np.ndarray:
        """How far rows are from feasible: 0 when feasible, larger when worse (scale-free)."""
        C = np.asarray(C, dtype=np.int64)
        v = self.other_violation(C)
        for c in self.constraints:
            vals = c.form.evaluate_choices(C)
            v += np.maximum(vals - c.budget, 0.0) / max(1.0, abs(c.budget))
        return v

    def other_violation(self, C: np.ndarray) -> np.ndarray:
        """Violation of the linear rows plus 1 per excluded row (budgets left out)."""
        C = np.asarray(C, dtype=np.int64)
        v = np.zeros(C.shape[0])
        idx = C + self.space.offsets[None, :]
        for lc in self.problem.linear_constraints:
            vals = lc.coef[idx].sum(axis=1)
            scale = max(1.0, *(abs(b) for b in (lc.lb, lc.ub) if math.isfinite(b)))
            v += (np.maximum(lc.lb - vals, 0.0) + np.maximum(vals - lc.ub, 0.0)) / scale
        for arch in self.problem.exclude:
            v += np.all(C == np.asarray(arch.choices)[None, :], axis=1)
        return v

    def offer(self, C: np.ndarray, fit: np.ndarray) -> None:
        """Record feasible canonical rows ``C`` with fitness ``fit``; keep the best."""
        if len(fit) == 0:
            return
        k = int(np.argmax(fit))
        if fit[k] > self.best_fit:
            self.best_fit = float(fit[k])
            self.best = np.array(C[k], dtype=np.int64)
            self.trace.append(TracePoint(self.elapsed(), self.sign * self.best_fit, math.nan,
                                         math.nan))

    # ---- answer --------------------------------------------------------------------------
    def raw(self, raw_status: str, message: str = "", nodes: int | None = None) -> RawSolution:
        """The incumbent as a RawSolution (FEASIBLE), or NO_SOLUTION.

        ``nodes`` defaults to the number of objective evaluations.
        """
        nodes = self.n_evals if nodes is None else nodes
        counts = f"{self.n_evals} objective evaluations, {self.n_checks} feasibility checks"
        message = f"{message}; {counts}" if message else counts
        solve_time = self.elapsed()
        if self.best is None:
            return RawSolution(Status.NO_SOLUTION, raw_status, nodes=nodes,
                               solve_time=solve_time, trace=self.trace,
                               message=f"no feasible architecture found; {message}")
        x = self.space.choices_to_onehot(self.best[None, :])[0]
        return RawSolution(Status.FEASIBLE, raw_status, x=x, dual_bound=None, gap=None,
                           nodes=nodes, solve_time=solve_time, trace=self.trace,
                           message=message)


# ---- genomes ---------------------------------------------------------------------------------
def activity(space: SearchSpace, G: np.ndarray) -> np.ndarray:
    """(n, n_groups) boolean: which groups are active in each row."""
    act = np.ones(G.shape, dtype=bool)
    for i, (c, mask) in space.conditions.items():
        act[:, i] = mask[G[:, c]]
    return act


def canonical(space: SearchSpace, G: np.ndarray) -> np.ndarray:
    """Rows with every inactive group set to option 0 (the architecture a genome encodes)."""
    out = np.array(G, dtype=np.int64, copy=True)
    for i, (c, mask) in space.conditions.items():
        out[:, i] = np.where(mask[out[:, c]], out[:, i], 0)
    return out


def with_hidden_genes(space: SearchSpace, rng: np.random.Generator, C: np.ndarray) -> np.ndarray:
    """Genomes: canonical rows whose inactive groups get random (unexpressed) options."""
    G = np.array(C, dtype=np.int64, copy=True)
    if space.conditions:
        act = activity(space, G)
        draw = rng.integers(0, space.sizes[None, :], size=G.shape)
        G = np.where(act, G, draw)
    return G


def random_genomes(space: SearchSpace, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` genomes whose architectures are uniform over the space."""
    return with_hidden_genes(space, rng, space.sample_choices(rng, n))


def mutate_genes(space: SearchSpace, rng: np.random.Generator, G: np.ndarray,
                 prob: float) -> np.ndarray:
    """Resample each gene uniformly with probability ``prob`` (BINAS / OFA mutation)."""
    draw = rng.integers(0, space.sizes[None, :], size=G.shape)
    return np.where(rng.random(G.shape) < prob, draw, G)


def mutate_one(space: SearchSpace, rng: np.random.Generator, G: np.ndarray) -> np.ndarray:
    """Change one active group per row to a different option (REA / FreeREA mutation)."""
    G = np.array(G, dtype=np.int64, copy=True)
    if G.shape[0] == 0:
        return G
    movable = activity(space, G) & (space.sizes[None, :] > 1)
    keys = np.where(movable, rng.random(G.shape), -1.0)
    g = keys.argmax(axis=1)
    rows = np.arange(G.shape[0])
    ok = movable[rows, g]
    r = rng.integers(0, np.maximum(space.sizes[g] - 1, 1))
    cur = G[rows, g]
    new = r + (r >= cur)
    G[rows[ok], g[ok]] = new[ok]
    return G


def crossover(rng: np.random.Generator, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Uniform crossover: each gene from either parent with probability 1/2."""
    return np.where(rng.random(A.shape) < 0.5, A, B)


def row_keys(C: np.ndarray) -> list[bytes]:
    C = np.ascontiguousarray(C, dtype=np.int64)
    return [r.tobytes() for r in C]


# ---- local moves -----------------------------------------------------------------------------
def neighbours(space: SearchSpace, c: np.ndarray) -> np.ndarray:
    """Every canonical row that differs from canonical row ``c`` in one active group."""
    act = activity(space, c[None, :])[0]
    rows = []
    for g in np.flatnonzero(act):
        n = int(space.sizes[g])
        if n < 2:
            continue
        block = np.repeat(c[None, :], n - 1, axis=0)
        block[:, g] = [o for o in range(n) if o != c[g]]
        rows.append(block)
    if not rows:
        return np.zeros((0, len(c)), dtype=np.int64)
    return canonical(space, np.concatenate(rows))


def repair(ctx: SearchContext, c: np.ndarray, max_steps: int | None = None) -> np.ndarray | None:
    """Greedy single-group moves from ``c`` until feasible, or None.

    Each step takes the best feasible neighbour if there is one; otherwise the neighbour that
    lowers the violation the most per unit of objective lost. Stops when nothing lowers it.
    """
    space = ctx.space
    c = canonical(space, np.asarray(c, dtype=np.int64)[None, :])[0]
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
    for c in ctx.constraints:
        s += c.form.evaluate_choices(C) / max(abs(c.budget), 1e-9)
    return s


def cheapest(ctx: SearchContext, c: np.ndarray, max_steps: int | None = None) -> np.ndarray:
    """Best-improvement single-group descent on :func:`resource_score` from canonical ``c``."""
    space = ctx.space
    c = canonical(space, np.asarray(c, dtype=np.int64)[None, :])[0]
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


def make_rng(seed: int | None) -> np.random.Generator:
    return np.random.default_rng(seed)


def time_or_count(time_limit: float | None, explicit: bool) -> bool:
    """Whether the count setting bounds the run: yes unless a time limit replaces it."""
    return time_limit is None or explicit
