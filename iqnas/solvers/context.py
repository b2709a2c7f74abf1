"""SearchContext: a problem as a heuristic searcher sees it.

Fitness in the maximisation sense, feasibility and violation through the problem's kernel
(:meth:`iqnas.Problem.feasible` / :meth:`iqnas.Problem.violation`), a deadline, the incumbent,
evaluation counts and the trace, and the :class:`RawSolution` at the end.
"""

from __future__ import annotations

import math
import time

import numpy as np

from iqnas.problem import Problem
from iqnas.result import TracePoint
from iqnas.solvers.base import RawSolution
from iqnas.status import Status


class SearchContext:
    """Maximise ``fitness`` over feasible canonical (n, n_groups) choice rows of ``problem``."""

    def __init__(self, problem: Problem, time_limit: float | None) -> None:
        self.problem = problem
        self.space = problem.space
        self.sign = 1.0 if problem.sense == "maximize" else -1.0
        self.budgets = problem.budgets
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
        """Feasibility of rows (budgets, linear rows, exclusions), counted."""
        C = np.asarray(C, dtype=np.int64)
        self.n_checks += C.shape[0]
        return self.problem.feasible(C)

    def fitness(self, C: np.ndarray) -> np.ndarray:
        """The objective in the maximisation sense, counted."""
        C = np.asarray(C, dtype=np.int64)
        self.n_evals += C.shape[0]
        return self.sign * self.problem.objective_values(C)

    def resources(self, C: np.ndarray) -> np.ndarray:
        """(n, n_constraints) resource values."""
        return self.problem.resource_values(C)

    def violation(self, C: np.ndarray) -> np.ndarray:
        """How far rows are from feasible: 0 when feasible, larger when worse (scale-free)."""
        return self.problem.violation(C)

    def other_violation(self, C: np.ndarray) -> np.ndarray:
        """The violation of everything but the budgets (linear rows, exclusions)."""
        return self.problem.violation(C, budgets=False)

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


def time_or_count(time_limit: float | None, explicit: bool) -> bool:
    """Whether a searcher's count setting bounds the run: yes unless a time limit replaces it
    (a count given explicitly bounds it too)."""
    return time_limit is None or explicit
