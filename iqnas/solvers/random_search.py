"""Random search: sample architectures uniformly in batches, keep the best feasible one
(configured by :class:`iqnas.solvers.RandomSearch`: ``n_samples``, ``batch``).

With ``time_limit`` and no explicit ``n_samples`` the search samples until the time is up; with
both, whichever ends first. The warm start, if feasible, is evaluated too.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from iqnas.problem import Problem
from iqnas.solvers.base import RawSolution, SolveOptions
from iqnas.solvers.context import SearchContext, time_or_count
from iqnas.solvers.moves import warm_start_row

log = logging.getLogger(__name__)


def solve(problem: Problem, options: SolveOptions, cfg: dict[str, Any],
          explicit: bool) -> RawSolution:
    """``cfg``: the checked options of RandomSearch; ``explicit``: ``n_samples`` was given."""
    ctx = SearchContext(problem, options.time_limit)
    rng = np.random.default_rng(options.seed)
    counted = time_or_count(options.time_limit, explicit)
    ws = warm_start_row(ctx, options.warm_start)
    if ws is not None:
        ctx.offer(ws[None, :], ctx.fitness(ws[None, :]))
    drawn, status = 0, "samples"
    while not counted or drawn < cfg["n_samples"]:
        if ctx.out_of_time():
            status = "time_limit"
            break
        m = cfg["batch"] if not counted else min(cfg["batch"], cfg["n_samples"] - drawn)
        C = problem.space.sample_choices(rng, m)
        drawn += m
        ok = ctx.feasible(C)
        if ok.any():
            ctx.offer(C[ok], ctx.fitness(C[ok]))
    log.debug("random search: %d samples in %.3fs", drawn, ctx.elapsed())
    return ctx.raw(status, f"{drawn} samples")
