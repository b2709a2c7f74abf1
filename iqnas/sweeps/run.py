"""``iqnas.sweep``: solve one problem over a list of budgets (or a grid of two), exactly."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from iqnas._progress import progress_bar
from iqnas._validation import Boolean, Check, InstanceOf, Interval, IsCallable, validate_params
from iqnas.errors import InputError
from iqnas.oracles.oracle import Oracle
from iqnas.problem import Problem
from iqnas.solvers.base import Backend
from iqnas.sweeps.budgets import check_budgets
from iqnas.sweeps.fingerprint import problem_fingerprint, problem_record
from iqnas.sweeps.parallel import run_chunks, split
from iqnas.sweeps.points import make_points
from iqnas.sweeps.result import Sweep
from iqnas.sweeps.rows import REUSED, SweepRow
from iqnas.sweeps.runner import Chunk
from iqnas.sweeps.settings import SweepSettings
from iqnas.sweeps.store import SweepStore
from iqnas.sweeps.truth import make_truth

log = logging.getLogger(__name__)


#: what sweep's own arguments accept (the solve options: iqnas.solve.SOLVE_CONSTRAINTS)
SWEEP_CONSTRAINTS = {
    "problem": [InstanceOf(Problem, "an iqnas.Problem")],
    "resource": [str],
    "grid": [Check(lambda g: isinstance(g, (tuple, list)) and len(g) == 2
                   and isinstance(g[0], str),
                   "a (resource name, budgets) pair, e.g. ('mem_mb', [1.0, 2.0, 3.0])"), None],
    "oracle": [InstanceOf(Oracle, "an iqnas.oracles.Oracle"), None],
    "jobs": [Interval("int", 1, None)],
    "out": [str, InstanceOf(os.PathLike, "a path"), None],
    "progress": [Boolean(), IsCallable(), None],
    "objective_metric": [str, None],
    "resource_metrics": [InstanceOf(Mapping, "a dict of resource name -> oracle metric"), None],
}


@validate_params(SWEEP_CONSTRAINTS)
def sweep(problem: Problem, resource: str, budgets, solver: str | Backend = "scip", oracle=None,
          *, grid: tuple[str, Any] | None = None, jobs: int = 1, out: str | Path | None = None,
          time_limit: float | None = None, gap: float = 0.0, seed: int | None = 0,
          warm_start: bool = True, reuse: bool = True, products: str = "linearize",
          progress: bool | None | Callable[[SweepRow], None] = None,
          objective_metric: str | None = None,
          resource_metrics: Mapping[str, str] | None = None) -> Sweep:
    """Solve ``problem`` at every budget of ``resource`` (and of ``grid = (name, budgets)``).

    Every point is an exact, re-verified ``iqnas.solve`` answer of ``solver`` (a backend name
    or a configured backend, e.g. ``iqnas.solvers.Scip(scip_params={...})``). With ``reuse``
    (default), points are visited from the largest budget down and a point whose budgets are
    covered by a solved point takes that point's proven answer when it fits (it stays optimal
    as the feasible set shrinks), so only points where the answer changes are solved;
    ``warm_start`` gives each solve the best known answer that fits as a MIP start (backends
    that take one). ``jobs > 1`` cuts the
    points into contiguous runs solved in separate processes. ``out`` is a JSONL file written
    as points finish; an existing file of the same sweep is resumed, one of another sweep is
    refused. ``progress`` is True/False/None (a bar on stderr; None: only on a terminal) or a
    callable given each finished point's :class:`~iqnas.sweeps.SweepRow` (then no bar). With
    an ``oracle`` each answer is measured (see :class:`Sweep`).
    """
    problem.constraint(resource)
    budgets = check_budgets(budgets, resource)
    grid_resource, grid_budgets = _grid(problem, resource, grid)
    settings = SweepSettings(solver, time_limit, gap, seed, products, warm_start, reuse)
    truth = make_truth(oracle, problem, objective_metric, resource_metrics)
    points = make_points(budgets, grid_budgets)
    # the swept budgets of `problem` are placeholders: every point sets its own
    base = problem.with_budget(resource, budgets[0])
    if grid_resource is not None:
        base = base.with_budget(grid_resource, grid_budgets[0])
    swept = [resource] + ([grid_resource] if grid_resource else [])
    header = {"problem": problem_fingerprint(base, swept), "space": problem.space.name,
              "space_hash": problem.space.content_hash(), "sense": problem.sense,
              "resource": resource, "budgets": budgets,
              "grid_resource": grid_resource, "grid_budgets": grid_budgets,
              "settings": settings.identity(), **problem_record(base, swept)}
    store = None if out is None else SweepStore(out, header, {p.index: p for p in points})
    done = {} if store is None else dict(store.rows)
    resumed = len(done)
    if resumed:
        logging.getLogger("iqnas.resume").info("resuming %d finished points (of %d) from %s",
                                               resumed, len(points), out)
    todo = [p for p in points if p.index not in done]
    chunks = [Chunk(base, resource, grid_resource, part, tuple(done.values()), settings)
              for part in split(todo, jobs)] if todo else []
    callback = progress if callable(progress) else None
    t0 = time.perf_counter()
    with progress_bar(False if callable(progress) else progress, "sweep",
                      len(todo)) as advance:
        def on_row(row: SweepRow) -> None:
            if store is not None:
                store.append(row)
            done[row.point] = row
            advance()
            if callback is not None:
                callback(row)

        run_chunks(chunks, jobs, on_row)
    elapsed = time.perf_counter() - t0
    rows = [done[p.index] for p in points]
    log.info("sweep of %d points: %d solved, %d reused, %.2f s", len(points),
             sum(r.source != REUSED for r in rows), sum(r.source == REUSED for r in rows),
             elapsed)
    return Sweep(base, resource, tuple(budgets), grid_resource,
                 None if grid_budgets is None else tuple(grid_budgets), rows, settings, truth,
                 None if out is None else Path(out), elapsed, resumed)


def _grid(problem: Problem, resource: str, grid) -> tuple[str | None, list[float] | None]:
    if grid is None:
        return None, None
    name, values = grid
    problem.constraint(name)
    if name == resource:
        raise InputError(f"grid resource {name!r} is the swept resource; give a second one")
    return name, check_budgets(values, name)


__all__ = ["sweep"]
