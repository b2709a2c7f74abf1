"""Random search backend: feasible answers only, the exhaustive optimum with enough samples."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas
from iqnas.solvers import RandomSearch
from iqnas.solvers.base import SolveOptions
from iqnas.testing.instances import make


def _raw_is_feasible(problem, raw) -> bool:
    arch = problem.space.decode(raw.x)
    return problem.violations(arch) == []


@pytest.mark.parametrize("seed,n_constraints", [(0, 1), (1, 2), (3, 2)])
def test_random_finds_the_exhaustive_optimum_with_enough_samples(seed, n_constraints):
    p = make("nb201-dense", seed, n_constraints)
    best = iqnas.solve(p, "exhaustive")
    res = iqnas.solve(p, RandomSearch(n_samples=150_000), seed=0)
    assert res.status is iqnas.Status.FEASIBLE and res.raw_status == "samples"
    assert res.dual_bound is None and res.gap is None
    assert res.architecture == best.architecture
    assert res.objective == pytest.approx(best.objective)
    for c in p.constraints:
        assert res.resources[c.name] <= c.budget + 1e-9


def test_random_answers_are_always_feasible_under_tight_budgets():
    backend = RandomSearch(n_samples=3000)
    every = iqnas.spaces.get("nb201").enumerate_choices()
    found = 0
    for seed in range(8):
        p = make("nb201-dense", seed, 2)
        # budgets at the 3 % quantile: most samples are infeasible
        cons = {c.name: (c.form, float(np.quantile(c.form.evaluate(choices=every), 0.03)))
                for c in p.constraints}
        p = p.replace(constraints=cons)
        raw = backend.solve(p, SolveOptions(seed=seed))
        if raw.x is None:
            assert raw.status is iqnas.Status.NO_SOLUTION
            continue
        assert _raw_is_feasible(p, raw)
        found += 1
        res = iqnas.solve(p, RandomSearch(n_samples=3000), seed=seed)
        assert res.architecture.choices == p.space.decode(raw.x).choices
        for name, (_, budget) in cons.items():
            assert res.resources[name] <= budget + 1e-9
    assert found >= 4


def test_random_minimises_and_respects_exclusions():
    p = make("nb201-dense", 2, 1).replace(sense="minimize")
    best = iqnas.solve(p, "exhaustive")
    res = iqnas.solve(p, RandomSearch(n_samples=150_000), seed=1)
    assert res.architecture == best.architecture
    q = p.excluding([best.architecture])
    second = iqnas.solve(q, "exhaustive")
    raw = RandomSearch(n_samples=150_000).solve(q, SolveOptions(seed=1))
    arch = q.space.decode(raw.x)
    assert arch != best.architecture and arch == second.architecture


def test_random_reports_no_solution_when_nothing_is_feasible():
    p = make("nb201-dense", 0, 1)
    c = p.constraints[0]
    low = iqnas.solve(p.replace(objective=c.form, constraints=(), sense="minimize"),
                      "exhaustive").objective
    q = p.with_budget(c.name, low * 0.99)
    res = iqnas.solve(q, RandomSearch(n_samples=2000), seed=0)
    assert res.status is iqnas.Status.NO_SOLUTION and res.architecture is None
    assert "no feasible architecture" in res.message


def test_random_seed_reproduces_and_warm_start_counts():
    p = make("binas", 0)
    a = iqnas.solve(p, RandomSearch(n_samples=3000), seed=5)
    b = iqnas.solve(p, RandomSearch(n_samples=3000), seed=5)
    assert a.architecture == b.architecture and a.objective == b.objective
    opt = iqnas.solve(p, "scip")
    w = iqnas.solve(p, RandomSearch(n_samples=10), seed=5, warm_start=opt.architecture)
    assert w.objective == pytest.approx(opt.objective)


def test_random_stops_at_the_time_limit():
    p = make("binas", 1)
    res = iqnas.solve(p, "random", seed=0, time_limit=0.3)
    assert res.raw_status == "time_limit" and res.feasible
    assert res.solve_time < 1.5
    assert res.nodes > 0


def test_random_rejects_unknown_params_and_is_registered():
    p = make("nb201-dense", 0, 1)
    with pytest.raises(iqnas.InputError, match="n_samples"):
        iqnas.solvers.create("random", samples=10)
    with pytest.raises(iqnas.InputError, match=r"^The 'n_samples' parameter of RandomSearch must "
                                               r"be an int in the range \[1, inf\) or None\. "
                                               r"Got 0 instead\.$"):
        iqnas.solve(p, RandomSearch(n_samples=0))
    assert "random" in iqnas.solvers.names()
    assert iqnas.solvers.info("random").capabilities >= {"time_limit", "warm_start"}


def test_choice_evaluation_agrees_with_the_one_hot_polynomial():
    rng = np.random.default_rng(0)
    for name in ("binas", "chain-0.05", "dense-0.01", "nb201-dense"):
        p = make(name, 1)
        C = p.space.sample_choices(rng, 5000)
        X = p.space.choices_to_onehot(C)
        for form in p.forms:
            ref = form.intercept + X @ form.linear + np.einsum("ij,ij->i", X, X @ form.pairwise.T)
            assert np.allclose(form.evaluate(choices=C), ref, atol=1e-9)
            assert np.allclose(form.evaluate(choices=C[:1]), [form(p.space.arch(C[0]))])
    assert len(make("dense-0.01", 0).objective.pair_blocks) == 200  # many gathered columns
