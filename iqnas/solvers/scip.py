"""SCIP backend (pyscipopt): the compiled problem as a MILP, or with native quadratic terms."""

from __future__ import annotations

import contextlib
import logging
import math
import time
from typing import Any

import numpy as np
import pyscipopt
from pyscipopt import (
    SCIP_EVENTTYPE,
    SCIP_PARAMSETTING,
    SCIP_RESULT,
    Eventhdlr,
    Model,
    Sepa,
    quicksum,
)

from iqnas import formulations
from iqnas.formulations import CompiledProblem
from iqnas.formulations.triangles import (
    TriangleIndex,
    needed_columns,
    separate,
    triangle_index,
)
from iqnas.result import TracePoint
from iqnas.solvers import interruptible, scip_reuse
from iqnas.solvers.base import RawSolution, SolveOptions
from iqnas.solvers.c_output import c_stdout_redirected
from iqnas.solvers.start import local_search
from iqnas.status import from_scip

log = logging.getLogger(__name__)

#: products (y variables or quadratic terms) from which a model counts as large (64 local-search
#: climbs, SCIP restarts allowed)
LOCAL_SEARCH_MIN_PRODUCTS = 5000
#: the local search's time limit with ``Scip(local_search_patience=k)`` (k > 0; 1 s otherwise)
LOCAL_SEARCH_PATIENT_SECONDS = 5.0
#: a model with at most this many binaries and fewer than LOCAL_SEARCH_MIN_PRODUCTS products is
#: "small dense" (nb201-like): no root cut loop, a 16-climb local search
SMALL_DENSE_BINARIES = 64
#: SCIP parameters set by default (before the emphasis settings and ``Scip(scip_params=...)``,
#: which override them): no aggregation separator, no presolve probing, a restart only when a
#: quarter of the binaries is fixed
SCIP_DEFAULTS = {"separating/aggregation/freq": -1, "propagating/probing/maxprerounds": 0,
                 "presolving/restartfac": 0.25, "presolving/immrestartfac": 0.25}
#: ... and on models with fewer than LOCAL_SEARCH_MIN_PRODUCTS products: no restarts
SMALL_MODEL_PARAMS = {"presolving/maxrestarts": 0}
#: on a large model with a MIP start and at least two budgets: pseudo-cost branching without
#: strong branching (``heuristics="auto"`` also turns SCIP's primal heuristics off there). The
#: start was optimal on every such instance measured, so what remains is the proof; strong
#: branching and LP dives on the 10-27k-column LP took most of it (benchmarks/NOTES.md)
MULTI_BUDGET_PARAMS = {"branching/pscost/priority": 100000}


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


class _TriangleSepa(Sepa):
    """Separates violated triangle inequalities (valid for every integer point) from the LP.

    Reads the LP values of the binaries and of the few products on their support only. Cuts are
    global; each also goes to SCIP's global cut pool so that a restart keeps it.
    """

    def __init__(self, variables: list, index: TriangleIndex, max_cuts: int,
                 force: bool, per_triple: int = 0) -> None:
        super().__init__()
        self.per_triple = per_triple
        self.force = force
        self.variables = variables
        self.index = index
        self.max_cuts = max_cuts
        self.tvars: dict[int, object] = {}
        self.n_cuts = 0
        #: the cuts of the last solve as (columns, coefficients, rhs): valid for every integer
        #: point, so a later solve of the same model may start with them
        self.found: list[tuple[np.ndarray, np.ndarray, float]] = []

    def _tvar(self, k: int):
        """The transformed variable of column ``k`` (looked up once, when first needed)."""
        var = self.tvars.get(k)
        if var is None:
            var = self.tvars[k] = self.model.getTransformedVar(self.variables[k])
        return var

    def sepaexitsol(self):
        self.tvars = {}

    def sepaexeclp(self):
        m = self.model
        n_x = self.index.n_x
        v = np.zeros(len(self.variables))
        v[:n_x] = [m.getSolVal(None, self._tvar(k)) for k in range(n_x)]
        cols = needed_columns(v[:n_x], self.index)
        v[cols] = [m.getSolVal(None, self._tvar(int(c))) for c in cols]
        cuts = separate(v, self.index, max_cuts=self.max_cuts, per_triple=self.per_triple)
        if not cuts:
            return {"result": SCIP_RESULT.DIDNOTFIND}
        cutoff = False
        for cols, coefs, rhs in cuts:
            row = m.createEmptyRowSepa(self, "triangle", lhs=None, rhs=rhs, local=False,
                                       removable=True)
            m.cacheRowExtensions(row)
            for c, a in zip(cols, coefs):
                m.addVarToRow(row, self._tvar(int(c)), float(a))
            m.flushRowExtensions(row)
            cutoff = m.addCut(row, forcecut=self.force)
            m.addPoolCut(row)  # becomes a constraint if SCIP restarts
            m.releaseRow(row)
            self.n_cuts += 1
            self.found.append((cols, coefs, rhs))
            if cutoff:
                return {"result": SCIP_RESULT.CUTOFF}
        return {"result": SCIP_RESULT.SEPARATED}


