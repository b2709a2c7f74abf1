"""``iqnas.solve`` and ``iqnas.iter_solutions``: run a backend, decode, re-verify independently,
cut off and re-solve; explain infeasibility.

One loop (:func:`_answers`) does "solve, decode, verify, exclude, re-solve" for every caller:
``solve`` takes its first answer, ``solve_top_k`` its first ``k`` and ``iter_solutions`` yields
them for as long as the caller asks.
"""

from __future__ import annotations

import logging
import math
import os
import platform
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np

from iqnas import solvers
from iqnas._validation import Boolean, InstanceOf, Interval, Options, check_value
from iqnas._version import __version__
from iqnas.errors import CapabilityWarning, InputError
from iqnas.formulations.products import MODES
from iqnas.problem import Problem
from iqnas.result import ResourceValue, Result
from iqnas.solvers.base import Backend, RawSolution, SolveOptions
from iqnas.space import Architecture
from iqnas.status import Status

log = logging.getLogger(__name__)

#: how often a solve is repeated after the decoded answer failed verification
MAX_RESOLVES = 25
#: the keyword options of solve, iter_solutions and solve_top_k, with their defaults
SOLVE_OPTIONS = {"time_limit": None, "gap": 0.0, "seed": 0, "warm_start": None,
                 "products": "linearize", "verbose": False, "log_file": None, "diagnose": True}
#: what each solve option accepts (the warm start is checked by the space)
SOLVE_CONSTRAINTS = {
    "time_limit": [Interval("real", 0, None, closed="neither"), None],
    "gap": [Interval("real", 0, None)],
    "seed": [Interval("int", 0, None), None],
    "products": [Options(MODES)],
    "verbose": [Boolean()],
    "log_file": [str, InstanceOf(os.PathLike, "a path"), None],
    "diagnose": [Boolean()],
}
#: what ``solver=`` accepts
SOLVER = [InstanceOf(str, "a backend name (iqnas.solvers.names())"),
          InstanceOf(Backend, "an iqnas.solvers.Backend instance")]
#: the least time a re-solve after a failed verification is given (seconds)
MIN_RESOLVE_TIME = 0.01
#: (backend name, option) pairs already warned about (a CapabilityWarning is issued once)
_WARNED: set[tuple[str, str]] = set()


def solve(problem: Problem, solver: str | Backend = "scip", *, time_limit: float | None = None,
          gap: float = 0.0, seed: int | None = 0, warm_start=None, products: str = "linearize",
          verbose: bool = False, log_file: str | None = None, diagnose: bool = True) -> Result:
    """Solve ``problem`` and return a verified :class:`Result`.

    ``solver`` is a backend name (``iqnas.solvers.names()``) or a configured backend such as
    ``iqnas.solvers.Scip(scip_params={"limits/nodes": 10})`` or
    ``iqnas.solvers.Evolution(mode="rea")``; the options here are those every backend shares
    (one it cannot honour, e.g. a warm start on ``exhaustive``, is ignored with a
    :class:`~iqnas.errors.CapabilityWarning`, once per backend and option).

    Every returned architecture is re-checked from its decoded one-hot vector: a budget broken by
    more than the relative tolerance ``BUDGET_RTOL`` is cut off and the solve repeats (within
    ``time_limit`` in all), so an answer that breaks a budget is never reported as feasible. On
    infeasibility the message names the constraint(s) and the smallest achievable value of each
    (``diagnose=False`` skips that).
    """
    backend, opts, _ = _setup("solve", problem, solver, dict(
        time_limit=time_limit, gap=gap, seed=seed, warm_start=warm_start, products=products,
        verbose=verbose, log_file=log_file))
    return next(_answers(problem, backend, opts, diagnose=diagnose))


def iter_solutions(problem: Problem, solver: str | Backend = "scip", *,
                   skip: Iterable = (), **solve_options) -> Iterator[Result]:
    """Verified answers of ``problem``, best first: each next solve excludes every earlier answer.

    ``solver`` and ``solve_options`` are those of :func:`solve`; ``time_limit`` is the total for
    the whole iteration (each solve gets what is left). Architectures in ``skip`` are never
    yielded: an answer found among them is cut off and the solve repeats, which gives the same
    sequence as excluding them up front with far fewer exclusions per solve. The iteration ends
    when no further architecture is feasible, when the time is up, or when a solve fails
    (logged); if the problem is infeasible from the start, the warning says why (``diagnose``,
    as in :func:`solve`). With a time limit (or an inexact backend) an answer is the best
    found, not necessarily the best there is.
    """
    backend, opts, diagnose = _setup("iter_solutions", problem, solver, solve_options)
    skipped = frozenset(problem.space.to_arch(a) for a in skip)
    return _verified(_answers(problem, backend, opts, skip=skipped, diagnose=diagnose))


