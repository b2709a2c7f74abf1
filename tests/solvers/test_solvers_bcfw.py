"""BCFW backend: the greedy knapsack LP is exact, iterates and rounded answers keep the budget."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

import iqnas
from iqnas.solvers import Bcfw
from iqnas.solvers.base import SolveOptions
from iqnas.solvers.bcfw import BcfwSearch, Relaxation, mck_lp
from iqnas.solvers.context import SearchContext
from iqnas.spaces.mobilenet import block_group, depth_group

NB201 = iqnas.spaces.get("nb201")
MOBILENET = iqnas.spaces.get("mobilenet")
EVERY_NB201 = NB201.enumerate_choices()


def nb201_problem(seed: int, n_budgets: int = 1, quadratic: bool = True) -> iqnas.Problem:
    """Random objective; nonnegative resources with budgets at random quantiles (2-60 %)."""
    g = np.random.default_rng([seed, 201])
    n = NB201.n_vars
    obj = iqnas.QuadraticForm(NB201, 0.0, g.normal(0, 1, n), np.triu(g.normal(0, 0.3, (n, n)), 1))
    cons = {}
    for k in range(n_budgets):
        pw = np.triu(g.uniform(0, 0.2, (n, n)), 1) if quadratic else None
        res = iqnas.QuadraticForm(NB201, 0.0, g.uniform(0, 1, n), pw)
        q = g.uniform(0.02, 0.6)
        cons[f"r{k}"] = (res, float(np.quantile(res.evaluate(choices=EVERY_NB201), q)))
    return iqnas.Problem(NB201, obj, cons)


def _bilinear(coef: np.ndarray, depth_lin: np.ndarray) -> iqnas.QuadraticForm:
    """sum coef[s,b,o] x[s.b=o] x[s.depth=d] over b <= d, plus depth linear terms."""
    sp_ = MOBILENET
    lin = np.zeros(sp_.n_vars)
    rows, cols, vals = [], [], []
    for s in range(5):
        dg = sp_.group_index(depth_group(s + 1))
        lin[sp_.offsets[dg]:sp_.offsets[dg] + 3] = depth_lin[s]
        for b in range(4):
            bg = sp_.group_index(block_group(s + 1, b + 1))
            for di, d in enumerate((2, 3, 4)):
                if b + 1 <= d:
                    rows += list(sp_.offsets[bg] + np.arange(12))
                    cols += [sp_.offsets[dg] + di] * 12
                    vals += list(coef[s, b])
    pw = sp.coo_matrix((vals, (rows, cols)), shape=(sp_.n_vars, sp_.n_vars))
    return iqnas.QuadraticForm(sp_, 0.0, lin, pw)


def mobilenet_problem(seed: int) -> iqnas.Problem:
    """BINAS-like: bilinear accuracy and latency over block x depth, per-block costs U(0.5, 1.5),
    latency budget at the 40 % quantile of 10,000 random architectures."""
    g = np.random.default_rng([seed, 3])
    acc = _bilinear(g.normal(0.3, 0.2, (5, 4, 12)), g.normal(0, 0.2, (5, 3)))
    lat = _bilinear(g.uniform(0.5, 1.5, (5, 4, 12)), np.zeros((5, 3)))
    budget = float(np.quantile(lat.evaluate(choices=MOBILENET.sample_choices(g, 10_000)), 0.4))
    return iqnas.Problem(MOBILENET, acc, {"latency": (lat, budget)})


def _raw(problem, seed=0, **params):
    return Bcfw(**params).solve(problem, SolveOptions(seed=seed))


# ---- the LP oracle ---------------------------------------------------------------------------
def test_greedy_knapsack_lp_matches_highs():
    g = np.random.default_rng(0)
    for trial in range(60):
        sizes = g.integers(1, 8, size=g.integers(1, 7))
        n = int(sizes.sum())
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        groups = [slice(int(a), int(a + k)) for a, k in zip(starts, sizes)]
        v = g.normal(size=n)
        w = g.uniform(0, 2, size=n) if trial % 3 else g.integers(0, 3, size=n).astype(float)
        lo = sum(w[gs].min() for gs in groups)
        hi = sum(w[gs].max() for gs in groups)
        budget = float(g.uniform(lo - 0.3, hi + 0.3))
        s = mck_lp(v, w, groups, budget)
        E = np.zeros((len(groups), n))
        for k, gs in enumerate(groups):
            E[k, gs] = 1.0
        ref = linprog(-v, A_ub=w[None, :], b_ub=[budget], A_eq=E, b_eq=np.ones(len(groups)),
                      bounds=(0, 1), method="highs")
        if ref.status == 2:
            assert s is None
            continue
        assert s is not None
        assert v @ s == pytest.approx(-ref.fun, abs=1e-9)
        assert w @ s <= budget + 1e-9
        assert np.allclose(E @ s, 1.0) and s.min() >= 0
        fractional = [gs for gs in groups if s[gs].max() < 1 - 1e-12]
        assert len(fractional) <= 1
        assert all(np.count_nonzero(s[gs] > 1e-12) == 2 for gs in fractional)


# ---- blocks and the invariant ----------------------------------------------------------------
def test_blocks_follow_the_budget_products():
    ctx = SearchContext(mobilenet_problem(0), None)
    rel = Relaxation(ctx, "auto", "auto")
    names = [[MOBILENET.groups[g].name for g in B] for B in rel.blocks]
    assert len(names) == 2
    assert all(".b" in n for n in names[0]) and len(names[0]) == 20
    assert all(n.endswith(".depth") for n in names[1]) and len(names[1]) == 5
    assert len(Relaxation(SearchContext(nb201_problem(0), None), "auto", "auto").blocks) == 6
    linear = nb201_problem(0, 2, quadratic=False)
    assert len(Relaxation(SearchContext(linear, None), "auto", "auto").blocks) == 1
    assert len(Relaxation(SearchContext(linear, None), "auto", "groups").blocks) == 6


@pytest.mark.parametrize("problem", [mobilenet_problem(1), nb201_problem(4),
                                     nb201_problem(5, 2)], ids=["mobilenet", "nb201", "nb201x2"])
def test_every_fw_iterate_satisfies_every_budget(problem):
    ctx = SearchContext(problem, None)
    rel = Relaxation(ctx, "auto", "auto")
    rng = np.random.default_rng(0)
    start = BcfwSearch._start(ctx, rng, "cheapest", None)
    x = problem.space.choices_to_onehot(start[None, :])[0]
    assert problem.violations(problem.space.arch(start.tolist())) == []
    for k in range(150):
        bi = int(rng.integers(len(rel.blocks)))
        idx = rel.block_vars[bi]
        s = rel.block_lp(bi, rel.grad(x)[idx], x)
        x[idx] += (0.3 if k % 2 else 1.0) * (s - x[idx])
        for c in problem.constraints:  # the relaxed (fractional) value
            f = c.form
            value = f.intercept + f.linear @ x + x @ (f.pairwise @ x)
            assert value <= c.budget + 1e-9 * max(1.0, c.budget)


def test_rounding_a_tight_lp_vertex_keeps_the_budget():
    """Alternating block LPs (gamma 1) end on vertices where the budget is tight and one group is
    fractional; rounding to the cheaper used option must keep the budget (argmax would not)."""
    fractional = 0
    problems = [nb201_problem(s) for s in range(20)] + [mobilenet_problem(s) for s in range(8)]
    for problem in problems:
        ctx = SearchContext(problem, None)
        rel = Relaxation(ctx, "auto", "auto")
        start = BcfwSearch._start(ctx, np.random.default_rng(0), "cheapest", None)
        x = problem.space.choices_to_onehot(start[None, :])[0]
        for t in range(3 * len(rel.blocks)):
            bi = t % len(rel.blocks)
            idx = rel.block_vars[bi]
            x[idx] = rel.block_lp(bi, rel.grad(x)[idx], x)
        sp_ = problem.space
        fractional += any(x[o:o + n].max() < 1 - 1e-9 for o, n in zip(sp_.offsets, sp_.sizes))
        arch = sp_.arch(rel.round(x).tolist())
        assert problem.violations(arch) == []
    assert fractional >= 10


# ---- the backend -----------------------------------------------------------------------------
def test_bcfw_never_breaks_the_budget_nb201():
    rounded = 0
    for seed in range(50):
        p = nb201_problem(seed)
        gamma = "lacoste" if seed % 2 else 0.002
        raw = _raw(p, seed=seed, steps=300, gamma=gamma)
        assert raw.status is iqnas.Status.FEASIBLE and raw.dual_bound is None
        arch = p.space.decode(raw.x)
        assert p.violations(arch) == []
        rounded += "answer rounded" in raw.message
    # one budget, linear in each one-group block: rounding alone keeps it, no repair needed
    assert rounded == 50


def test_bcfw_never_breaks_the_budget_mobilenet():
    for seed in range(10):
        p = mobilenet_problem(seed)
        params = {"gamma": "lacoste"} if seed % 2 else {}
        raw = _raw(p, seed=seed, **params)
        arch = p.space.decode(raw.x)
        assert p.violations(arch) == []
        assert "answer rounded" in raw.message
        res = iqnas.solve(p, Bcfw(**params), seed=seed)
        assert res.architecture == arch
        assert res.resources["latency"] <= p.constraints[0].budget + 1e-9


def test_bcfw_with_several_budgets_and_repair_stays_feasible():
    for seed in range(3):
        p = nb201_problem(100 + seed, 2)
        for lp in ("auto", "greedy"):  # exact multi-budget LP, or the most binding budget
            raw = _raw(p, seed=seed, steps=60, lp=lp)
            assert p.violations(p.space.decode(raw.x)) == []


def test_bcfw_quality_on_binas_like_instances():
    """BCFW is a local method: with Lacoste-Julien steps it stays within 20 % of the SCIP optimum
    on every instance here and within 7 % on average, far above its starting point."""
    ratios = []
    for seed in range(4):
        p = mobilenet_problem(seed)
        opt = iqnas.solve(p, "scip")
        res = iqnas.solve(p, Bcfw(gamma="lacoste"), seed=0)
        start = p.objective(p.space.arch([0] * p.space.n_groups))  # the smallest network
        assert opt.objective > 0 and res.objective <= opt.objective + 1e-9
        assert res.objective > start + 0.5 * (opt.objective - start)
        ratios.append(res.objective / opt.objective)
    assert min(ratios) >= 0.8 and np.mean(ratios) >= 0.93


def test_no_solution_when_the_budget_is_below_the_minimum():
    p = nb201_problem(7)
    c = p.constraints[0]
    low = float(c.form.evaluate(choices=EVERY_NB201).min())
    res = iqnas.solve(p.with_budget("r0", 0.99 * low), Bcfw(steps=10))
    assert res.status is iqnas.Status.NO_SOLUTION and res.architecture is None


def test_seed_reproduces_and_warm_start_is_used():
    p = mobilenet_problem(4)
    a = iqnas.solve(p, Bcfw(steps=200), seed=3)
    b = iqnas.solve(p, Bcfw(steps=200), seed=3)
    assert a.architecture == b.architecture and a.objective == b.objective
    # with no steps and no sparsification the feasible warm start comes back unchanged
    opt = iqnas.solve(p, "scip")
    w = iqnas.solve(p, Bcfw(steps=1, gamma=1e-9, sparsify_steps=0),
                    warm_start=opt.architecture)
    assert w.architecture == opt.architecture


def test_minimise_sense():
    p = nb201_problem(9).replace(sense="minimize")
    res = iqnas.solve(p, Bcfw(gamma="lacoste", init="sample"), seed=0)
    values = p.objective.evaluate(choices=EVERY_NB201)
    ok = p.constraints[0].form.evaluate(choices=EVERY_NB201) <= p.constraints[0].budget
    assert res.feasible
    # minimising: better than the median feasible cell
    assert res.objective <= np.median(values[ok])


def test_params_are_validated_and_the_backend_is_registered():
    p = nb201_problem(0)
    with pytest.raises(iqnas.InputError, match="steps"):
        iqnas.solvers.create("bcfw", iterations=5)
    with pytest.raises(iqnas.InputError, match="lacoste"):
        iqnas.solve(p, Bcfw(gamma=2.0))
    with pytest.raises(iqnas.InputError, match="momentum"):
        iqnas.solve(p, Bcfw(momentum=1.0))
    assert "bcfw" in iqnas.solvers.names()


def test_time_limit_replaces_the_step_count():
    p = mobilenet_problem(2)
    res = iqnas.solve(p, "bcfw", seed=0, time_limit=0.5)
    assert res.raw_status == "time_limit" and res.feasible
    assert res.solve_time < 1.5
    assert res.nodes > 100  # FW steps


def test_repair_only_returns_feasible_architectures():
    from iqnas.solvers.moves import repair

    fixed = tried = 0
    for seed in range(6):
        p = nb201_problem(200 + seed, 2)
        cons = {c.name: (c.form, float(np.quantile(c.form.evaluate(choices=EVERY_NB201), 0.05)))
                for c in p.constraints}
        p = p.replace(constraints=cons)
        ctx = SearchContext(p, None)
        C = NB201.sample_choices(np.random.default_rng(seed), 25)
        for c in C[~ctx.feasible(C)]:
            tried += 1
            r = repair(ctx, c)
            if r is not None:
                fixed += 1
                assert p.violations(NB201.arch(r.tolist())) == []
    assert tried >= 100 and fixed >= 0.7 * tried
    p = mobilenet_problem(0)
    q = p.with_budget("latency", 0.6 * p.constraints[0].budget)
    ctx = SearchContext(q, None)
    for c in MOBILENET.sample_choices(np.random.default_rng(1), 10):
        r = repair(ctx, c)
        assert r is not None and q.violations(MOBILENET.arch(r.tolist())) == []
