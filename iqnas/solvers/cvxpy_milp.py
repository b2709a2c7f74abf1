"""cvxpy backend: the linearised MILP, solved by any MILP solver cvxpy has installed (configured
by :class:`iqnas.solvers.Cvxpy`)."""

from __future__ import annotations

import functools
import math
import time
from typing import TYPE_CHECKING

import numpy as np

from iqnas import formulations
from iqnas._optional import install_hint, require
from iqnas.errors import BackendUnavailableError, InputError, SolverError
from iqnas.solvers.base import RawSolution, SolveOptions
from iqnas.solvers.c_output import c_stdout_redirected
from iqnas.status import Status

if TYPE_CHECKING:
    import cvxpy as cp
else:  # without cvxpy: a one-line "pip install 'iqnas[cvxpy]'" error
    cp = require("cvxpy", "solver 'cvxpy'", BackendUnavailableError)

#: MILP solvers in order of preference
PREFERENCE = ("HIGHS", "SCIP", "GUROBI", "CPLEX", "COPT", "XPRESS", "MOSEK", "CBC", "GLPK_MI")
_STATUS = {
    "optimal": Status.OPTIMAL,
    "optimal_inaccurate": Status.FEASIBLE,
    "user_limit": Status.FEASIBLE,
    "infeasible": Status.INFEASIBLE,
    "infeasible_inaccurate": Status.INFEASIBLE,
    "unbounded": Status.UNBOUNDED,
    "unbounded_inaccurate": Status.UNBOUNDED,
    "infeasible_or_unbounded": Status.INF_OR_UNBD,
    "solver_error": Status.ERROR,
}


@functools.lru_cache(maxsize=1)
def _installed() -> frozenset[str]:
    """cvxpy's installed solvers (probing them imports every solver library: do it once)."""
    return frozenset(cp.installed_solvers())


def pick_solver(requested: str | None) -> str:
    installed = _installed()
    if requested:
        if requested.upper() not in installed:
            raise InputError(f"cvxpy solver {requested!r} is not installed; installed: "
                             f"{', '.join(sorted(installed))}")
        return requested.upper()
    for name in PREFERENCE:
        if name in installed:
            return name
    raise SolverError("cvxpy has no mixed-integer solver installed: "
                      f"{install_hint('highspy')} (HiGHS)")


def _limits(solver: str, o: SolveOptions) -> dict:
    kw: dict = {}
    if solver == "HIGHS":
        kw["mip_rel_gap"] = o.gap
        if o.time_limit is not None:
            kw["time_limit"] = float(o.time_limit)
        if o.seed is not None:
            kw["random_seed"] = int(o.seed)
    elif solver == "SCIP":
        params = {"limits/gap": o.gap}
        if o.time_limit is not None:
            params["limits/time"] = float(o.time_limit)
        kw["scip_params"] = params
    return kw


def solve(problem, options: SolveOptions, requested: str | None,
          solver_options: dict) -> RawSolution:
    """Solve the linearised form with cvxpy's MILP solver ``requested`` (None: the first
    installed of PREFERENCE); ``solver_options`` go to ``cvxpy.Problem.solve``."""
    solver = pick_solver(requested)
    t0 = time.perf_counter()
    cpb = formulations.compiled_form(problem, "linearize")
    x = cp.Variable(cpb.n_x, boolean=True)
    parts = [x]
    if cpb.n_y:
        parts.append(cp.Variable(cpb.n_y, nonneg=True))
    v = cp.hstack(parts) if len(parts) > 1 else x
    cons = []
    A, lb, ub = cpb.A, cpb.row_lb, cpb.row_ub
    eq = lb == ub
    if eq.any():
        cons.append(A[eq] @ v == ub[eq])
    up = ~eq & np.isfinite(ub)
    if up.any():
        cons.append(A[up] @ v <= ub[up])
    lo = ~eq & np.isfinite(lb)
    if lo.any():
        cons.append(A[lo] @ v >= lb[lo])
    prob = cp.Problem(cp.Maximize(cpb.c @ v + cpb.c0), cons)
    build = cpb.build_time + time.perf_counter() - t0
    t1 = time.perf_counter()
    try:
        with c_stdout_redirected("stderr" if options.verbose else "null"):
            prob.solve(solver=solver, verbose=options.verbose, **_limits(solver, options),
                       **solver_options)
    except cp.error.SolverError as exc:
        if x.value is None:
            return RawSolution(Status.NO_SOLUTION, f"{solver}: {exc}",
                               build_time=build, solve_time=time.perf_counter() - t1)
    elapsed = time.perf_counter() - t1
    status = _STATUS.get(prob.status, Status.UNKNOWN)
    xv = None if x.value is None else np.round(np.clip(x.value, 0, 1))
    if xv is None and status.has_solution:
        status = Status.NO_SOLUTION
    dual = None
    gap = 0.0 if status is Status.OPTIMAL else None
    if status is Status.OPTIMAL and prob.value is not None and math.isfinite(prob.value):
        dual = cpb.sign * float(prob.value)
    return RawSolution(status, f"{solver}: {prob.status}", x=xv, dual_bound=dual, gap=gap,
                       build_time=build, solve_time=elapsed,
                       versions={"cvxpy": cp.__version__, "cvxpy_solver": solver})
