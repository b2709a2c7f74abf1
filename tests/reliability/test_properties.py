"""Property-based tests (hypothesis) over random small spaces, forms and budgets, checked
against enumeration: every result re-verifies, top-k answers are distinct and sorted, a warm
start never changes the optimum, and sweep optima are monotone in the budget (issue 16)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import iqnas
from iqnas.problem import within_budget

#: examples per property in the default suite (each solves a few tiny IQPs)
EXAMPLES = 30
COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow],
              derandomize=True)


@st.composite
def problems(draw, max_groups: int = 4, max_options: int = 4):
    """A random space (2..max_groups groups of 2..max_options options), a quadratic objective
    with integer coefficients, a nonnegative resource form and a budget between its smallest
    and largest value (sometimes below the smallest: infeasible)."""
    sizes = draw(st.lists(st.integers(2, max_options), min_size=2, max_size=max_groups))
    space = iqnas.SearchSpace.from_dict({"name": f"h{'x'.join(map(str, sizes))}", "groups": [
        {"name": f"g{i}", "options": [f"o{j}" for j in range(n)]} for i, n in enumerate(sizes)]})
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n = space.n_vars
    pair = rng.integers(-5, 6, size=(n, n)) * (rng.random((n, n)) < 0.5)
    objective = iqnas.QuadraticForm(space, float(rng.integers(-3, 4)),
                                    rng.integers(-9, 10, size=n).astype(float), pair,
                                    name="acc")
    cost = iqnas.QuadraticForm(space, 0.0, rng.integers(0, 10, size=n).astype(float),
                               rng.integers(0, 4, size=(n, n)) * (rng.random((n, n)) < 0.3),
                               name="lat")
    values = cost.evaluate(choices=space.enumerate_choices())
    q = draw(st.floats(-0.1, 1.0))
    budget = float(np.quantile(values, max(q, 0.0))) - (1.0 if q < 0 else 0.0)
    sense = draw(st.sampled_from(["maximize", "minimize"]))
    return iqnas.Problem(space, objective, {"lat": (cost, budget)}, sense=sense)


def _truth(problem: iqnas.Problem) -> tuple[np.ndarray, np.ndarray]:
    """(objective, feasible) of every architecture, by enumeration."""
    C = problem.space.enumerate_choices()
    obj = problem.objective.evaluate(choices=C)
    c = problem.constraints[0]
    ok = within_budget(c.form.evaluate(choices=C), c.budget)
    return obj, ok


def _best(problem, obj, ok) -> float | None:
    if not ok.any():
        return None
    vals = obj[ok]
    return float(vals.max() if problem.sense == "maximize" else vals.min())


def _reverifies(problem: iqnas.Problem, res) -> None:
    """The result's numbers are those of its decoded architecture, which meets the budget."""
    arch = res.architecture
    assert res.verified and not problem.violations(arch)
    assert res.objective == pytest.approx(problem.objective(arch), abs=1e-9)
    c = problem.constraints[0]
    assert res.resources["lat"] == pytest.approx(c.form(arch), abs=1e-9)
    assert within_budget(c.form(arch), c.budget)


@pytest.mark.parametrize("solver", ["scip", "exhaustive"])
@settings(max_examples=EXAMPLES, **COMMON)
@given(problem=problems())
def test_every_result_reverifies_and_is_optimal(solver, problem):
    obj, ok = _truth(problem)
    res = iqnas.solve(problem, solver)
    best = _best(problem, obj, ok)
    if best is None:
        assert not res.feasible and res.status.value == "infeasible"
        return
    assert res.feasible
    _reverifies(problem, res)
    assert res.objective == pytest.approx(best, abs=1e-6)


