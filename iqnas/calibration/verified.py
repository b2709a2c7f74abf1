"""Solve with fitted models, then measure: an answer that breaks a true budget is cut off and the
solve repeats, so what is reported is truly feasible. Also the true optimum of a table oracle."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from itertools import islice

import numpy as np

from iqnas.measured import MeasuredResult, feasible_rows
from iqnas.problem import Problem
from iqnas.solve import iter_solutions
from iqnas.solvers.base import Backend

log = logging.getLogger(__name__)


def solve_measured(problem: Problem, oracle, scenario: Mapping[str, float], objective: str, *,
                   solver: str | Backend = "scip", max_tries: int = 20, on_measure=None,
                   **solve_options) -> MeasuredResult | None:
    """Measure the IQP's answers best first until one meets every true budget in ``scenario``
    (at most ``max_tries``); earlier answers are in ``rejected``.

    ``on_measure(arch, values)`` is called for every measurement (e.g. to store it). Returns the
    last answer measured (not truly feasible) when none of ``max_tries`` is, and None when the
    fitted problem is infeasible.
    """
    units = getattr(oracle, "units", {})
    rejected = []
    last = None
    for res in islice(iter_solutions(problem, solver, **solve_options), max_tries):
        values = {k: float(v) for k, v in oracle.measure(res.architecture).items()}
        if on_measure is not None:
            on_measure(res.architecture, values)
        last = MeasuredResult.from_solve(res, values, objective, scenario, rejected,
                                         {m: units.get(m, "") for m in scenario})
        if last.truly_feasible:
            return last
        log.info("%s breaks a true budget; cutting it off and re-solving", res.key)
        rejected.append(res.architecture)
    if last is None:
        log.warning("no feasible answer under the fitted models")
    return last


def true_optimum(oracle, objective: str, scenario: Mapping[str, float]):
    """(key, row) of the best architecture of a table oracle that meets every budget."""
    table = oracle.table()
    ok = feasible_rows(table, scenario)
    if not ok.any():
        return None, None
    sub = table[ok]
    i = int(np.nanargmax(sub[objective].to_numpy(dtype=float)))
    return sub.index[i], sub.iloc[i]
