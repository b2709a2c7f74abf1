"""iqnas.solve: verification, infeasibility diagnosis, limits, warm start, top-k, input errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from solvers.random_problems import brute_force, random_problem

import iqnas
from iqnas import solvers
from iqnas.errors import InputError
from iqnas.solvers import Scip
from iqnas.solvers.base import Backend, RawSolution
from iqnas.status import Status


@pytest.fixture(scope="module")
def problem():
    return random_problem(11, density=0.3, n_constraints=2, quantile=0.3)


def test_result_record(problem):
    res = iqnas.solve(problem, "scip", seed=3)
    best, _ = brute_force(problem)
    assert res.feasible and res.verified and res.objective == pytest.approx(best)
    assert res.gap == 0 and res.dual_bound == pytest.approx(best, rel=1e-6)
    assert res.seed == 3 and res.backend == "scip" and res.formulation == "linearize"
    assert set(res.resources) == {"r0", "r1"}
    rv = res.resource_details["r0"]
    assert rv.slack == pytest.approx(rv.budget - rv.value) and rv.slack >= 0
    d = json.loads(res.to_json())
    assert d["key"] == res.architecture.key and d["status"] == "optimal"
    assert "pyscipopt" in d["versions"] and d["resources"]["r1"]["budget"] == rv.budget * 0 + \
        problem.constraint("r1").budget
    assert res.raw_status == "optimal" and res.verified and res.message == ""
    assert res.build_time > 0 and res.solve_time > 0 and res.nodes >= 1
    assert res.options["products"] == "linearize" and res.options["gap"] == 0.0
    assert res.trace and res.trace[-1].primal == pytest.approx(best)
    assert {"iqnas", "python", "numpy", "scip"} <= set(res.versions)
    assert res.objective == pytest.approx(problem.objective(res.architecture))
    for c in problem.constraints:
        assert res.resources[c.name] == pytest.approx(c.form(res.architecture))
    with pytest.raises(AttributeError):
        res.objective = 0  # frozen


@pytest.mark.parametrize("params, allowed", [
    ({"limits/solutions": 1}, {Status.FEASIBLE, Status.OPTIMAL}),
    ({"limits/nodes": 1}, {Status.FEASIBLE, Status.OPTIMAL}),
])
def test_real_scip_limits_map_to_a_verified_answer(problem, params, allowed):
    """A SCIP limit with an incumbent is a success carrying a verified answer and its gap."""
    best, _ = brute_force(problem)
    res = iqnas.solve(problem, Scip(local_search=False, scip_params=params))
    assert res.status in allowed and res.feasible and not problem.violations(res.architecture)
    assert res.objective <= best + 1e-9 and res.dual_bound >= best - 1e-6
    if res.status is Status.FEASIBLE:
        assert res.raw_status in ("sollimit", "nodelimit") and res.gap > 0
    else:
        assert res.objective == pytest.approx(best)


def test_gap_limit_is_optimal_within_gap(problem):
    best, _ = brute_force(problem)
    res = iqnas.solve(problem, Scip(local_search=False), gap=0.5)
    assert res.status in (Status.OPTIMAL_WITHIN_GAP, Status.OPTIMAL) and res.feasible
    assert res.objective >= best - 0.5 * abs(res.dual_bound) - 1e-9


def test_infeasible_names_constraint_and_smallest_value(problem):
    C = problem.space.enumerate_choices()
    g = problem.constraint("r0").form
    smallest = g.evaluate(choices=C).min()
    res = iqnas.solve(problem.with_budget("r0", smallest * 0.9), "scip")
    assert res.status is Status.INFEASIBLE and res.architecture is None and not res.feasible
    assert res.message.startswith(f"r0 <= {smallest * 0.9:g} is infeasible: the smallest "
                                  f"achievable r0 is {smallest:.6g}")


def test_jointly_infeasible_budgets_are_explained(problem):
    C = problem.space.enumerate_choices()
    mins = {c.name: c.form.evaluate(choices=C).min() for c in problem.constraints}
    # each budget alone feasible, together not: find such budgets by enumeration
    p = problem.with_budget("r0", mins["r0"] * 1.0000001).with_budget("r1", mins["r1"] * 1.0000001)
    best, ok = brute_force(p)
    if ok.any():
        pytest.skip("the two minimisers coincide for this instance")
    res = iqnas.solve(p, "scip")
    assert res.status is Status.INFEASIBLE
    assert "cannot all be met together" in res.message


def test_time_limit_with_incumbent_is_a_success_with_gap():
    from iqnas.testing.instances import make  # dense mobilenet instance, too big to prove in 0.5 s

    p = make("dense-0.02", seed=0)
    C = p.space.sample_choices(0, 2000)
    lat = p.constraints[0]
    start = C[np.argmax(lat.form.evaluate(choices=C) <= lat.budget)]
    res = iqnas.solve(p, "scip", time_limit=0.5, warm_start=start.tolist())
    assert res.status in (Status.FEASIBLE, Status.OPTIMAL)
    assert res.feasible and res.gap is not None
    if res.status is Status.FEASIBLE:
        assert res.gap > 0 and res.raw_status == "timelimit"


def test_warm_start_and_trace(problem):
    cold = iqnas.solve(problem, "scip")
    warm = iqnas.solve(problem, "scip", warm_start=cold.architecture)
    assert warm.objective == pytest.approx(cold.objective)
    assert len(warm.trace) >= 1 and warm.trace[-1].primal == pytest.approx(warm.objective)


def test_top_k_matches_enumeration(problem):
    _, ok = brute_force(problem)
    X = problem.space.choices_to_onehot(problem.space.enumerate_choices())
    vals = np.sort(problem.objective.evaluate(X)[ok])[::-1][:5]
    top = iqnas.solve_top_k(problem, 5, "scip")
    assert [r.objective for r in top] == pytest.approx(list(vals))
    assert len({r.architecture.key for r in top}) == 5


class LyingBackend(Backend):
    """Returns the unconstrained optimum first, ignoring budgets: verification must catch it."""

    name = "liar"

    def solve(self, problem, options):
        free = problem.replace(constraints=())
        raw = solvers.get("exhaustive").solve(free, options)
        if problem.exclude:  # after a cut, answer honestly
            raw = solvers.get("exhaustive").solve(problem, options)
        return raw


def test_budget_breaking_answer_is_never_reported_feasible(problem):
    res = iqnas.solve(problem, LyingBackend())
    best, _ = brute_force(problem)
    assert res.feasible and res.objective == pytest.approx(best)
    for c in problem.constraints:
        assert c.form(res.architecture) <= c.budget * (1 + 1e-9)


class BrokenBackend(Backend):
    name = "broken"

    def solve(self, problem, options):
        return RawSolution(Status.OPTIMAL, "optimal", x=np.ones(problem.space.n_vars))


def test_invalid_vector_from_backend_is_an_error(problem):
    res = iqnas.solve(problem, BrokenBackend())
    assert res.status is Status.ERROR and not res.feasible and "invalid" in res.message


@pytest.mark.parametrize("kwargs, match", [
    (dict(time_limit=-1), "time_limit"),
    (dict(gap=-0.1), "gap"),
    (dict(seed=-2), "seed"),
    (dict(solver="gurobix"), "unknown solver"),
    (dict(products="quadratic"), "products"),
    (dict(solver=Scip(scip_params={"no/such/param": 1})), "no/such/param"),
])
def test_bad_solve_arguments(problem, kwargs, match):
    with pytest.raises(InputError, match=match):
        iqnas.solve(problem, **kwargs)


def test_bad_problems():
    space = iqnas.spaces.get("nb201")
    other = iqnas.spaces.get("mobilenet")
    f = iqnas.QuadraticForm(space, 0, np.ones(30))
    with pytest.raises(InputError, match="negative"):
        iqnas.Problem(space, f, {"lat": (f, -1.0)})
    with pytest.raises(InputError, match="finite"):
        iqnas.Problem(space, f, {"lat": (f, float("nan"))})
    with pytest.raises(InputError, match="over space"):
        iqnas.Problem(space, iqnas.QuadraticForm(other), {})
    with pytest.raises(InputError, match="unknown resource"):
        iqnas.Problem(space, f, {"lat": (f, 1.0)}).constraint("latency")
    with pytest.raises(InputError, match="sense"):
        iqnas.Problem(space, f, sense="max")


def test_minimize_and_linear_constraints_and_exclusions():
    space = iqnas.spaces.get("nb201")
    rng = np.random.default_rng(5)
    f = iqnas.QuadraticForm(space, 0, rng.normal(size=30), rng.normal(size=(30, 30)))
    pool = np.zeros(30)
    for g in range(6):
        pool[space.offsets[g] + 4] = 1  # avg_pool_3x3 on each edge
    lc = iqnas.LinearConstraint("pools", pool, lb=2, ub=3)
    X = space.choices_to_onehot(space.enumerate_choices())
    ok = (X @ pool >= 2) & (X @ pool <= 3)
    vals = f.evaluate(X)
    order = np.argsort(np.where(ok, vals, np.inf))
    excluded = space.decode(X[order[0]])
    p = iqnas.Problem(space, f, sense="minimize", linear_constraints=[lc], exclude=[excluded])
    for solver in ("scip", "cvxpy", "exhaustive"):
        res = iqnas.solve(p, solver)
        assert res.objective == pytest.approx(vals[order[1]]), solver
        assert res.architecture != excluded