@settings(max_examples=EXAMPLES, **COMMON)
@given(problem=problems(), k=st.integers(1, 6))
def test_top_k_results_are_distinct_sorted_and_the_true_top_k(problem, k):
    obj, ok = _truth(problem)
    results = iqnas.solve_top_k(problem, k)
    feasible = [r for r in results if r.feasible]
    assert len(feasible) == min(k, int(ok.sum()))
    keys = [r.key for r in feasible]
    assert len(set(keys)) == len(keys)
    values = [r.objective for r in feasible]
    sign = 1.0 if problem.sense == "maximize" else -1.0
    assert all(sign * a >= sign * b - 1e-9 for a, b in zip(values, values[1:]))
    truth = np.sort(sign * obj[ok])[::-1][:len(values)] * sign
    np.testing.assert_allclose(values, truth, atol=1e-6)
    for r in feasible:
        _reverifies(problem, r)


@settings(max_examples=EXAMPLES, **COMMON)
@given(problem=problems(), pick=st.integers(0, 10**6))
def test_a_warm_start_never_changes_the_optimum(problem, pick):
    obj, ok = _truth(problem)
    if not ok.any():
        return
    C = problem.space.enumerate_choices()
    candidates = np.flatnonzero(ok)
    start = problem.space.arch(C[candidates[pick % len(candidates)]].tolist())
    cold = iqnas.solve(problem)
    warm = iqnas.solve(problem, warm_start=start)
    assert warm.feasible and warm.objective == pytest.approx(cold.objective, abs=1e-6)
    _reverifies(problem, warm)


@settings(max_examples=EXAMPLES, **COMMON)
@given(problem=problems(), n=st.integers(2, 6), reuse=st.booleans())
def test_sweep_optima_are_monotone_in_the_budget(problem, n, reuse):
    c = problem.constraints[0]
    values = c.form.evaluate(choices=problem.space.enumerate_choices())
    budgets = sorted(set(np.linspace(values.min() - 1.0, values.max(), n).round(6).tolist()))
    result = iqnas.sweep(problem, "lat", budgets, reuse=reuse, progress=False)
    df = result.to_dataframe().sort_values("budget")
    sign = 1.0 if problem.sense == "maximize" else -1.0
    seen = None
    for _, row in df.iterrows():
        p = problem.with_budget("lat", row["budget"])
        obj, ok = _truth(p)
        best = _best(p, obj, ok)
        assert bool(row["feasible"]) == (best is not None)
        if best is None:
            continue
        assert row["objective"] == pytest.approx(best, abs=1e-6)
        if seen is not None:
            assert sign * row["objective"] >= sign * seen - 1e-9  # a larger budget never hurts
        seen = row["objective"]


@pytest.mark.slow
def test_ten_thousand_random_solves_reverify_with_no_violation():
    """10,000 random solves across the built-in spaces and random small ones: every returned
    architecture re-verifies against its budgets (0 violations)."""
    rng = np.random.default_rng(16)
    spaces = [iqnas.spaces.get(n) for n in ("nb201", "mobilenet", "ofa")]
    violations = solved = 0
    for i in range(10_000):
        space = spaces[i % 3] if i % 2 else _small_space(rng)
        n = space.n_vars
        obj = iqnas.QuadraticForm(space, 0.0, rng.normal(size=n))
        cost = iqnas.QuadraticForm(space, 0.0, rng.uniform(0, 1, size=n))
        sample = cost.evaluate(choices=np.column_stack([rng.integers(0, s, size=200)
                                                        for s in space.sizes]))
        budget = float(np.quantile(sample, rng.uniform(0.05, 0.95)))
        problem = iqnas.Problem(space, obj, {"lat": (cost, budget)})
        res = iqnas.solve(problem, "scip")
        if res.feasible:
            solved += 1
            x = space.encode(res.architecture)
            if not within_budget(cost(x), budget) or problem.violations(res.architecture):
                violations += 1
    assert violations == 0
    assert solved > 9_000


def _small_space(rng) -> iqnas.SearchSpace:
    sizes = rng.integers(2, 6, size=rng.integers(2, 6))
    return iqnas.SearchSpace.from_dict({"name": "r" + "x".join(map(str, sizes)), "groups": [
        {"name": f"g{i}", "options": [f"o{j}" for j in range(int(s))]}
        for i, s in enumerate(sizes)]})
