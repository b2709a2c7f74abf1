"""One built SCIP model serves many budgets and exclusions (iqnas.solvers.scip_reuse): every
answer equals enumeration's, and a problem of another structure gets a new model."""

from __future__ import annotations

import numpy as np
import pytest
from random_problems import brute_force, random_problem

import iqnas
from iqnas.solvers import scip_reuse


@pytest.fixture(autouse=True)
def _no_kept_model():
    scip_reuse.release()
    yield
    scip_reuse.release()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_budgets_on_one_model_match_enumeration(seed):
    base = random_problem(seed, density=0.3, n_constraints=2, quantile=0.5)
    name = base.constraints[0].name
    C = base.space.enumerate_choices()
    values = base.constraints[0].form.evaluate(choices=C)
    solver = iqnas.solvers.Scip()
    builds = []
    for q in (0.9, 0.5, 0.2, 0.05, 0.6):  # down, then up again: rows loosened as well
        p = base.with_budget(name, float(np.quantile(values, q)))
        res = iqnas.solve(p, solver)
        best, _ = brute_force(p)
        assert res.status is iqnas.Status.OPTIMAL
        assert res.objective == pytest.approx(best, rel=1e-9, abs=1e-9)
        assert not p.violations(res.architecture)
        builds.append(scip_reuse._LAST.n_solves)
    assert builds == [0, 1, 2, 3, 4]  # one model, built once


def test_exclusions_added_and_removed_on_one_model():
    base = random_problem(5, density=0.15, n_constraints=1, quantile=0.4)
    solver = iqnas.solvers.Scip()
    top = [r.architecture for r in iqnas.solve_top_k(base, 4, solver)]
    ref = [r.architecture for r in iqnas.solve_top_k(base, 4, "exhaustive")]
    assert [base.objective(a) for a in top] == pytest.approx([base.objective(a) for a in ref])
    # back to fewer exclusions on the same kept model
    again = iqnas.solve(base.excluding(top[:1]), solver)
    assert again.objective == pytest.approx(base.objective(top[1]))
    assert iqnas.solve(base, solver).objective == pytest.approx(base.objective(top[0]))


def test_another_structure_builds_a_new_model_and_reuse_can_be_off():
    a = random_problem(7, n_constraints=1)
    b = random_problem(8, n_constraints=1)
    solver = iqnas.solvers.Scip()
    ra = iqnas.solve(a, solver)
    kept = scip_reuse._LAST
    rb = iqnas.solve(b, solver)
    assert scip_reuse._LAST is not kept and scip_reuse._LAST.n_solves == 0
    assert ra.objective == pytest.approx(brute_force(a)[0])
    assert rb.objective == pytest.approx(brute_force(b)[0])
    scip_reuse.release()
    iqnas.solve(a, iqnas.solvers.Scip(reuse_model=False))
    assert scip_reuse._LAST is None


def test_a_mip_start_is_used_after_many_solves_of_one_model():
    """Upwards through 40 budgets with SCIP held to the given start (no LP, no heuristics, one
    node): each answer is that budget's enumerated optimum, also after the 10th solve (SCIP's
    store of kept solutions once refused every new start)."""
    base = random_problem(3, density=0.3, n_constraints=1, quantile=0.5)
    name = base.constraints[0].name
    C = base.space.enumerate_choices()
    values = base.constraints[0].form.evaluate(choices=C)
    solver = iqnas.solvers.Scip(local_search=False, heuristics="off", presolving="off",
                                separating="off", triangle_cuts=False,
                                scip_params={"limits/nodes": 1, "lp/solvefreq": -1})
    bests = []
    for q in np.linspace(0.02, 0.98, 40):
        p = base.with_budget(name, float(np.quantile(values, q)))
        best, _ = brute_force(p)
        ok = p.feasible(C, margin=1e-7)
        vals = np.where(ok, p.objective_values(C), -np.inf)
        arch = p.space.arch(C[int(np.argmax(vals))])  # the optimum, as the start
        res = iqnas.solve(p, solver, warm_start=arch)
        assert res.objective == pytest.approx(best, rel=1e-9, abs=1e-9)
        bests.append(best)
    assert scip_reuse._LAST.n_solves == 39 and len(set(np.round(bests, 9))) >= 12
