"""iqnas.iter_solutions: the one solve -> verify -> cut -> re-solve loop, against enumeration."""

from __future__ import annotations

import logging
import sys
import time
from itertools import islice

import numpy as np
import pytest
from solvers.random_problems import every_choice, every_onehot, random_problem, values

import iqnas
from iqnas import solvers
from iqnas.solvers.base import Backend
from iqnas.status import Status


def ranking(problem: iqnas.Problem) -> tuple[np.ndarray, np.ndarray]:
    """(choices, objective) of every feasible architecture, best first, by enumeration from the
    raw coefficients (independent of iqnas's evaluation and solvers)."""
    X = every_onehot(problem.space.name)
    ok = np.ones(len(X), dtype=bool)
    for c in problem.constraints:
        ok &= values(c.form, X) <= c.budget + 1e-9 * max(1.0, abs(c.budget))
    obj = values(problem.objective, X)
    order = np.flatnonzero(ok)[np.argsort(-obj[ok], kind="stable")]
    return every_choice(problem.space.name)[order], obj[order]


@pytest.fixture(scope="module", params=[3, 17])
def problem(request):
    return random_problem(request.param, density=0.2, n_constraints=2, quantile=0.2)


@pytest.mark.parametrize("solver", ["scip", "exhaustive"])
def test_answers_are_the_enumerated_ranking(problem, solver):
    choices, obj = ranking(problem)
    got = list(islice(iqnas.iter_solutions(problem, solver), 8))
    assert len(got) == 8
    assert all(r.feasible and r.verified and r.status is Status.OPTIMAL for r in got)
    assert len({r.key for r in got}) == 8                       # distinct
    objs = [r.objective for r in got]
    assert all(a >= b - 1e-9 for a, b in zip(objs, objs[1:]))   # best first
    np.testing.assert_allclose(objs, obj[:8], rtol=1e-9, atol=1e-9)
    for r in got:
        assert not problem.violations(r.architecture)
        for c in problem.constraints:
            assert r.resources[c.name] == pytest.approx(c.form(r.architecture))
    # without ties the architectures themselves are the enumerated ones
    assert np.all(np.diff(obj[:9]) < 0)
    assert [r.architecture.choices for r in got] == [tuple(int(v) for v in c)
                                                     for c in choices[:8]]


def test_solve_and_solve_top_k_are_the_first_answers(problem):
    _, obj = ranking(problem)
    first = iqnas.solve(problem, "scip")
    top = iqnas.solve_top_k(problem, 5, "scip")
    gen = list(islice(iqnas.iter_solutions(problem, "scip"), 5))
    assert first.key == top[0].key == gen[0].key
    assert [r.key for r in top] == [r.key for r in gen]
    assert [r.objective for r in top] == pytest.approx(list(obj[:5]))


def test_skip_leaves_out_architectures_and_keeps_the_order(problem):
    choices, obj = ranking(problem)
    space = problem.space
    skip = [space.arch(choices[0]).key, space.arch(choices[2]), tuple(choices[5])]
    got = list(islice(iqnas.iter_solutions(problem, "exhaustive", skip=skip), 5))
    expect = [tuple(int(v) for v in choices[i]) for i in (1, 3, 4, 6, 7)]
    assert [r.architecture.choices for r in got] == expect
    np.testing.assert_allclose([r.objective for r in got], obj[[1, 3, 4, 6, 7]], rtol=1e-9)
    # the same as excluding them up front
    up_front = list(islice(iqnas.iter_solutions(problem.excluding(skip), "exhaustive"), 5))
    assert [r.key for r in up_front] == [r.key for r in got]


def _few_feasible(n: int) -> iqnas.Problem:
    """A problem whose budget admits exactly ``n`` architectures (continuous random costs)."""
    space = iqnas.spaces.get("nb201")
    rng = np.random.default_rng(5)
    acc = iqnas.QuadraticForm(space, linear=rng.normal(size=space.n_vars))
    cost = iqnas.QuadraticForm(space, linear=rng.uniform(0.1, 1.0, size=space.n_vars))
    c = np.sort(values(cost, every_onehot("nb201")))
    return iqnas.Problem(space, acc, {"cost": (cost, float((c[n - 1] + c[n]) / 2))})