def build_model(cp: CompiledProblem) -> tuple[Model, list]:
    """A pyscipopt Model of the compiled problem (maximisation); ``m.data["conss"]`` holds the
    constraint of each row of ``cp``."""
    m = Model("iqnas")
    m.hideOutput()
    xs = [m.addVar(name=f"x{i}", vtype="B") for i in range(cp.n_x)]
    ys = [m.addVar(name=f"y{k}", vtype="C", lb=0.0, ub=1.0) for k in range(cp.n_y)]
    v = xs + ys
    A = cp.A
    conss = []
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
            conss.append(m.addCons(expr == ub, name=name))
        elif math.isinf(lb):
            conss.append(m.addCons(expr <= ub, name=name))
        elif math.isinf(ub):
            conss.append(m.addCons(expr >= lb, name=name))
        else:
            conss.append(m.addCons((expr <= ub) >= lb, name=name))
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
    m.data = {"conss": conss}
    return m, v


def _carry_cuts(m: Model, v: list, extra: dict, limit: int) -> None:
    """Start this solve with the triangle cuts the earlier solves of the model found (valid for
    every architecture, whatever the budgets): the last ``limit`` of them as removable rows that
    SCIP separates when the LP violates them (not rows of the first LP, which they slowed)."""
    sepa = extra["sepa"]
    pool = extra.setdefault("pool", {})
    for cols, coefs, rhs in sepa.found:
        pool.setdefault((tuple(int(c) for c in cols), tuple(coefs.tolist()), float(rhs)), None)
    sepa.found = []
    while len(pool) > limit:
        pool.pop(next(iter(pool)))
    for cons in extra.pop("carried", []):
        m.delCons(cons)
    extra["carried"] = [
        m.addCons(quicksum(a * v[c] for c, a in zip(cols, coefs)) <= rhs, name="triangle",
                  initial=False, separate=True, removable=True)
        for cols, coefs, rhs in pool]


def _n_products(cp: CompiledProblem) -> int:
    """Product variables (linearised) or quadratic terms (native) of a compiled problem."""
    quad = sum(q.nnz for q in cp.quad_rows.values())
    if cp.quad_objective is not None:
        quad += cp.quad_objective.nnz
    return cp.n_y + quad


def solve(problem, options: SolveOptions, cfg: dict[str, Any]) -> RawSolution:
    """Solve ``problem`` with SCIP; ``cfg`` holds the checked options of :class:`Scip`.

    With ``cfg["reuse_model"]`` the built model is kept for the next solve of a problem with the
    same structure (:mod:`iqnas.solvers.scip_reuse`); every solve is still a full solve."""
    t0 = time.perf_counter()
    products = formulations.resolve_products(problem, options.products)
    reuse = bool(cfg["reuse_model"])
    built = scip_reuse.take(problem, products, cfg) if reuse else None
    if built is None:
        cp = formulations.compiled_form(problem, products)
        built = _build(problem, cp, cfg)
    else:
        cp = built.compiled
        built.model.resetParams()
    m, v = built.model, built.variables
    try:
        with _log_to_stderr(options.verbose):
            build, trace = _prepare(problem, built, cp, cfg, options, t0)
            t1 = time.perf_counter()
            interruptible.optimize(m)
    except KeyboardInterrupt:
        raise  # SCIP may still be stopping in its helper thread: the model is dropped, not freed
    except BaseException:
        m.freeProb()  # a model whose solve failed is not kept
        raise
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
        build_time=build, solve_time=solve_time, trace=list(trace.points),
        versions={"pyscipopt": pyscipopt.__version__, "scip": str(m.version())},
        formulation=products)
    if reuse:
        scip_reuse.keep(built, problem, products, cfg)
    else:
        m.freeProb()
    return res


def _log_to_stderr(verbose: bool):
    """A verbose solve's SCIP log (written by SCIP's C code to stdout) goes to stderr."""
    return c_stdout_redirected("stderr") if verbose else contextlib.nullcontext()


