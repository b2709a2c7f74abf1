"""Problem's feasibility kernel: feasible / violation / violations agree, with one tolerance."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas
from iqnas.problem import BUDGET_RTOL, LinearConstraint, Problem, excess, within_budget
from iqnas.space import Architecture


def _random_problem(space, seed):
    rng = np.random.default_rng(seed)
    n = space.n_vars
    forms = [iqnas.QuadraticForm(space, 0.0, rng.uniform(0, 1, n),
                                 rng.uniform(0, 0.1, (n, n)) * (rng.random((n, n)) < 0.2))
             for _ in range(3)]
    C = space.sample_choices(rng, 2000)
    cons = {f"r{k}": (f, float(np.quantile(f.evaluate(choices=C), q)))
            for k, (f, q) in enumerate(zip(forms[1:], (0.6, 0.7)))}
    g = int(rng.integers(space.n_groups))
    coef = np.zeros(n)
    coef[space.offsets[g]:space.offsets[g] + space.sizes[g]] = np.arange(space.sizes[g])
    rows = [LinearConstraint("g-low", coef, lb=-np.inf, ub=float(space.sizes[g] // 2))]
    exclude = [space.arch(r.tolist()) for r in C[:25]]
    return Problem(space, forms[0], cons, linear_constraints=rows, exclude=exclude)


@pytest.mark.parametrize("name,seed", [("nb201", 0), ("nb201", 1), ("mobilenet", 2), ("ofa", 3)])
def test_feasible_violation_and_violations_agree_row_by_row(name, seed):
    space = iqnas.spaces.get(name)
    p = _random_problem(space, seed)
    rng = np.random.default_rng(seed + 10)
    C = np.concatenate([space.sample_choices(rng, 500), [a.choices for a in p.exclude[:5]]])
    if space.conditions:  # rows that are not canonical are no architectures
        C = np.concatenate([C, rng.integers(0, space.sizes[None, :], size=(60, space.n_groups))])
    feas, viol = p.feasible(C), p.violation(C)
    assert feas.dtype == bool and feas.shape == viol.shape == (len(C),)
    assert ((viol == 0) == feas).all() and (viol >= 0).all()
    messages = [p.violations(Architecture(space, tuple(int(v) for v in r))) for r in C]
    assert [not m for m in messages] == feas.tolist()
    assert 20 < feas.sum() < len(C) - 20
    R = p.resource_values(C)
    for k, c in enumerate(p.constraints):
        np.testing.assert_array_equal(R[:, k], c.form.evaluate(choices=C))
    np.testing.assert_array_equal(p.objective_values(C), p.objective.evaluate(choices=C))
    assert p.resources(space.arch(C[0].tolist())) == pytest.approx(dict(zip(
        [c.name for c in p.constraints], R[0])))
    # without the budgets only the linear row, exclusions and canonical form count
    free = p.replace(constraints=())
    np.testing.assert_array_equal(p.violation(C, budgets=False), free.violation(C))
    np.testing.assert_array_equal(free.violation(C) == 0, free.feasible(C))


def test_the_one_tolerance_and_the_margin():
    space = iqnas.spaces.get("nb201")
    C = space.sample_choices(0, 10)
    for budget in (0.5, 10.0, 1e3):
        scale = max(1.0, budget)

        def problem(value, budget=budget):
            return Problem(space, iqnas.QuadraticForm(space), {"r": (iqnas.QuadraticForm(
                space, value), budget)})

        assert problem(budget * (1 + 1e-10)).feasible(C).all()
        assert problem(budget + 0.5 * BUDGET_RTOL * scale).feasible(C).all()
        assert not problem(budget * (1 + 1e-6)).feasible(C).any()
        assert not problem(budget + 2 * BUDGET_RTOL * scale).feasible(C).any()
        assert problem(budget * (1 + 1e-10)).violations(space.arch(C[0].tolist())) == []
        assert problem(budget * (1 + 1e-6)).violations(space.arch(C[0].tolist()))
        over = problem(budget + 1e-3 * scale)
        np.testing.assert_allclose(over.violation(C), 1e-3 - BUDGET_RTOL, rtol=1e-6)
        near = problem(budget * (1 - 1e-8))
        assert near.feasible(C).all() and not near.feasible(C, margin=1e-7).any()
        assert problem(budget * (1 - 1e-6)).feasible(C, margin=1e-7).all()
    # linear rows follow the same rule on each finite bound
    coef = np.zeros(space.n_vars)
    coef[:5] = 4.0  # the first group always contributes exactly 4
    for lb, ub, ok in ((-np.inf, 4.0 / (1 + 1e-10), True), (-np.inf, 4.0 / (1 + 1e-6), False),
                       (4.0 * (1 + 1e-10), np.inf, True), (4.0 * (1 + 1e-6), np.inf, False)):
        p = Problem(space, iqnas.QuadraticForm(space),
                    linear_constraints=[LinearConstraint("row", coef, lb=lb, ub=ub)])
        assert p.feasible(C).tolist() == [ok] * len(C)
        assert p.linear_constraints[0].holds(space.encode(C[0].tolist())) is ok
        assert (p.violation(C) == 0).tolist() == [ok] * len(C)


def test_within_budget_and_excess_on_arrays():
    values = np.array([[1.0, 10.0], [1.0 + 1e-10, 10.0 + 2e-8], [0.0, 9.0]])
    budgets = np.array([1.0, 10.0])
    assert within_budget(values, budgets).tolist() == [[True, True], [True, False],
                                                       [True, True]]
    assert within_budget(1.0 + 1e-10, 1.0) is True and within_budget(np.nan, 1.0) is False
    np.testing.assert_allclose(excess(values, budgets),
                               [[0, 0], [0, (2e-8 - 1e-8) / 10], [0, 0]], atol=1e-15)
