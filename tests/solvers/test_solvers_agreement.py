"""Acceptance: scip, cvxpy and exhaustive agree on 200 random nb201 problems (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from random_problems import brute_force, random_problem

import iqnas


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), density=st.sampled_from([0.05, 0.15, 0.3]),
       n_constraints=st.integers(0, 2), quantile=st.floats(0.02, 0.9))
def test_backends_agree_with_enumeration(seed, density, n_constraints, quantile):
    problem = random_problem(seed, density, n_constraints, quantile)
    best, _ = brute_force(problem)
    results = {
        "exhaustive": iqnas.solve(problem, "exhaustive"),
        "scip": iqnas.solve(problem, "scip"),
        "scip-native": iqnas.solve(problem, "scip", products="native"),
        "cvxpy": iqnas.solve(problem, "cvxpy"),
    }
    for name, res in results.items():
        assert res.status is iqnas.Status.OPTIMAL, (name, res.status, res.message)
        assert abs(res.objective - best) <= 1e-6 * max(1.0, abs(best)), name
        for c in problem.constraints:
            value = c.form(res.architecture)
            assert value <= c.budget * (1 + 1e-9), (name, c.name)
            assert res.resources[c.name] == value


def test_exclusions_match_row_by_row_comparison():
    import numpy as np

    from iqnas.problem import excluded

    for name, n in (("nb201", None), ("mobilenet", 3000)):
        space = iqnas.spaces.get(name)
        rng = np.random.default_rng(1)
        C = space.enumerate_choices() if n is None else space.sample_choices(rng, n)
        archs = np.concatenate([C[rng.choice(len(C), 40, replace=False)],
                                space.sample_choices(rng, 5)])
        want = np.array([any((row == a).all() for a in archs) for row in C])
        assert (excluded(space, C, archs) == want).all() and want.sum() >= 40
