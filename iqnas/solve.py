"""``iqnas.solve``: run a backend, decode, re-verify independently, explain infeasibility."""

from __future__ import annotations

import logging
import math
import platform
import time
from types import MappingProxyType

import numpy as np

from iqnas import solvers
from iqnas._version import __version__
from iqnas.errors import InputError
from iqnas.problem import Problem
from iqnas.result import ResourceValue, Result
from iqnas.solvers.base import RawSolution, SolveOptions
from iqnas.status import Status

log = logging.getLogger(__name__)

#: how often a solve is repeated after the decoded answer failed verification
MAX_RESOLVES = 25


def solve(problem: Problem, solver: str = "scip", *, time_limit: float | None = None,
          gap: float = 0.0, seed: int | None = 0, warm_start=None, products: str = "linearize",
          verbose: bool = False, log_file: str | None = None, params: dict | None = None,
          diagnose: bool = True) -> Result:
    """Solve ``problem`` and return a verified :class:`Result`.

    Every returned architecture is re-checked from its decoded one-hot vector: a budget broken by
    more than the relative tolerance 1e-9 is cut off and the solve repeats, so an answer that
    breaks a budget is never reported as feasible. On infeasibility the message names the
    constraint(s) and the smallest achievable value of each resource.
    """
    if not isinstance(problem, Problem):
        raise InputError(f"solve() needs an iqnas.Problem, got {type(problem).__name__}")
    if time_limit is not None and (not _is_number(time_limit) or not time_limit > 0):
        raise InputError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    if not _is_number(gap) or not 0 <= gap < math.inf:
        raise InputError(f"gap must be a number >= 0 (relative), got {gap!r}")
    if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    backend = solvers.get(solver)
    ws = None if warm_start is None else problem.space.to_arch(warm_start)
    opts = SolveOptions(time_limit, float(gap), None if seed is None else int(seed), ws, products,
                        verbose, log_file, dict(params or {}))
    current = problem
    t_start = time.perf_counter()
    build_total = solve_total = 0.0
    for attempt in range(MAX_RESOLVES + 1):
        if time_limit is not None and attempt:
            left = time_limit - (time.perf_counter() - t_start)
            opts = SolveOptions(**{**opts.__dict__, "time_limit": max(left, 0.01)})
        raw = backend.solve(current, opts)
        build_total += raw.build_time
        solve_total += raw.solve_time
        if raw.x is None:
            break
        try:
            arch = problem.space.decode(raw.x)
        except InputError as exc:
            raw.status, raw.message = Status.ERROR, f"backend returned an invalid vector: {exc}"
            break
        bad = problem.violations(arch)
        if not bad:
            return _result(problem, raw, arch, backend.name, opts, build_total, solve_total)
        log.warning("%s returned %s which fails verification (%s); cutting it off and "
                    "re-solving", backend.name, arch.key, "; ".join(bad))
        current = current.excluding([arch])
    else:
        raw = RawSolution(Status.ERROR, raw.raw_status,
                          message=f"gave up after {MAX_RESOLVES} answers failed verification")
    if raw.status in (Status.INFEASIBLE, Status.INF_OR_UNBD) and diagnose:
        raw.message = explain_infeasible(problem)
    elif raw.x is not None and raw.status.has_solution:
        raw.status = Status.ERROR
    return _result(problem, raw, None, backend.name, opts, build_total, solve_total)


def solve_top_k(problem: Problem, k: int, solver: str = "scip", **kw) -> list[Result]:
    """The ``k`` best distinct architectures, best first (fewer if fewer are feasible)."""
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k must be a positive integer, got {k!r}")
    out: list[Result] = []
    current = problem
    for _ in range(int(k)):
        res = solve(current, solver, diagnose=not out, **kw)
        if not res.feasible:
            if not out:
                out.append(res)
            break
        out.append(res)
        current = current.excluding([res.architecture])
    return out


def smallest_achievable(problem: Problem, name: str) -> float:
    """The smallest value resource ``name`` can take over the space (ignoring other budgets)."""
    c = problem.constraint(name)
    alone = problem.replace(objective=c.form, constraints=(), sense="minimize")
    solver = "exhaustive" if problem.space.size <= 2_000_000 else "scip"
    res = solve(alone, solver, diagnose=False)
    if res.architecture is None:
        return math.nan
    return c.form(res.architecture)


def explain_infeasible(problem: Problem) -> str:
    """Name the budget(s) that cannot be met and the smallest achievable value of each."""
    if not problem.constraints:
        return "the problem is infeasible without any budget (check linear constraints and " \
               "exclusions)"
    mins = {c.name: smallest_achievable(problem, c.name) for c in problem.constraints}
    lines = []
    for c in problem.constraints:
        if not c.holds(mins[c.name]):
            units = f" {c.units}" if c.units else ""
            lines.append(f"{c.name} <= {c.budget:g} is infeasible: the smallest achievable "
                         f"{c.name} is {mins[c.name]:.6g}{units}")
    if lines:
        return "; ".join(lines)
    both = ", ".join(f"{c.name} <= {c.budget:g}" for c in problem.constraints)
    smallest = ", ".join(f"{n} {v:.6g}" for n, v in mins.items())
    return (f"the budgets {both} cannot all be met together (each alone can: smallest "
            f"achievable {smallest})")


def _result(problem: Problem, raw: RawSolution, arch, backend: str, opts: SolveOptions,
            build: float, solve_time: float) -> Result:
    objective = resources = details = None
    if arch is not None:
        x = problem.space.encode(arch)
        objective = problem.objective(x)
        values = {c.name: c.form(x) for c in problem.constraints}
        resources = values
        details = {c.name: ResourceValue(values[c.name], c.budget, c.units)
                   for c in problem.constraints}
    versions = {"iqnas": __version__, "python": platform.python_version(),
                "numpy": np.__version__, **raw.versions}
    gap = raw.gap
    if arch is not None and raw.dual_bound is not None and gap is None:
        gap = abs(raw.dual_bound - objective) / max(abs(objective), 1e-12)
    options = {"time_limit": opts.time_limit, "gap": opts.gap, "products": opts.products,
               **{k: v for k, v in opts.params.items() if isinstance(v, (int, float, str))}}
    return Result(
        status=raw.status, architecture=arch, objective=objective,
        resources=MappingProxyType(resources or {}),
        resource_details=MappingProxyType(details or {}),
        raw_status=raw.raw_status, gap=gap, dual_bound=raw.dual_bound, build_time=build,
        solve_time=solve_time, nodes=raw.nodes, backend=backend, seed=opts.seed,
        versions=MappingProxyType(versions), message=raw.message,
        formulation=opts.products if backend != "exhaustive" else "enumeration",
        trace=tuple(raw.trace), verified=arch is not None, options=MappingProxyType(options))


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