@pytest.mark.parametrize("solver", ["scip", "exhaustive"])
def test_ends_cleanly_when_the_problem_becomes_infeasible(solver, monkeypatch):
    problem = _few_feasible(4)
    choices, obj = ranking(problem)
    assert len(choices) == 4
    calls = []
    module = sys.modules["iqnas.solve"]
    real = module.explain_infeasible
    monkeypatch.setattr(module, "explain_infeasible", lambda p: calls.append(p) or real(p))
    got = list(iqnas.iter_solutions(problem, solver))
    assert [r.architecture.choices for r in got] == [tuple(int(v) for v in c) for c in choices]
    assert calls == []                      # infeasibility is explained on the first solve only
    top = iqnas.solve_top_k(problem, 10, solver)
    assert [r.key for r in top] == [r.key for r in got] and calls == []


def test_infeasible_from_the_start_yields_nothing_and_says_why(caplog):
    problem = _few_feasible(4).with_budget("cost", 1e-3)
    with caplog.at_level(logging.WARNING, logger="iqnas.solve"):
        assert list(iqnas.iter_solutions(problem, "exhaustive")) == []
    assert "cost <= 0.001 is infeasible: the smallest achievable cost is" in caplog.text
    res = iqnas.solve(problem, "exhaustive")
    assert res.status is Status.INFEASIBLE and "smallest achievable cost" in res.message
    (only,) = iqnas.solve_top_k(problem, 3, "exhaustive")
    assert only.status is Status.INFEASIBLE and only.message == res.message


class LyingBackend(Backend):
    """Every second answer breaks the budget (the unconstrained best not yet cut off)."""

    name = "liar"

    def __init__(self) -> None:
        self.calls = 0

    def solve(self, problem, options):
        self.calls += 1
        exact = solvers.get("exhaustive")
        if self.calls % 2:
            return exact.solve(problem.replace(constraints=()), options)
        return exact.solve(problem, options)


def test_answers_failing_verification_are_cut_off_and_never_yielded(problem):
    choices, obj = ranking(problem)
    liar = LyingBackend()
    got = list(islice(iqnas.iter_solutions(problem, liar), 4))
    np.testing.assert_allclose([r.objective for r in got], obj[:4], rtol=1e-9)
    assert all(r.feasible and not problem.violations(r.architecture) for r in got)
    assert liar.calls > 4


class SlowBackend(Backend):
    """Enumeration that takes ``delay`` seconds and records the time limit it was given."""

    name = "slow"
    capabilities = frozenset({"time_limit"})

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.limits: list[float | None] = []

    def solve(self, problem, options):
        self.limits.append(options.time_limit)
        time.sleep(self.delay)
        return solvers.get("exhaustive").solve(problem, options)


def test_time_limit_is_the_total_and_the_rest_is_passed_down():
    problem = _few_feasible(40)
    slow = SlowBackend(0.05)
    t0 = time.perf_counter()
    got = list(iqnas.iter_solutions(problem, slow, time_limit=0.3))
    elapsed = time.perf_counter() - t0
    assert 1 <= len(got) < 40 and elapsed < 1.5   # all 40 would take over 2 s
    assert slow.limits[0] == 0.3
    assert all(0 < b < a for a, b in zip(slow.limits, slow.limits[1:]))   # what is left
    assert [r.objective for r in got] == pytest.approx(list(ranking(problem)[1][:len(got)]))


def test_bad_options_are_refused_before_any_solve(problem):
    with pytest.raises(TypeError, match="iter_solutions.*time_limt"):
        iqnas.iter_solutions(problem, "scip", time_limt=3)
    with pytest.raises(iqnas.InputError, match="time_limit"):
        iqnas.iter_solutions(problem, "scip", time_limit=-1)
    with pytest.raises(iqnas.InputError, match="iter_solutions"):
        iqnas.iter_solutions("not a problem")
    with pytest.raises(iqnas.InputError):
        iqnas.iter_solutions(problem, "scip", skip=["not a key"])


def test_no_aliases():
    assert iqnas.iter_solutions is sys.modules["iqnas.solve"].iter_solutions
    assert "iter_solutions" in iqnas.__all__ and "MeasuredResult" in iqnas.__all__
    assert not hasattr(iqnas.Result, "ok")
    assert not hasattr(Status, "is_success") and not hasattr(Status.OPTIMAL, "is_success")
