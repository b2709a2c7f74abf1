"""Exhaustive search: evaluate every architecture, vectorised. The ground truth for tests
(configured by :class:`iqnas.solvers.Exhaustive`)."""

from __future__ import annotations

import time

import numpy as np

from iqnas.errors import InputError
from iqnas.problem import Problem
from iqnas.solvers.base import RawSolution, SolveOptions
from iqnas.status import Status

#: rows evaluated at once
CHUNK = 250_000


def solve(problem: Problem, options: SolveOptions, limit: int) -> RawSolution:
    """The best feasible architecture of a space of at most ``limit`` architectures."""
    t0 = time.perf_counter()
    space = problem.space
    if space.size > limit:
        raise InputError(f"space {space.name!r} has {space.size:.3g} architectures; the "
                         f"exhaustive solver stops at {limit:,} (Exhaustive(limit=...)); use "
                         "solver='scip'")
    choices = space.enumerate_choices(limit)
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    sign = 1.0 if problem.sense == "maximize" else -1.0
    best_val, best_row, done = -np.inf, None, 0
    for start in range(0, choices.shape[0], CHUNK):
        block = choices[start:start + CHUNK].astype(np.int64)
        vals = sign * problem.objective_values(block)
        vals[~problem.feasible(block)] = -np.inf
        k = int(np.argmax(vals))
        if vals[k] > best_val:
            best_val, best_row = vals[k], block[k]
        done = start + len(block)
        if options.time_limit is not None and time.perf_counter() - t1 > options.time_limit:
            break
    elapsed = time.perf_counter() - t1
    complete = done == choices.shape[0]
    if best_row is None or not np.isfinite(best_val):
        status = Status.INFEASIBLE if complete else Status.NO_SOLUTION
        return RawSolution(status, "infeasible" if complete else "timelimit",
                           build_time=build, solve_time=elapsed, nodes=done)
    x = space.choices_to_onehot(best_row[None, :])[0]
    status = Status.OPTIMAL if complete else Status.FEASIBLE
    return RawSolution(status, "optimal" if complete else "timelimit", x=x,
                       dual_bound=sign * best_val if complete else None,
                       gap=0.0 if complete else None, nodes=done, build_time=build,
                       solve_time=elapsed)
