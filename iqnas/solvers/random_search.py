"""Random search: sample architectures uniformly in batches, keep the best feasible one.

Params: ``n_samples`` (default 10,000) and ``batch`` (rows evaluated at once, default 4,096). With
``time_limit`` and no explicit ``n_samples`` the search samples until the time is up; with both,
whichever ends first. The warm start, if feasible, is evaluated too.
"""

from __future__ import annotations

import logging

import numpy as np

from iqnas.problem import Problem
from iqnas.solvers.base import Backend, RawSolution, SolveOptions
from iqnas.solvers.context import SearchContext
from iqnas.solvers.moves import warm_start_row
from iqnas.solvers.options import parse_params, positive_int, time_or_count

log = logging.getLogger(__name__)

PARAMS = {"n_samples": (10_000, positive_int), "batch": (4096, positive_int)}


class RandomSearchBackend(Backend):
    name = "random"

    def solve(self, problem: Problem, options: SolveOptions) -> RawSolution:
        cfg, given = parse_params("random", options.params, PARAMS)
        ctx = SearchContext(problem, options.time_limit)
        rng = np.random.default_rng(options.seed)
        counted = time_or_count(options.time_limit, "n_samples" in given)
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