def solve_top_k(problem: Problem, k: int, solver: str | Backend = "scip",
                **solve_options) -> list[Result]:
    """The ``k`` best distinct architectures, best first (fewer if fewer are feasible).

    When there is none, the one result says why (as :func:`solve`'s). ``time_limit`` is the
    total for the ``k`` solves.
    """
    k = check_value(k, [Interval("int", 1, None)], "k", "solve_top_k()")
    backend, opts, diagnose = _setup("solve_top_k", problem, solver, solve_options)
    out: list[Result] = []
    for res in _answers(problem, backend, opts, diagnose=diagnose):
        if not res.feasible:
            if not out:
                out.append(res)
            break
        out.append(res)
        if len(out) == k:
            break
    return out


def backend_for(solver: str | Backend, owner: str) -> Backend:
    """The backend ``solver`` names (or is), available and with valid parameters; checked
    before any work (a one-line InputError or BackendUnavailableError otherwise)."""
    check_value(solver, SOLVER, "solver", owner)
    backend = solvers.get(solver)
    solvers.check_available(backend)
    backend._validate_params()
    return backend


def _setup(caller: str, problem: Problem, solver, options: dict
           ) -> tuple[Backend, SolveOptions, bool]:
    """The backend, the validated options and ``diagnose`` of a solve (before any work)."""
    unknown = sorted(set(options) - set(SOLVE_OPTIONS))
    if unknown:
        raise TypeError(f"{caller}() got unexpected keyword argument(s) {', '.join(unknown)}; "
                        f"the solve options are {', '.join(SOLVE_OPTIONS)}")
    owner = f"{caller}()"
    check_value(problem, [InstanceOf(Problem, "an iqnas.Problem")], "problem", owner)
    o = {**SOLVE_OPTIONS, **options}
    for name, accepted in SOLVE_CONSTRAINTS.items():
        o[name] = check_value(o[name], accepted, name, owner)
    backend = backend_for(solver, owner)
    ws = None if o["warm_start"] is None else problem.space.to_arch(o["warm_start"])
    log_file = None if o["log_file"] is None else str(o["log_file"])
    opts = SolveOptions(o["time_limit"], o["gap"], o["seed"], ws, o["products"], o["verbose"],
                        log_file)
    return backend, _within_capabilities(backend, opts), o["diagnose"]


def _within_capabilities(backend: Backend, opts: SolveOptions) -> SolveOptions:
    """``opts`` with what ``backend`` cannot do warned about (once per backend and option,
    :class:`CapabilityWarning`) and ignored."""
    caps = backend.capabilities
    if opts.warm_start is not None and "warm_start" not in caps:
        _warn(backend, "warm_start", "takes no warm start; it is ignored")
    if opts.gap > 0 and "gap" not in caps:
        _warn(backend, "gap", f"has no gap limit; gap={opts.gap:g} is ignored")
    if opts.time_limit is not None and "time_limit" not in caps:
        _warn(backend, "time_limit", "has no time limit; time_limit is ignored")
    if opts.log_file is not None and "log_file" not in caps:
        _warn(backend, "log_file", "writes no log file; log_file is ignored")
    if opts.products == "native" and "native_quadratic" not in caps:
        if "products" in caps:
            _warn(backend, "products", "cannot keep products native; it solves the "
                                       "linearised form (products='linearize')")
            opts = replace(opts, products="linearize")
        else:
            _warn(backend, "products", "evaluates the forms directly; products='native' has no "
                                       "effect")
    return opts


def _warn(backend: Backend, option: str, what: str) -> None:
    key = (backend.name or type(backend).__name__, option)
    if key in _WARNED:
        return
    _WARNED.add(key)
    warnings.warn(f"solver {key[0]!r} {what} (capability {option!r} not in its capabilities)",
                  CapabilityWarning, stacklevel=5)


