"""What a user might reach for instead of iqnas's SCIP backend, on the same problem: OR-Tools
CP-SAT on the linearised model with coefficients scaled to integers (an optional benchmark
dependency: ``pip install 'iqnas[benchmark]'``). Every answer is re-checked by iqnas
(``Problem.violations``) and valued with the problem's own objective, so a rounding error of the
scaling can make an answer worse or (reported) infeasible, never better.
"""

from __future__ import annotations

import math
import time

import numpy as np

import iqnas
from iqnas.formulations import compiled_form

#: real coefficients become integers after multiplying by this
SCALE = 1e6


def _row_int(a: np.ndarray, lb: float, ub: float) -> tuple[list[int], float, float]:
    """Integer coefficients of a row and bounds that keep every point feasible in the real row
    feasible in the scaled one up to rounding (bounds widened by the worst rounding error)."""
    if np.all(a == np.round(a)) and (math.isinf(lb) or lb == round(lb)) and (
            math.isinf(ub) or ub == round(ub)):
        return [int(v) for v in a], lb, ub
    ia = np.round(a * SCALE)
    slack = 0.5 * len(a)  # the scaled activity differs from SCALE x the real one by <= this
    lo = -math.inf if math.isinf(lb) else math.floor(lb * SCALE - slack)
    hi = math.inf if math.isinf(ub) else math.ceil(ub * SCALE + slack)
    return [int(v) for v in ia], lo, hi


def solve_cpsat(problem: iqnas.Problem, time_limit: float, workers: int = 1) -> dict:
    """CP-SAT on the linearised model of ``problem``; a record like the other peers'."""
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    cp = compiled_form(problem, "linearize")
    model = cp_model.CpModel()
    v = [model.NewBoolVar(f"v{k}") for k in range(cp.n_vars)]  # products are 0/1 at 0/1 x
    A = cp.A.tocsr()
    for r in range(A.shape[0]):
        lo, hi = A.indptr[r], A.indptr[r + 1]
        cols, a = A.indices[lo:hi], A.data[lo:hi]
        coefs, lb, ub = _row_int(a, float(cp.row_lb[r]), float(cp.row_ub[r]))
        expr = sum(c * v[int(k)] for c, k in zip(coefs, cols))
        if lb == ub:
            model.Add(expr == int(ub))
        else:
            if math.isfinite(ub):
                model.Add(expr <= int(ub))
            if math.isfinite(lb):
                model.Add(expr >= int(lb))
    nz = np.flatnonzero(cp.c)
    model.Maximize(sum(int(round(cp.c[k] * SCALE)) * v[k] for k in nz))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = 0
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    status = solver.Solve(model)
    solve_time = time.perf_counter() - t1
    rec = {"status": "no_solution", "objective": None, "gap": None, "build_time": build,
           "solve_time": solve_time, "nodes": int(solver.NumBranches())}
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        x = np.array([solver.Value(v[k]) for k in range(cp.n_x)], dtype=float)
        arch = problem.space.decode(x)
        bad = problem.violations(arch)
        value = float(problem.objective(problem.space.encode(arch)))
        bound = cp.sign * (solver.BestObjectiveBound() / SCALE + cp.c0)
        rec.update(objective=value, status="infeasible_answer" if bad else
                   "optimal" if status == cp_model.OPTIMAL else "feasible",
                   gap=abs(bound - value) / max(abs(value), 1e-12), key=arch.key)
    return rec
