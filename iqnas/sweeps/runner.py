"""Solve a run of sweep points in one process, each helped by the points solved before it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from iqnas.problem import Problem
from iqnas.solve import solve
from iqnas.sweeps.points import SweepPoint
from iqnas.sweeps.rows import COLD, WARM, SweepRow, reused_row
from iqnas.sweeps.settings import SweepSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Chunk:
    """Everything one worker needs: the problem, the points to solve and the finished rows it
    may reuse or warm-start from (e.g. from a resumed sweep file)."""

    problem: Problem
    resource: str
    grid_resource: str | None
    points: tuple[SweepPoint, ...]
    known: tuple[SweepRow, ...]
    settings: SweepSettings


def visit_order(points: Sequence[SweepPoint], reuse: bool) -> list[SweepPoint]:
    """Largest budgets first when answers are reused downwards, else smallest first."""
    return sorted(points, key=lambda p: p.order_key, reverse=reuse)


def solve_chunk(chunk: Chunk, on_row: Callable[[SweepRow], None] | None = None
                ) -> list[SweepRow]:
    """Solve ``chunk.points`` in visit order; ``on_row(row)`` is called as each one finishes."""
    s = chunk.settings
    done: list[tuple[SweepPoint, SweepRow]] = [(r.sweep_point(), r) for r in chunk.known]
    out = []
    for point in visit_order(chunk.points, s.reuse):
        t0 = time.perf_counter()
        problem = at_point(chunk.problem, chunk.resource, chunk.grid_resource, point)
        row = _reuse(problem, point, done, t0) if s.reuse else None
        if row is None:
            start, src = (_best_start(problem, done) if s.warm_starts else (None, None))
            res = solve(problem, s.backend, warm_start=start, **s.solve_kwargs())
            row = SweepRow.from_result(point, res, time.perf_counter() - t0,
                                       WARM if start is not None else COLD, src)
        log.debug("point %d (%s): %s %s", point.index, row.source, row.status.value, row.key)
        done.append((point, row))
        out.append(row)
        if on_row is not None:
            on_row(row)
    return out


def at_point(problem: Problem, resource: str, grid_resource: str | None,
             point: SweepPoint) -> Problem:
    """``problem`` with the point's budget(s) set."""
    p = problem.with_budget(resource, point.budget)
    return p if grid_resource is None else p.with_budget(grid_resource, point.grid_budget)


def _reuse(problem: Problem, point: SweepPoint, done, t0: float) -> SweepRow | None:
    """A covering point's proven answer (or infeasibility) if one fits this point; the nearest
    solved point is tried first."""
    for other, row in reversed(done):
        if other.covers(point):
            hit = reused_row(problem, point, row, 0.0)
            if hit is not None:
                return replace(hit, time=time.perf_counter() - t0)
    return None


def _best_start(problem: Problem, done) -> tuple[Any, int | None]:
    """The best known answer that meets every constraint of ``problem`` (and its point)."""
    sign = 1.0 if problem.sense == "maximize" else -1.0
    best, best_val, best_point = None, None, None
    for _, row in done:
        arch = row.architecture(problem)
        if arch is None or problem.violations(arch):
            continue
        val = sign * problem.objective(arch)
        if best_val is None or val > best_val:
            best, best_val, best_point = arch, val, row.point
    return best, best_point