def _answers(problem: Problem, backend: Backend, opts: SolveOptions, *,
             skip: frozenset[Architecture] = frozenset(), diagnose: bool = True
             ) -> Iterator[Result]:
    """Solve, decode, verify, exclude, re-solve: the one loop behind every solve.

    Yields each verified answer (a feasible Result) not in ``skip``, each solve excluding every
    earlier answer. When a solve gives no answer, one last, infeasible Result says why (the
    infeasibility explained when no answer was found at all and ``diagnose``), and the loop
    ends. It also ends, without a last Result, when ``opts.time_limit`` (the total) is used up
    after an answer. Build and solve times of a Result add up the solves since the last answer.
    """
    t_start = time.perf_counter()
    meta = _Meta.of(backend, opts)
    current = problem
    found = 0      # verified answers so far (yielded or skipped)
    failed = 0     # answers that failed verification since the last verified one
    build_total = solve_total = 0.0
    while True:
        step = opts
        if opts.time_limit is not None and (found or failed):
            left = opts.time_limit - (time.perf_counter() - t_start)
            if found and left <= 0:
                log.info("time limit reached after %d answer(s)", found)
                return
            step = replace(opts, time_limit=max(left, MIN_RESOLVE_TIME))
        raw = backend.solve(current, step)
        build_total += raw.build_time
        solve_total += raw.solve_time
        if raw.x is None:
            break
        try:
            arch = problem.space.decode(raw.x)
        except InputError as exc:
            raw.status, raw.message = Status.ERROR, f"backend returned an invalid vector: {exc}"
            break
        bad = current.violations(arch)
        if bad:
            log.warning("%s returned %s which fails verification (%s); cutting it off and "
                        "re-solving", backend.name, arch.key, "; ".join(bad))
            current = current.excluding([arch])
            failed += 1
            if failed > MAX_RESOLVES:
                raw = RawSolution(Status.ERROR, raw.raw_status,
                                  message=f"gave up after {MAX_RESOLVES} answers failed "
                                          "verification")
                break
            continue
        res = _result(problem, raw, arch, meta, opts, build_total, solve_total)
        found += 1
        failed = 0
        build_total = solve_total = 0.0
        current = current.excluding([arch])
        if arch in skip:
            log.debug("%s is in skip; cut off", arch.key)
            continue
        yield res
    if raw.status in (Status.INFEASIBLE, Status.INF_OR_UNBD) and diagnose and not found:
        raw.message = explain_infeasible(problem)
    elif raw.x is not None and raw.status.has_solution:
        raw.status = Status.ERROR
    yield _result(problem, raw, None, meta, opts, build_total, solve_total)


def _verified(answers: Iterator[Result]) -> Iterator[Result]:
    """The feasible answers of ``answers``; the last, infeasible one is logged, not yielded."""
    n = 0
    for res in answers:
        if res.feasible:
            n += 1
            yield res
            continue
        if not n:
            log.warning("no (further) feasible architecture (%s): %s", res.status.value,
                        res.message)
        elif res.status not in (Status.INFEASIBLE, Status.INF_OR_UNBD):
            log.warning("stopped after %d answer(s): %s %s", n, res.status.value, res.message)
        return


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


@dataclass(frozen=True)
class _Meta:
    """What every Result of one solve loop says about its backend (worked out once)."""

    backend: str
    formulation: str
    options: MappingProxyType

    @classmethod
    def of(cls, backend: Backend, opts: SolveOptions) -> _Meta:
        caps = backend.capabilities
        formulation = (opts.products if "products" in caps
                       else "enumeration" if "enumerative" in caps else "search")
        options = {"time_limit": opts.time_limit, "gap": opts.gap, "products": opts.products,
                   **backend._recorded_params()}
        return cls(backend.name, formulation, MappingProxyType(options))


def _result(problem: Problem, raw: RawSolution, arch, meta: _Meta, opts: SolveOptions,
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
    return Result(
        status=raw.status, architecture=arch, objective=objective,
        resources=MappingProxyType(resources or {}),
        resource_details=MappingProxyType(details or {}),
        raw_status=raw.raw_status, gap=gap, dual_bound=raw.dual_bound, build_time=build,
        solve_time=solve_time, nodes=raw.nodes, backend=meta.backend, seed=opts.seed,
        versions=MappingProxyType(versions), message=raw.message,
        formulation=meta.formulation, trace=tuple(raw.trace), verified=arch is not None,
        options=meta.options)
