"""The built-in backends as configured objects: ``Scip``, ``Cvxpy``, ``Exhaustive``,
``Evolution``, ``Bcfw`` and ``RandomSearch``.

Each class holds its options (its constructor's keyword arguments, stored unchanged and checked
by ``_validate_params`` when it solves) and imports its solver module only in ``solve``, so
this module, and listing or configuring backends, imports no solver library.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from iqnas._validation import Boolean, Check, InstanceOf, Interval, Options, check_value
from iqnas.solvers.base import Backend, RawSolution, SolveOptions

#: SCIP's emphasis settings (``Scip(heuristics=..., presolving=..., separating=...)``)
EMPHASIS = ("default", "fast", "aggressive", "off")


def _module(name: str):
    """The solver module ``iqnas.solvers.<name>`` (imported on first use)."""
    return importlib.import_module(f"iqnas.solvers.{name}")


def _plain_mapping(what: str) -> Check:
    return Check(lambda v: isinstance(v, Mapping) and all(isinstance(k, str) for k in v),
                 f"a dict of {what} (str keys)")


class Scip(Backend):
    """SCIP through pyscipopt: the compiled problem as a MILP (``products="linearize"``) or
    with native quadratic terms; exact, with time/gap limits, warm start and a trace.

    None of the options changes the optimum, only how fast it is found and proved (the
    measurements behind the defaults: benchmarks/NOTES.md).

    * ``local_search``: a MIP start from :func:`iqnas.solvers.start.local_search`;
      ``local_search_starts`` its climbs (0 = automatic: 64 on large models, 16 on small dense
      ones, none otherwise); ``local_search_patience`` > 0: climbs from ever new samples until
      that many in a row find nothing better (within ``LOCAL_SEARCH_PATIENT_SECONDS``).
    * ``triangle_cuts``: separate triangle inequalities on the product variables of the
      linearised form (:mod:`iqnas.formulations.triangles`); True, False or "auto" (on except
      for small dense models). ``triangle_max_cuts``: at most this many per round;
      ``triangle_force``: add them to the LP even where SCIP's cut selection would not;
      ``triangle_freq``: separate at the root only (0) or at every k-th depth;
      ``triangle_priority``: the separator's priority in SCIP; ``triangle_per_triple``: keep at
      most this many of a round's cuts per group triple (0 = no limit).
    * ``heuristics`` / ``presolving`` / ``separating``: SCIP's emphasis setting (``default``,
      ``fast``, ``aggressive`` or ``off``; ``separating="auto"`` = ``off`` on small dense
      models, else ``default``; ``heuristics="auto"`` = ``off`` on large models with at least
      two budgets that have a MIP start, the local search's or a warm start, where SCIP also
      branches on pseudo costs: ``iqnas.solvers.scip.MULTI_BUDGET_PARAMS``; else ``default``),
      applied before ``scip_params``.
    * ``scip_params``: SCIP's own parameters, e.g. ``{"limits/nodes": 10}`` (names and values
      checked against SCIP's), set last.
    * ``reuse_model``: keep the built model for the next solve of a problem with the same
      structure (budget sweeps, top-k, calibration rounds): new budgets become right-hand
      sides, exclusions rows (:mod:`iqnas.solvers.scip_reuse`); each solve is a full solve.
      ``reuse_cuts``: a reused model starts with the triangle cuts its earlier solves found (at
      most ``reuse_cuts_max``, the latest), valid whatever the budgets.
    """

    name = "scip"
    description = "SCIP through pyscipopt: exact, time/gap limits, warm start, trace"
    requires = ("pyscipopt",)
    capabilities = frozenset({"mip", "products", "native_quadratic", "warm_start", "time_limit",
                              "gap", "log_file", "trace", "proof"})
    _parameter_constraints = {
        "local_search": [Boolean()],
        "local_search_starts": [Interval("int", 0, None)],
        "local_search_patience": [Interval("int", 0, None)],
        "triangle_cuts": [Boolean(), Options(("auto",))],
        "triangle_max_cuts": [Interval("int", 1, None)],
        "triangle_force": [Boolean()],
        "triangle_freq": [Interval("int", -1, None)],
        "triangle_priority": [Interval("int")],
        "triangle_per_triple": [Interval("int", 0, None)],
        "heuristics": [Options(EMPHASIS + ("auto",))],
        "presolving": [Options(EMPHASIS)],
        "separating": [Options(EMPHASIS + ("auto",))],
        "scip_params": [_plain_mapping("SCIP parameters"), None],
        "reuse_model": [Boolean()],
        "reuse_cuts": [Boolean()],
        "reuse_cuts_max": [Interval("int", 0, None)],
    }

    def __init__(self, *, local_search: bool = True, local_search_starts: int = 0,
                 local_search_patience: int = 0,
                 triangle_cuts: bool | str = "auto", triangle_max_cuts: int = 2500,
                 triangle_force: bool = True, triangle_freq: int = 0,
                 triangle_priority: int = 1000, triangle_per_triple: int = 0,
                 heuristics: str = "auto", presolving: str = "default",
                 separating: str = "auto", scip_params: Mapping[str, Any] | None = None,
                 reuse_model: bool = True, reuse_cuts: bool = True,
                 reuse_cuts_max: int = 10000) -> None:
        self.local_search = local_search
        self.local_search_starts = local_search_starts
        self.local_search_patience = local_search_patience
        self.triangle_cuts = triangle_cuts
        self.triangle_max_cuts = triangle_max_cuts
        self.triangle_force = triangle_force
        self.triangle_freq = triangle_freq
        self.triangle_priority = triangle_priority
        self.triangle_per_triple = triangle_per_triple
        self.heuristics = heuristics
        self.presolving = presolving
        self.separating = separating
        self.scip_params = scip_params
        self.reuse_model = reuse_model
        self.reuse_cuts = reuse_cuts
        self.reuse_cuts_max = reuse_cuts_max

    def _validate_params(self) -> dict[str, Any]:
        cfg = super()._validate_params()
        cfg["scip_params"] = _module("scip_params").check_scip_params(cfg["scip_params"] or {},
                                                                       type(self).__name__)
        return cfg

    def solve(self, problem, options: SolveOptions) -> RawSolution:
        return _module("scip").solve(problem, options, self._validate_params())


class Cvxpy(Backend):
    """The linearised MILP through cvxpy, solved by ``solver`` (a cvxpy solver name such as
    "HIGHS", "SCIP", "GLPK_MI", "CBC"; None: the first installed of
    :data:`iqnas.solvers.cvxpy_milp.PREFERENCE`); ``solver_options`` go to cvxpy's
    ``Problem.solve``. Needs ``pip install 'iqnas[cvxpy]'``."""

    name = "cvxpy"
    description = "the linearised MILP through cvxpy (HiGHS, SCIP, GLPK_MI, CBC, ...)"
    requires = ("cvxpy",)
    capabilities = frozenset({"mip", "products", "time_limit", "gap", "proof"})
    _parameter_constraints = {
        "solver": [str, None],
        "solver_options": [_plain_mapping("cvxpy solve options"), None],
    }

    def __init__(self, *, solver: str | None = None,
                 solver_options: Mapping[str, Any] | None = None) -> None:
        self.solver = solver
        self.solver_options = solver_options

    def solve(self, problem, options: SolveOptions) -> RawSolution:
        cfg = self._validate_params()
        return _module("cvxpy_milp").solve(problem, options, cfg["solver"],
                                           dict(cfg["solver_options"] or {}))


class Exhaustive(Backend):
    """Vectorised enumeration of every architecture: the exact optimum (and the ground truth
    of the tests) on spaces of up to ``limit`` architectures."""

    name = "exhaustive"
    description = "vectorised enumeration of every architecture (spaces up to ~1e6)"
    requires = ("numpy",)
    capabilities = frozenset({"mip", "time_limit", "proof", "enumerative"})
    _parameter_constraints = {"limit": [Interval("int", 1, None)]}

    def __init__(self, *, limit: int = 2_000_000) -> None:
        self.limit = limit

    def solve(self, problem, options: SolveOptions) -> RawSolution:
        return _module("exhaustive").solve(problem, options, self._validate_params()["limit"])


#: Evolution's options that belong to one mode, with that mode's defaults
EVOLUTION_MODES = {
    "binas": {"generations": 500, "parent_ratio": 0.25, "mutation_ratio": 0.5,
              "mutate_prob": 0.1},
    "rea": {"cycles": 5000, "sample_size": 25},
    "freerea": {"generations": 1000, "tournament_size": 25, "crossover": True},
}
#: each mode-specific option -> the modes it belongs to
_MODE_OF = {k: tuple(m for m, own in EVOLUTION_MODES.items() if k in own)
            for own in EVOLUTION_MODES.values() for k in own}


class Evolution(Backend):
    """Evolutionary search (no optimality proof); ``mode`` is "binas" (BINAS / OFA), "rea"
    (regularized evolution) or "freerea" (see :mod:`iqnas.solvers.evolution`).

    ``population`` individuals; an infeasible child is redrawn at most ``max_retries`` times.
    Per mode (None: the mode's default, :data:`EVOLUTION_MODES`; an option of another mode
    must stay None): binas ``generations``, ``parent_ratio``, ``mutation_ratio``,
    ``mutate_prob``; rea ``cycles``, ``sample_size``; freerea ``generations``,
    ``tournament_size``, ``crossover``. With a time limit and no explicit count
    (``generations`` / ``cycles``) a run goes on until the time is up.
    """

    name = "evolution"
    description = ("evolutionary search (BINAS/OFA, regularized REA, FreeREA); no optimality "
                   "proof")
    requires = ("numpy",)
    capabilities = frozenset({"warm_start", "time_limit"})
    _parameter_constraints = {
        "mode": [Options(tuple(EVOLUTION_MODES))],
        "population": [Interval("int", 1, None)],
        "max_retries": [Interval("int", 1, None)],
        "generations": [Interval("int", 1, None), None],
        "cycles": [Interval("int", 1, None), None],
        "parent_ratio": [Interval("real", 0, 1, closed="right"), None],
        "mutation_ratio": [Interval("real", 0, 1), None],
        "mutate_prob": [Interval("real", 0, 1, closed="right"), None],
        "sample_size": [Interval("int", 1, None), None],
        "tournament_size": [Interval("int", 1, None), None],
        "crossover": [Boolean(), None],
    }

    def __init__(self, *, mode: str = "binas", population: int = 100, max_retries: int = 100,
                 generations: int | None = None, cycles: int | None = None,
                 parent_ratio: float | None = None, mutation_ratio: float | None = None,
                 mutate_prob: float | None = None, sample_size: int | None = None,
                 tournament_size: int | None = None, crossover: bool | None = None) -> None:
        self.mode = mode
        self.population = population
        self.max_retries = max_retries
        self.generations = generations
        self.cycles = cycles
        self.parent_ratio = parent_ratio
        self.mutation_ratio = mutation_ratio
        self.mutate_prob = mutate_prob
        self.sample_size = sample_size
        self.tournament_size = tournament_size
        self.crossover = crossover

    def _validate_params(self) -> dict[str, Any]:
        cfg = super()._validate_params()
        mode = cfg["mode"]
        own = EVOLUTION_MODES[mode]
        for key, modes in _MODE_OF.items():
            if key not in own and cfg[key] is not None:
                check_value(cfg[key], [None], key, f"{type(self).__name__} with mode={mode!r} "
                            f"(it is an option of mode {' and '.join(map(repr, modes))})")
        return cfg

    def settings(self) -> tuple[dict[str, Any], bool]:
        """The checked options with the mode's defaults filled in, and whether the count
        (``generations`` / ``cycles``) was given."""
        cfg = self._validate_params()
        count = "cycles" if cfg["mode"] == "rea" else "generations"
        explicit = cfg[count] is not None
        for key, default in EVOLUTION_MODES[cfg["mode"]].items():
            if cfg[key] is None:
                cfg[key] = default
        return cfg, explicit

    def solve(self, problem, options: SolveOptions) -> RawSolution:
        cfg, explicit = self.settings()
        return _module("evolution").solve(problem, options, cfg, explicit)


class Bcfw(Backend):
    """BINAS's block-coordinate Frank-Wolfe on the relaxation with budget-safe rounding (no
    optimality proof; see :mod:`iqnas.solvers.bcfw`).

    ``steps`` FW steps (None: 1000, or until 80 % of a time limit is used); step size
    ``gamma`` (a number in (0, 1] or "lacoste"); ``momentum`` in [0, 1); ``sparsify_steps``
    LP steps before rounding; ``lp`` "auto", "greedy" or "highs"; ``blocks`` "auto" or
    "groups"; ``init`` "cheapest" or "sample".
    """

    name = "bcfw"
    description = "BINAS block-coordinate Frank-Wolfe on the relaxation, budget-safe rounding"
    requires = ("numpy", "scipy")
    capabilities = frozenset({"warm_start", "time_limit"})
    _parameter_constraints = {
        "steps": [Interval("int", 1, None), None],
        "gamma": [Interval("real", 0, 1, closed="right"), Options(("lacoste",))],
        "momentum": [Interval("real", 0, 1, closed="left")],
        "sparsify_steps": [Interval("int", 0, None)],
        "lp": [Options(("auto", "greedy", "highs"))],
        "blocks": [Options(("auto", "groups"))],
        "init": [Options(("cheapest", "sample"))],
    }
    #: FW steps when ``steps`` is None and there is no time limit
    DEFAULT_STEPS = 1000

    def __init__(self, *, steps: int | None = None, gamma: float | str = 0.002,
                 momentum: float = 0.9, sparsify_steps: int = 100, lp: str = "auto",
                 blocks: str = "auto", init: str = "cheapest") -> None:
        self.steps = steps
        self.gamma = gamma
        self.momentum = momentum
        self.sparsify_steps = sparsify_steps
        self.lp = lp
        self.blocks = blocks
        self.init = init

    def solve(self, problem, options: SolveOptions) -> RawSolution:
        cfg = self._validate_params()
        explicit = cfg["steps"] is not None
        if not explicit:
            cfg["steps"] = self.DEFAULT_STEPS
        return _module("bcfw").solve(problem, options, cfg, explicit)


class RandomSearch(Backend):
    """Uniform random sampling, the best feasible architecture (no optimality proof).

    ``n_samples`` architectures (None: 10,000, or until a time limit is up; with both,
    whichever ends first), evaluated ``batch`` at a time. A feasible warm start is evaluated
    too.
    """

    name = "random"
    description = "uniform random sampling, best feasible architecture; no optimality proof"
    requires = ("numpy",)
    capabilities = frozenset({"warm_start", "time_limit"})
    _parameter_constraints = {
        "n_samples": [Interval("int", 1, None), None],
        "batch": [Interval("int", 1, None)],
    }
    #: samples when ``n_samples`` is None and there is no time limit
    DEFAULT_SAMPLES = 10_000

    def __init__(self, *, n_samples: int | None = None, batch: int = 4096) -> None:
        self.n_samples = n_samples
        self.batch = batch

    def solve(self, problem, options: SolveOptions) -> RawSolution:
        cfg = self._validate_params()
        explicit = cfg["n_samples"] is not None
        if not explicit:
            cfg["n_samples"] = self.DEFAULT_SAMPLES
        return _module("random_search").solve(problem, options, cfg, explicit)


BUILTIN: tuple[type[Backend], ...] = (Scip, Cvxpy, Exhaustive, Evolution, Bcfw, RandomSearch)


def check_backend(value: Any, owner: str, name: str = "solver") -> None:
    """``value`` is a backend name or a :class:`Backend` instance (else the one-line error)."""
    if not isinstance(value, (str, Backend)):
        check_value(value, [str, InstanceOf(Backend, "an iqnas.solvers.Backend instance")], name,
                    owner)


__all__ = ["BUILTIN", "Bcfw", "Cvxpy", "EMPHASIS", "EVOLUTION_MODES", "Evolution", "Exhaustive",
           "RandomSearch", "Scip", "check_backend"]
