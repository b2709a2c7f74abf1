"""Backends as configured objects: the parameter contract, SCIP's own parameters, capability
warnings, custom backends, and one validation message shape across the API."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import iqnas
from iqnas import solvers
from iqnas._validation import Interval, clone
from iqnas.calibration import PairwiseRanker, QuadraticRegressor
from iqnas.errors import CapabilityWarning, InputError
from iqnas.solvers import Backend, Bcfw, Cvxpy, Evolution, Exhaustive, RandomSearch, Scip
from iqnas.solvers.base import RawSolution, SolveOptions
from iqnas.status import Status

REPO = Path(__file__).resolve().parents[2]
#: "The 'x' parameter of Owner must be <what>. Got <value> instead." and nothing else
SHAPE = re.compile(r"^The '([^']+)' parameter of (\S+) must be (.+)\. Got (.+) instead\.$")
#: each built-in backend with options that are not its defaults
CONFIGURED = [
    Scip(triangle_cuts=False, local_search_starts=8, scip_params={"limits/nodes": 10}),
    Cvxpy(solver="HIGHS", solver_options={"verbose": False}),
    Exhaustive(limit=50_000),
    Evolution(mode="rea", population=40, cycles=300),
    Bcfw(steps=50, gamma="lacoste", init="sample"),
    RandomSearch(n_samples=500, batch=128),
]


@pytest.fixture(scope="module")
def problem() -> iqnas.Problem:
    space = iqnas.spaces.get("nb201")
    rng = np.random.default_rng(0)
    acc = iqnas.QuadraticForm(space, intercept=70.0, linear=rng.normal(size=30),
                              pairwise=0.1 * rng.normal(size=(30, 30)))
    lat = iqnas.QuadraticForm(space, intercept=1.0, linear=np.abs(rng.normal(size=30)),
                              units="ms")
    return iqnas.Problem(space, objective=acc, constraints={"latency_ms": (lat, 3.0)})


@pytest.fixture
def fresh_warnings(monkeypatch):
    """Forget which capability warnings were issued (they come once per process)."""
    import importlib

    monkeypatch.setattr(importlib.import_module("iqnas.solve"), "_WARNED", set())


def _shaped(exc: BaseException, name: str, value: str | None = None) -> re.Match:
    text = str(exc)
    assert "\n" not in text
    m = SHAPE.match(text)
    assert m is not None, text
    assert m.group(1) == name, text
    if value is not None:
        assert m.group(4) == value, text
    return m


# ---- the parameter contract ------------------------------------------------------------------
@pytest.mark.parametrize("backend", CONFIGURED, ids=lambda b: b.name)
def test_every_backend_round_trips_get_params_repr_and_clone(backend):
    cls = type(backend)
    params = backend.get_params()
    assert list(params) == list(cls._param_names())
    assert set(vars(backend)) == set(params)  # __init__ only stores its parameters
    twin = clone(backend)
    assert twin is not backend and type(twin) is cls and twin.get_params() == params
    assert eval(repr(backend), {cls.__name__: cls}).get_params() == params
    assert repr(cls()) == f"{cls.__name__}()"
    assert cls().set_params(**params).get_params() == params
    with pytest.raises(InputError, match=rf"^{cls.__name__} has no parameter\(s\) 'bogus'; its "
                                         rf"parameters are {', '.join(params)}$"):
        cls().set_params(bogus=1)
    # the registry lists the class under its name with the same capabilities
    entry = solvers.info(cls.name)
    assert entry.cls is cls and entry.capabilities == cls.capabilities
    assert type(solvers.get(cls.name)) is cls


def test_parameters_are_stored_unchanged_and_checked_when_solving(problem):
    bad = Evolution(population="many")
    assert bad.population == "many"  # constructing never fails on a value ...
    with pytest.raises(InputError) as err:  # ... solving does, before any work
        iqnas.solve(problem, bad)
    _shaped(err.value, "population", "'many'")
    assert "an int in the range [1, inf)" in str(err.value)


def test_create_names_the_options_of_the_backend():
    ev = solvers.create("evolution", mode="freerea", tournament_size=5)
    assert isinstance(ev, Evolution) and ev.get_params()["tournament_size"] == 5
    with pytest.raises(InputError, match="Evolution has no parameter.*'generation'.*generations"):
        solvers.create("evolution", generation=5)
    with pytest.raises(InputError) as err:
        solvers.create("random", batch=0)
    _shaped(err.value, "batch", "0")


def test_backend_is_abstract_and_a_custom_subclass_works_as_an_instance(problem):
    with pytest.raises(TypeError, match="abstract"):
        Backend()

    class Greedy(Backend):
        """The best of ``n`` architectures evenly spread over the enumeration."""

        name = "greedy"
        capabilities = frozenset({"time_limit"})
        _parameter_constraints = {"n": [Interval("int", 1, None)]}

        def __init__(self, n: int = 100) -> None:
            self.n = n

        def solve(self, problem, options: SolveOptions) -> RawSolution:
            n = self._validate_params()["n"]
            every = problem.space.enumerate_choices().astype(np.int64)
            C = every[::max(1, len(every) // n)][:n]
            vals = np.where(problem.feasible(C), problem.objective_values(C), -np.inf)
            if not np.isfinite(vals).any():
                return RawSolution(Status.NO_SOLUTION, "none")
            x = problem.space.choices_to_onehot(C[[int(np.argmax(vals))]])[0]
            return RawSolution(Status.FEASIBLE, "first_n", x=x, nodes=n)

    every = problem.space.enumerate_choices().astype(np.int64)
    C = every[::len(every) // 500][:500]
    ok = problem.feasible(C)
    assert 0 < ok.sum() < 500
    best = problem.objective_values(C)[ok].max()
    res = iqnas.solve(problem, Greedy(n=500))
    assert res.backend == "greedy" and res.feasible and res.nodes == 500
    assert res.objective == pytest.approx(best) and res.options["n"] == 500
    assert repr(Greedy(n=7)) == "Greedy(n=7)" and clone(Greedy(n=7)).n == 7
    with pytest.raises(InputError) as err:
        iqnas.solve(problem, Greedy(n=0))
    _shaped(err.value, "n", "0")
    solvers.register(Greedy(n=500))
    try:
        assert "greedy" in solvers.names()
        assert iqnas.solve(problem, "greedy").objective == pytest.approx(best)
    finally:
        solvers.unregister("greedy")
    assert "greedy" not in solvers.names()


def test_configuring_backends_imports_no_solver_library():
    code = ("import sys, iqnas\n"
            "backends = [iqnas.solvers.Scip(scip_params={'limits/nodes': 1}),\n"
            "            iqnas.solvers.Cvxpy(), iqnas.solvers.Evolution(mode='rea')]\n"
            "print(iqnas.solvers.names(), [repr(b) for b in backends])\n"
            "heavy = [m for m in ('pyscipopt', 'cvxpy', 'torch', 'pandas', 'scipy.optimize')\n"
            "         if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    assert "Scip(scip_params={'limits/nodes': 1})" in proc.stdout


# ---- SCIP's own parameters --------------------------------------------------------------------
def test_scip_params_reach_scip_and_the_node_limit_is_hit(problem):
    free = iqnas.solve(problem, Scip(local_search=False))
    assert free.status is Status.OPTIMAL and free.nodes > 1  # the limit below binds
    res = iqnas.solve(problem, solver=Scip(local_search=False, scip_params={"limits/nodes": 1}))
    assert res.raw_status == "nodelimit" and res.nodes == 1
    assert res.status is Status.FEASIBLE and res.feasible and res.gap > 0
    assert res.objective <= free.objective + 1e-9
    assert res.options["scip_params"] == {"limits/nodes": 1}


@pytest.mark.parametrize("scip_params, name, value, says", [
    ({"limits/node": 1}, "scip_params", "'limits/node'", "close matches: 'limits/nodes'"),
    ({"limits/nodes": -5}, "limits/nodes", "-5", "an int in the range [-1, 9223372036854775807]"),
    ({"limits/nodes": "ten"}, "limits/nodes", "'ten'", "an int"),
    ({"display/verblevel": 9}, "display/verblevel", "9", "an int in the range [0, 5]"),
    ({"limits/gap": -0.5}, "limits/gap", "-0.5", "a float in the range [0, "),
    ({"branching/scorefunc": "z"}, "branching/scorefunc", "'z'", "in the set 's', 'p', 'q'"),
    ({"lp/presolving": 3}, "lp/presolving", "3", "a boolean"),
])
def test_bad_scip_parameters_are_one_line_errors(problem, scip_params, name, value, says):
    with pytest.raises(InputError) as err:
        iqnas.solve(problem, Scip(scip_params=scip_params))
    m = _shaped(err.value, name, value)
    assert says in str(err.value) and m.group(2).startswith("Scip")


# ---- capabilities -----------------------------------------------------------------------------
def test_capability_warnings_fire_once_by_name(problem, fresh_warnings):
    start = iqnas.solve(problem, "exhaustive").architecture
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for _ in range(3):
            a = iqnas.solve(problem, "exhaustive", warm_start=start)
            b = iqnas.solve(problem, RandomSearch(n_samples=200), gap=0.1)
        iqnas.solve(problem, Exhaustive(), gap=0.1)
        iqnas.solve(problem, Cvxpy(), products="native")
    got = [(w.category, str(w.message)) for w in seen]
    assert all(cat is CapabilityWarning for cat, _ in got) and len(got) == 4, got
    texts = [t for _, t in got]
    assert texts[0].startswith("solver 'exhaustive' takes no warm start")
    assert "'warm_start'" in texts[0]
    assert texts[1].startswith("solver 'random' has no gap limit; gap=0.1 is ignored")
    assert texts[2].startswith("solver 'exhaustive' has no gap limit")
    assert texts[3].startswith("solver 'cvxpy' cannot keep products native")
    assert a.feasible and b.feasible and a.architecture == start
    assert issubclass(CapabilityWarning, UserWarning)


def test_cvxpy_asked_for_native_products_solves_the_linearised_form(problem, fresh_warnings):
    with pytest.warns(CapabilityWarning, match="cvxpy"):
        res = iqnas.solve(problem, "cvxpy", products="native")
    exact = iqnas.solve(problem, "exhaustive")
    assert res.formulation == "linearize" and res.options["products"] == "linearize"
    assert res.objective == pytest.approx(exact.objective, abs=1e-6)


def test_what_a_backend_can_do_gives_no_warning(problem, fresh_warnings):
    with warnings.catch_warnings():
        warnings.simplefilter("error", CapabilityWarning)
        start = iqnas.solve(problem, "exhaustive", time_limit=30).architecture
        iqnas.solve(problem, "scip", warm_start=start, gap=0.01, time_limit=30)
        iqnas.solve(problem, Evolution(generations=5), warm_start=start, time_limit=30)
        # a sweep warm-starts only backends that take a warm start
        sw = iqnas.sweep(problem, "latency_ms", [2.5, 3.0, 3.5], solver="exhaustive",
                         progress=False)
    assert sw.n_feasible == 3


# ---- one message shape ------------------------------------------------------------------------
def test_estimators_backends_solve_calibrate_and_sweep_share_the_message_shape(problem,
                                                                                tmp_path):
    space = problem.space
    X = space.choices_to_onehot(space.enumerate_choices()[:20])
    y = np.arange(20.0)
    oracle = iqnas.oracles.nb201("cifar100")
    cases = [
        (lambda: QuadraticRegressor(space, alpha=-1.0).fit(X, y), "alpha", "-1.0",
         "QuadraticRegressor"),
        (lambda: PairwiseRanker(space, max_iter=0).fit(X, y), "max_iter", "0", "PairwiseRanker"),
        (lambda: iqnas.solve(problem, Bcfw(momentum=1.0)), "momentum", "1.0", "Bcfw"),
        (lambda: iqnas.solve(problem, "scip", gap=-1), "gap", "-1", "solve()"),
        (lambda: iqnas.solve(problem, 42), "solver", "42", "solve()"),
        (lambda: iqnas.solve_top_k(problem, 0), "k", "0", "solve_top_k()"),
        (lambda: iqnas.calibrate("nb201", oracle, "test_acc_c100", n_samples=1,
                                 store=tmp_path / "a.db", progress=False),
         "n_samples", "1", "calibrate()"),
        (lambda: iqnas.calibrate("nb201", oracle, "test_acc_c100", method="gcn",
                                 store=tmp_path / "b.db", progress=False),
         "method", "'gcn'", "calibrate()"),
        (lambda: iqnas.calibrate("nb201", oracle, "test_acc_c100", solver=Scip(heuristics="x"),
                                 store=tmp_path / "c.db", progress=False),
         "heuristics", "'x'", "Scip"),
        (lambda: iqnas.calibrate_training_free("nb201", oracle, top_k=0, progress=False),
         "top_k", "0", "calibrate_training_free()"),
        (lambda: iqnas.sweep(problem, "latency_ms", [3.0], jobs=0), "jobs", "0", "sweep()"),
        (lambda: iqnas.sweep(problem, "latency_ms", [3.0], seed=-3), "seed", "-3", "sweep()"),
        (lambda: iqnas.sweep(problem, "latency_ms", [3.0], solver=RandomSearch(batch=-1)),
         "batch", "-1", "RandomSearch"),
    ]
    for call, name, value, owner in cases:
        with pytest.raises(InputError) as err:
            call()
        m = _shaped(err.value, name, value)
        assert m.group(2) == owner, str(err.value)
    assert not list(tmp_path.iterdir())  # nothing was written before the checks


def test_calibrate_takes_a_configured_backend_and_records_it(tmp_path):
    oracle = iqnas.oracles.nb201("cifar100")
    runs = [iqnas.calibrate("nb201", oracle, "test_acc_c100", {"help_lat_fpga": 3.0}, 24, seed=4,
                            store=tmp_path / f"{k}.db", solver=solver, rounds=2, progress=False)
            for k, solver in enumerate(("exhaustive", Exhaustive(limit=100_000)))]
    assert list(runs[0].samples["key"]) == list(runs[1].samples["key"])
    assert runs[0].settings["solver"] == "exhaustive"
    assert runs[1].settings["solver"] == {"name": "exhaustive", "params": {"limit": 100_000}}
