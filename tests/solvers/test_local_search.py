"""The local-search MIP start: feasible, never better than the optimum (enumeration), repaired
starts under budgets that almost no sample meets, and more climbs with ``patience``."""

from __future__ import annotations

import numpy as np
import pytest

from iqnas.solvers.start import MARGIN, local_search
from tests.solvers.random_problems import brute_force, random_problem


@pytest.mark.parametrize("seed", range(4))
def test_tight_budget_start_is_repaired_feasible_and_not_above_the_optimum(seed):
    # the first budget at its 0.2 % quantile: of 256 samples about one meets it
    p = random_problem(seed, density=0.3, n_constraints=1, quantile=0.002)
    best, ok = brute_force(p)
    C = p.space.sample_choices(np.random.default_rng(0), 257)
    assert p.feasible(C, margin=MARGIN).sum() < 64  # so the repair path runs
    arch = local_search(p, starts=64, seed=0, time_limit=30)
    assert arch is not None
    assert p.feasible(np.array([arch.choices]), margin=MARGIN)[0]
    assert p.objective(arch) <= best + 1e-9


@pytest.mark.parametrize("seed", range(3))
def test_patience_climbs_on_and_never_ends_lower(seed):
    p = random_problem(seed, density=0.3, n_constraints=1, quantile=0.05)
    best, _ = brute_force(p)
    plain = local_search(p, n_samples=32, starts=4, seed=seed, time_limit=30)
    more = local_search(p, n_samples=32, starts=4, seed=seed, time_limit=30, patience=8,
                        max_climbs=200)
    assert p.objective(more) >= p.objective(plain) - 1e-12  # the same first climbs, then more
    assert p.objective(more) <= best + 1e-9
    assert p.feasible(np.array([more.choices]), margin=MARGIN)[0]


def test_no_feasible_architecture_gives_none():
    p = random_problem(0, n_constraints=1, quantile=0.3)
    p = p.with_budget("r0", 0.0)
    assert not brute_force(p)[1].any()  # every resource value is positive
    assert local_search(p, starts=8, seed=0, time_limit=5) is None


@pytest.mark.parametrize("seed", range(3))
def test_scip_with_a_patient_start_proves_the_enumerated_optimum(seed):
    import iqnas
    from iqnas.solvers import Scip

    p = random_problem(seed, density=0.2, n_constraints=2, quantile=0.1)
    best, _ = brute_force(p)
    res = iqnas.solve(p, Scip(local_search_starts=8, local_search_patience=8, reuse_model=False))
    assert str(res.status) == "optimal"
    assert abs(res.objective - best) <= 1e-6 * max(1.0, abs(best))
