"""SCIP on the issue-2 benchmark families: proofs, formulations that agree, valid speed-ups."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import iqnas
from benchmarks.instances import make
from iqnas.formulations.folding import fold_controllers
from iqnas.formulations.start import local_search
from iqnas.formulations.triangles import separate, triangle_blocks


def _best_random_feasible(problem, n=10_000, seed=0):
    space = problem.space
    C = space.sample_choices(np.random.default_rng(seed), n)
    ok = np.ones(n, dtype=bool)
    for c in problem.constraints:
        ok &= c.form.evaluate_choices(C) <= c.budget
    assert ok.sum() > 100
    return float(problem.objective.evaluate_choices(C[ok]).max())


@pytest.mark.parametrize("seed", [0, 1])
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
    """Ground truth by enumeration; with and without MIP start and triangle cuts."""
    off = {"iqnas/local_search": False, "iqnas/triangle_cuts": False}
    runs = [(seed, "linearize", params) for seed in range(3) for params in ({}, off)]
    runs.append((0, "native", {}))  # native is slow on dense objectives: one seed
    for seed, mode, params in runs:
        p = make("nb201-dense", seed)
        truth = iqnas.solve(p, "exhaustive")
        res = iqnas.solve(p, products=mode, params=params)
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
        assert np.allclose(f.evaluate_choices(C), g.evaluate_choices(C), atol=1e-10)
    # the BINAS form has only block x depth products: it folds to a linear function
    p = make("binas", 0)
    assert fold_controllers(p.objective).pairwise.nnz == 0
    assert p.compile("linearize").n_y == 0


def test_triangle_inequalities_hold_at_every_integer_point():
    p = make("nb201-dense", 0)
    cp = p.compile("linearize")
    blocks = triangle_blocks(cp, p.space)
    assert sum(b.xa.shape[0] for b in blocks) == 20          # every triple of the 6 edges
    for row in p.space.enumerate_choices()[::97]:
        v = cp.lift(p.space.choices_to_onehot(row[None, :])[0])
        assert separate(v, blocks, eps=1e-12) == []
    # and they do cut off the fractional point "every option at 1/5, products at 1/25"
    v = np.full(cp.n_vars, 1 / 5)
    v[cp.n_x:] = 1 / 25
    frac = v.copy()
    a, b, c = blocks[0].yab[0], blocks[0].yac[0], blocks[0].ybc[0]
    frac[a] = np.eye(5) / 5      # a frustrated triangle: a = b, a = c but b != c
    frac[b] = np.eye(5) / 5
    frac[c] = np.roll(np.eye(5), 1, axis=1) / 5
    assert separate(v, blocks) == []
    assert separate(frac, blocks)


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
    plain = iqnas.solve(p, time_limit=300,
                        params={"iqnas/local_search": False, "iqnas/triangle_cuts": False})
    assert fast.status is plain.status is iqnas.Status.OPTIMAL
    assert fast.objective == pytest.approx(plain.objective, abs=1e-6)
    assert fast.objective >= _best_random_feasible(p) - 1e-9
