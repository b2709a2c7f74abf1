"""SCIP backend (pyscipopt): the compiled problem as a MILP, or with native quadratic terms."""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import pyscipopt
from pyscipopt import SCIP_EVENTTYPE, Eventhdlr, Model, quicksum

from iqnas.errors import InputError
from iqnas.formulations import CompiledProblem
from iqnas.result import TracePoint
from iqnas.solvers.base import Backend, RawSolution, SolveOptions
from iqnas.status import from_scip

log = logging.getLogger(__name__)


class _TraceHandler(Eventhdlr):
    """Records (time, primal, dual, gap) whenever SCIP finds a solution or improves its bound."""

    EVENTS = (SCIP_EVENTTYPE.BESTSOLFOUND, SCIP_EVENTTYPE.DUALBOUNDIMPROVED)

    def __init__(self, sign: float) -> None:
        super().__init__()
        self.sign = sign
        self.points: list[TracePoint] = []

    def eventinit(self):
        for ev in self.EVENTS:
            self.model.catchEvent(ev, self)

    def eventexit(self):
        for ev in self.EVENTS:
            self.model.dropEvent(ev, self)

    def eventexec(self, event):
        m = self.model
        primal = m.getPrimalbound() if m.getNSols() else math.nan
        dual = m.getDualbound()
        p = self.sign * primal if math.isfinite(primal) and abs(primal) < 1e19 else math.nan
        d = self.sign * dual if abs(dual) < 1e19 else math.nan
        self.points.append(TracePoint(m.getSolvingTime(), p, d, m.getGap()))


def build_model(cp: CompiledProblem) -> tuple[Model, list]:
    """A pyscipopt Model of the compiled problem (maximisation)."""
    m = Model("iqnas")
    m.hideOutput()
    xs = [m.addVar(name=f"x{i}", vtype="B") for i in range(cp.n_x)]
    ys = [m.addVar(name=f"y{k}", vtype="C", lb=0.0, ub=1.0) for k in range(cp.n_y)]
    v = xs + ys
    A = cp.A
    for r in range(A.shape[0]):
        lo, hi = A.indptr[r], A.indptr[r + 1]
        expr = quicksum(float(a) * v[c] for c, a in zip(A.indices[lo:hi], A.data[lo:hi]))
        q = cp.quad_rows.get(r)
        if q is not None:
            expr = expr + quicksum(float(a) * xs[i] * xs[j]
                                   for i, j, a in zip(q.row, q.col, q.data))
        lb, ub = cp.row_lb[r], cp.row_ub[r]
        name = cp.row_names[r]
        if lb == ub:
            m.addCons(expr == ub, name=name)
        elif math.isinf(lb):
            m.addCons(expr <= ub, name=name)
        elif math.isinf(ub):
            m.addCons(expr >= lb, name=name)
        else:
            m.addCons((expr <= ub) >= lb, name=name)
    nz = np.flatnonzero(cp.c)
    obj = quicksum(float(cp.c[k]) * v[k] for k in nz)
    if cp.quad_objective is not None and cp.quad_objective.nnz:
        q = cp.quad_objective
        quad = quicksum(float(a) * xs[i] * xs[j] for i, j, a in zip(q.row, q.col, q.data))
        bound = float(np.abs(cp.c).sum() + np.abs(q.data).sum()) + 1.0
        t = m.addVar(name="objective", vtype="C", lb=-bound, ub=bound)
        m.addCons(t <= obj + quad, name="objective_epigraph")
        obj = t
    m.setObjective(obj, "maximize")
    m.addObjoffset(cp.c0)
    return m, v


class ScipBackend(Backend):
    name = "scip"

    def solve(self, problem, options: SolveOptions) -> RawSolution:
        t0 = time.perf_counter()
        cp = problem.compile(options.products)
        m, v = build_model(cp)
        self._configure(m, options)
        if options.warm_start is not None:
            self._add_warm_start(m, v, cp, problem.space.encode(options.warm_start))
        trace = _TraceHandler(cp.sign)
        m.includeEventhdlr(trace, "iqnas_trace", "records the primal/dual trace")
        build = cp.build_time + time.perf_counter() - t0
        t1 = time.perf_counter()
        m.optimize()
        solve_time = time.perf_counter() - t1
        raw = m.getStatus()
        has_sol = m.getNSols() > 0
        x = None
        if has_sol:
            sol = m.getBestSol()
            x = np.array([m.getSolVal(sol, var) for var in v[: cp.n_x]])
            x = np.round(np.clip(x, 0.0, 1.0))
        gap = m.getGap() if has_sol else None
        dual = m.getDualbound()
        dual_bound = cp.sign * dual if abs(dual) < 1e19 else None
        if gap is not None and not math.isfinite(gap):
            gap = None
        res = RawSolution(
            status=from_scip(raw, has_sol, gap),
            raw_status=raw, x=x, dual_bound=dual_bound, gap=gap, nodes=int(m.getNTotalNodes()),
            build_time=build, solve_time=solve_time, trace=trace.points,
            versions={"pyscipopt": pyscipopt.__version__, "scip": str(m.version())})
        m.freeProb()
        return res

    @staticmethod
    def _configure(m: Model, o: SolveOptions) -> None:
        if o.verbose:
            m.hideOutput(False)
        if o.log_file:
            m.setLogfile(str(o.log_file))
        if o.time_limit is not None:
            m.setParam("limits/time", float(o.time_limit))
        m.setParam("limits/gap", float(o.gap))
        if o.seed is not None:
            m.setParam("randomization/randomseedshift", int(o.seed) % 2**31)
        for k, val in o.params.items():
            try:
                m.setParam(k, val)
            except (KeyError, LookupError, TypeError, ValueError) as exc:
                raise InputError(f"SCIP parameter {k!r} = {val!r} was refused: {exc}") from None

    @staticmethod
    def _add_warm_start(m: Model, v: list, cp: CompiledProblem, x: np.ndarray) -> None:
        full = cp.lift(x)
        sol = m.createSol()
        for var, val in zip(v, full):
            m.setSolVal(sol, var, float(val))
        if cp.quad_objective is not None and cp.quad_objective.nnz:
            t = [var for var in m.getVars() if var.name == "objective"][0]
            m.setSolVal(sol, t, cp.objective_value(full) - cp.c0)
        accepted = m.addSol(sol, free=True)
        log.debug("warm start %s", "accepted" if accepted else "rejected (infeasible)")