def _prepare(problem, built: scip_reuse.BuiltModel, cp: CompiledProblem, cfg: dict,
             options: SolveOptions, t0: float):
    """Parameters and MIP starts of one solve; returns (build time, trace handler)."""
    m, v = built.model, built.variables
    large, small_dense = built.flags["large"], built.flags["small_dense"]
    starts = [] if options.warm_start is None else [options.warm_start]
    if cfg["local_search"]:
        n_starts = cfg["local_search_starts"]
        if n_starts <= 0:
            n_starts = 64 if large else 16 if small_dense else 0
        if n_starts > 0:
            patience = cfg["local_search_patience"]
            found = local_search(problem, starts=n_starts, seed=options.seed or 0,
                                 patience=patience,
                                 time_limit=LOCAL_SEARCH_PATIENT_SECONDS if patience else 1.0)
            if found is not None:
                starts.append(found)
    _set_params(m, cfg, large, small_dense, bool(starts), len(cp.budget_rows))
    _configure(m, options, cfg["scip_params"])
    for arch in starts:
        _add_warm_start(m, v, cp, problem.space.encode(arch))
    if cfg["reuse_cuts"] and "sepa" in built.extra:
        _carry_cuts(m, v, built.extra, cfg["reuse_cuts_max"])
    built.trace.points = []
    build = (cp.build_time if built.n_solves == 0 else 0.0) + time.perf_counter() - t0
    return build, built.trace


def _build(problem, cp: CompiledProblem, cfg: dict) -> scip_reuse.BuiltModel:
    """The model of ``cp`` with this backend's plugins (triangle cuts, trace)."""
    m, v = build_model(cp)
    large = _n_products(cp) >= LOCAL_SEARCH_MIN_PRODUCTS
    small_dense = not large and cp.n_x <= SMALL_DENSE_BINARIES and _n_products(cp) > 0
    extra: dict = {}
    triangles = cfg["triangle_cuts"]
    if triangles == "auto":
        triangles = not small_dense
    if triangles and cp.products_mode == "linearize":
        index = triangle_index(cp, problem.space)
        if index is not None:
            sepa = _TriangleSepa(v, index, cfg["triangle_max_cuts"], cfg["triangle_force"],
                                 cfg["triangle_per_triple"])
            m.includeSepa(sepa, "iqnas_triangles", "triangle inequalities on products",
                          priority=cfg["triangle_priority"], freq=cfg["triangle_freq"])
            extra["sepa"] = sepa
    trace = _TraceHandler(cp.sign)
    m.includeEventhdlr(trace, "iqnas_trace", "records the primal/dual trace")
    conss = m.data["conss"]
    excluded = {arch: conss[r] for arch, r in scip_reuse.exclusion_rows(cp, problem).items()}
    return scip_reuse.BuiltModel(
        m, v, cp, {name: conss[r] for name, r in cp.budget_rows.items()}, excluded, trace,
        {"large": large, "small_dense": small_dense}, extra=extra)


def _set_params(m: Model, cfg: dict, large: bool, small_dense: bool, has_start: bool,
                n_budgets: int) -> None:
    """SCIP_DEFAULTS (and SMALL_MODEL_PARAMS, MULTI_BUDGET_PARAMS) and the emphasis settings
    of ``cfg`` (``heuristics="auto"``: off where MULTI_BUDGET_PARAMS apply, else SCIP's
    default)."""
    for k, val in {**SCIP_DEFAULTS, **({} if large else SMALL_MODEL_PARAMS)}.items():
        m.setParam(k, val)
    separating = cfg["separating"]
    if separating == "auto":
        separating = "off" if small_dense else "default"
    proof_only = large and has_start and n_budgets >= 2
    if proof_only:
        for k, val in MULTI_BUDGET_PARAMS.items():
            m.setParam(k, val)
    heuristics = cfg["heuristics"]
    if heuristics == "auto":
        heuristics = "off" if proof_only else "default"
    for setting, setter in ((heuristics, m.setHeuristics), (separating, m.setSeparating),
                            (cfg["presolving"], m.setPresolve)):
        if setting != "default":
            setter(getattr(SCIP_PARAMSETTING, setting.upper()))


def _configure(m: Model, o: SolveOptions, scip_params: dict[str, Any]) -> None:
    m.hideOutput(not o.verbose)
    if o.log_file:
        m.setLogfile(str(o.log_file))
    if o.time_limit is not None:
        m.setParam("limits/time", float(o.time_limit))
    m.setParam("limits/gap", float(o.gap))
    if o.seed is not None:
        m.setParam("randomization/randomseedshift", int(o.seed) % 2**31)
    for k, val in scip_params.items():
        m.setParam(k, val)


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
