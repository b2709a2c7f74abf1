"""Solve with fitted models, then measure: an answer that breaks a true budget is cut off and the
solve repeats, so what is reported is truly feasible. Also the true optimum of a table oracle."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from iqnas.problem import Problem, within_budget
from iqnas.result import Result
from iqnas.solve import solve
from iqnas.space import Architecture

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MeasuredSolution:
    """The IQP's answer under fitted models, with the oracle's measurement of it."""

    result: Result                    # the (re-verified) IQP result under the fitted models
    measured: dict[str, float]        # the oracle's values for result.architecture
    truly_feasible: bool
    rejected: tuple[Architecture, ...]  # answers measured and cut off for breaking a budget

    @property
    def architecture(self) -> Architecture | None:
        return self.result.architecture


def true_feasible(measured: Mapping[str, float], scenario: Mapping[str, float]) -> bool:
    return all(math.isfinite(measured[m]) and within_budget(measured[m], b)
               for m, b in scenario.items())


def solve_measured(problem: Problem, oracle, scenario: Mapping[str, float], *,
                   solver: str = "scip", max_tries: int = 20, on_measure=None,
                   **solve_kw) -> MeasuredSolution | None:
    """Solve, measure, cut off answers that break a true budget, repeat (at most ``max_tries``).

    ``on_measure(arch, values)`` is called for every measurement (e.g. to store it). Returns
    None when the fitted problem is infeasible.
    """
    rejected: list[Architecture] = []
    current = problem
    for _ in range(max_tries):
        res = solve(current, solver, **solve_kw)
        if not res.feasible:
            log.warning("no feasible answer under the fitted models: %s", res.message)
            return None
        values = {k: float(v) for k, v in oracle.measure(res.architecture).items()}
        if on_measure is not None:
            on_measure(res.architecture, values)
        if true_feasible(values, scenario):
            return MeasuredSolution(res, values, True, tuple(rejected))
        log.info("%s breaks a true budget; cutting it off and re-solving", res.architecture.key)
        rejected.append(res.architecture)
        current = current.excluding([res.architecture])
    return MeasuredSolution(res, values, False, tuple(rejected))


def true_optimum(oracle, objective: str, scenario: Mapping[str, float]):
    """(key, row) of the best architecture of a table oracle that meets every budget."""
    table = oracle.table()
    ok = np.ones(len(table), dtype=bool)
    for m, b in scenario.items():
        v = table[m].to_numpy(dtype=float)
        ok &= np.isfinite(v) & within_budget(v, b)
    if not ok.any():
        return None, None
    sub = table[ok]
    i = int(np.nanargmax(sub[objective].to_numpy(dtype=float)))
    return sub.index[i], sub.iloc[i]
