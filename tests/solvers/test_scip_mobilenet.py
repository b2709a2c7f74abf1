"""SCIP on the issue-2 benchmark families: proofs, formulations that agree, valid speed-ups."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import iqnas
from iqnas.formulations import compiled_form
from iqnas.formulations.folding import fold_controllers
from iqnas.formulations.triangles import needed_columns, separate, triangle_index
from iqnas.solvers import Scip
from iqnas.solvers.start import local_search
from iqnas.testing.instances import make


def _best_random_feasible(problem, n=10_000, seed=0):
    space = problem.space
    C = space.sample_choices(np.random.default_rng(seed), n)
    ok = np.ones(n, dtype=bool)
    for c in problem.constraints:
        ok &= c.form.evaluate(choices=C) <= c.budget
    assert ok.sum() > 100
    return float(problem.objective.evaluate(choices=C[ok]).max())


@pytest.mark.parametrize("seed", range(5))   # the five benchmark seeds
def test_chain_is_proved_optimal_and_beats_random_search(seed):
    p = make("chain-0.1", seed)
    res = iqnas.solve(p, time_limit=60)
    assert res.status is iqnas.Status.OPTIMAL
    assert res.gap == pytest.approx(0.0, abs=1e-9)
    assert res.dual_bound == pytest.approx(res.objective, abs=1e-6)
    assert not p.violations(res.architecture)
    assert res.objective == pytest.approx(p.objective(res.architecture))
    assert res.objective >= _best_random_feasible(p) - 1e-9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binas_linearised_and_native_agree(seed):
    p = make("binas", seed)
    lin = iqnas.solve(p, products="linearize", time_limit=60)
    nat = iqnas.solve(p, products="native", time_limit=60)
    assert lin.status is nat.status is iqnas.Status.OPTIMAL
    assert lin.objective == pytest.approx(nat.objective, abs=1e-6)
    assert lin.objective >= _best_random_feasible(p) - 1e-9


def test_speedups_never_change_the_optimum_on_nb201_dense():
    """Ground truth by enumeration; with and without MIP start, triangle cuts and separators
    (the small-dense default turns cuts off and the local search on; the others force them)."""
    off = Scip(local_search=False, triangle_cuts=False)
    one = Scip(triangle_per_triple=1, scip_params={"presolving/maxrestarts": -1},
               triangle_cuts=True, separating="default")
    runs = [(seed, "linearize", backend) for seed in range(3) for backend in (Scip(), off, one)]
    runs.append((0, "native", Scip()))  # native is slow on dense objectives: one seed
    for seed, mode, backend in runs:
        p = make("nb201-dense", seed)
        truth = iqnas.solve(p, "exhaustive")
        res = iqnas.solve(p, backend, products=mode)
        assert res.status is iqnas.Status.OPTIMAL
        assert res.objective == pytest.approx(truth.objective, abs=1e-7)


def test_folding_keeps_every_value_on_valid_architectures():
    """Random forms with products on the depth groups (different per depth) fold exactly."""
    space = iqnas.spaces.get("mobilenet")
    rng = np.random.default_rng(0)
    C = space.sample_choices(rng, 5000)
    n = space.n_vars
    for density in (0.05, 0.5):
        mask = rng.random((n, n)) < density
        f = iqnas.QuadraticForm(space, 0.7, rng.normal(size=n),
                                sp.coo_matrix(rng.normal(size=(n, n)) * mask))
        g = fold_controllers(f)
        assert g.pairwise.nnz < f.pairwise.nnz
        assert np.allclose(f.evaluate(choices=C), g.evaluate(choices=C), atol=1e-10)
    # the BINAS form has only block x depth products: it folds to a linear function
    p = make("binas", 0)
    assert fold_controllers(p.objective).pairwise.nnz == 0
    assert compiled_form(p, "linearize").n_y == 0


def test_triangle_inequalities_hold_at_every_integer_point():
    p = make("nb201-dense", 0)
    cp = compiled_form(p, "linearize")
    index = triangle_index(cp, p.space)
    assert index.n_triples == 20                             # every triple of the 6 edges
    for row in p.space.enumerate_choices()[::97]:
        v = cp.lift(p.space.choices_to_onehot(row[None, :])[0])
        assert separate(v, index, eps=1e-12) == []
    # and they do cut off the fractional point "every option at 1/5, products at 1/25"
    v = np.full(cp.n_vars, 1 / 5)
    v[cp.n_x:] = 1 / 25
    frac = v.copy()
    o = p.space.offsets
    blocks = [index.product[o[g]:o[g] + 5, o[h]:o[h] + 5] for g, h in ((0, 1), (0, 2), (1, 2))]
    frac[blocks[0]] = np.eye(5) / 5      # a frustrated triangle: a = b, a = c but b != c
    frac[blocks[1]] = np.eye(5) / 5
    frac[blocks[2]] = np.roll(np.eye(5), 1, axis=1) / 5
    assert separate(v, index) == []
    cuts = separate(frac, index)
    assert cuts and all(coef @ frac[cols] > rhs + 1e-4 for cols, coef, rhs in cuts)


def test_triangle_separation_reads_only_the_lp_support_and_finds_every_violation():
    """On points of the aggregated LP (products consistent with marginals), the separator that
    looks at the options with x > 0 only finds exactly the violated inequalities that checking
    every option triple finds."""
    p = make("dense-0.01", 0)
    cp = compiled_form(p, "linearize")
    space, index = p.space, triangle_index(cp, p.space)
    rng = np.random.default_rng(0)
    i, j = cp.products[:, 0], cp.products[:, 1]
    gi, gj = space.group_of_var[i], space.group_of_var[j]
    for _ in range(3):
        X = space.choices_to_onehot(space.sample_choices(rng, 3))
        w = rng.dirichlet(np.ones(3))
        v = sum(wk * cp.lift(xk) for wk, xk in zip(w, X))
        lam = rng.random((space.n_groups,) * 2) * (rng.random((space.n_groups,) * 2) < 0.5)
        x = v[: cp.n_x]
        v[cp.n_x:] = lam[gi, gj] * x[i] * x[j] + (1 - lam[gi, gj]) * v[cp.n_x:]
        act = cp.row_activity(v)
        agg = [k for k, name in enumerate(cp.row_names) if name.startswith("agg[")]
        assert np.allclose(act[agg], 0.0, atol=1e-12)         # a point of the aggregated LP
        cuts = separate(v, index, max_cuts=10**6)
        assert cuts
        assert _all_violated_triangles(v, index) == {_key(c) for c in cuts}
        partial = np.full_like(v, np.nan)
        partial[: cp.n_x] = x
        need = needed_columns(x, index)
        partial[need] = v[need]
        assert {_key(c) for c in separate(partial, index, max_cuts=10**6)} == \
            {_key(c) for c in cuts}
        # at most one cut per group triple: the most violated of each triple that has any
        one = separate(v, index, max_cuts=10**6, per_triple=1)
        triples = [_groups(c, cp, space) for c in cuts]
        assert sorted(_groups(c, cp, space) for c in one) == sorted(set(triples))
        best = {}
        for c in cuts:
            best.setdefault(_groups(c, cp, space), _violation(c, v))
        assert all(_violation(c, v) == pytest.approx(best[_groups(c, cp, space)]) for c in one)


def _groups(cut, cp, space):
    """The three groups a triangle inequality is about."""
    cols = cut[0]
    xs = [c for c in cols if c < cp.n_x] + [int(i) for c in cols if c >= cp.n_x
                                            for i in cp.products[c - cp.n_x]]
    return tuple(sorted({int(space.group_of_var[i]) for i in xs}))


def _violation(cut, v):
    cols, coef, rhs = cut
    return float(coef @ v[cols] - rhs)


def _key(cut):
    cols, coef, rhs = cut
    return tuple(sorted(zip(cols.tolist(), coef.tolist()))), rhs


def _all_violated_triangles(v, index, eps=1e-4):
    """Every violated triangle inequality, by checking all option triples (no support trick)."""
    out = set()
    gov = index.group_of_var
    for a, b, c in index.triples:
        A, B, C = (np.flatnonzero(gov == g) for g in (a, b, c))
        P = index.product
        xa, xb, xc = v[A][:, None, None], v[B][None, :, None], v[C][None, None, :]
        yab = v[P[np.ix_(A, B)]][:, :, None]
        yac = v[P[np.ix_(A, C)]][:, None, :]
        ybc = v[P[np.ix_(B, C)]][None, :, :]
        for kind, viol in enumerate((xa + xb + xc - yab - yac - ybc - 1, yab + yac - ybc - xa,
                                     yab + ybc - yac - xb, yac + ybc - yab - xc)):
            for i, j, k in np.argwhere(viol > eps):
                xi, xj, xk = A[i], B[j], C[k]
                yij, yik, yjk = P[xi, xj], P[xi, xk], P[xj, xk]
                if kind == 0:
                    cut = ([xi, xj, xk, yij, yik, yjk], [1, 1, 1, -1, -1, -1], 1.0)
                else:
                    mid = [(yij, yik, yjk, xi), (yij, yjk, yik, xj), (yik, yjk, yij, xk)][kind - 1]
                    cut = (list(mid), [1, 1, -1, -1], 0.0)
                out.add(_key((np.array(cut[0]), np.array(cut[1], dtype=float), cut[2])))
    return out


def test_local_search_start_is_feasible_and_not_better_than_the_optimum():
    for name in ("chain-0.1", "dense-0.02"):
        p = make(name, 3)
        arch = local_search(p)
        assert arch is not None and not p.violations(arch)
        assert p.objective(arch) >= _best_random_feasible(p, 2000) - 1e-9
    p = make("chain-0.1", 3)
    assert p.objective(local_search(p)) <= iqnas.solve(p).objective + 1e-9


@pytest.mark.slow
def test_dense_is_proved_optimal_with_and_without_the_speedups():
    p = make("dense-0.01", 1)
    fast = iqnas.solve(p, time_limit=300)
    plain = iqnas.solve(p, Scip(local_search=False, triangle_cuts=False), time_limit=300)
    assert fast.status is plain.status is iqnas.Status.OPTIMAL
    assert fast.objective == pytest.approx(plain.objective, abs=1e-6)
    assert fast.objective >= _best_random_feasible(p) - 1e-9
