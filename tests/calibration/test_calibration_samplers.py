"""Samplers: distinctness, uniformity, balance, budget feasibility (recomputed), seeds."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas
from iqnas.calibration.samplers import (
    BudgetAwareSampler,
    StratifiedSampler,
    UniformSampler,
    unique_rows,
)
from iqnas.problem import Constraint

NB201 = iqnas.spaces.get("nb201")
MOBILENET = iqnas.spaces.get("mobilenet")


def _activity(space, C):
    act = np.ones(C.shape, dtype=bool)
    for g, (c, mask) in space.conditions.items():
        act[:, g] = mask[C[:, c]]
    return act


def _spreads(space, C):
    """max - min option count per group, over the rows where the group is active."""
    act = _activity(space, C)
    return [int(np.ptp(np.bincount(C[act[:, g], g], minlength=space.sizes[g])))
            for g in range(space.n_groups)]


def _assert_valid_distinct(space, C, n):
    assert C.shape == (n, space.n_groups)
    assert len(unique_rows(C)) == n
    archs = [space.arch(row.tolist()) for row in C]  # validates ranges
    assert all(a.choices == tuple(row) for a, row in zip(archs, C.tolist()))  # canonical


@pytest.mark.parametrize("sampler", [UniformSampler(), StratifiedSampler()])
@pytest.mark.parametrize("space", [NB201, MOBILENET], ids=["nb201", "mobilenet"])
def test_distinct_valid_and_seeded(sampler, space):
    a = sampler.sample_choices(space, 700, seed=3)
    _assert_valid_distinct(space, a, 700)
    np.testing.assert_array_equal(a, sampler.sample_choices(space, 700, seed=3))
    assert not np.array_equal(a, sampler.sample_choices(space, 700, seed=4))
    archs = sampler.sample(space, 5, seed=np.random.default_rng(3))
    assert [x.choices for x in archs] == [tuple(r) for r in
                                          sampler.sample_choices(space, 5, seed=3).tolist()]


def test_uniform_matches_space_sizes():
    # mobilenet depth d of a stage carries 12**d block choices: P(depth 4) = 12**4 / sum
    C = UniformSampler().sample_choices(MOBILENET, 4000, seed=0)
    p4 = 12 ** 4 / (12 ** 2 + 12 ** 3 + 12 ** 4)
    d = MOBILENET.group_index("s1.depth")
    assert abs(np.mean(C[:, d] == 2) - p4) < 0.02
    # nb201: every option of every edge has probability 1/5
    C = UniformSampler().sample_choices(NB201, 5000, seed=0)
    freq = np.stack([np.bincount(C[:, g], minlength=5) for g in range(6)]) / 5000
    assert np.abs(freq - 0.2).max() < 0.03


def test_uniform_dense_and_too_many():
    C = UniformSampler().sample_choices(NB201, NB201.size, seed=1)
    assert len(unique_rows(C)) == NB201.size
    C = UniformSampler().sample_choices(NB201, 10_000, seed=1)
    assert len(unique_rows(C)) == 10_000
    with pytest.raises(iqnas.InputError, match="only 15625"):
        UniformSampler().sample_choices(NB201, NB201.size + 1)
    with pytest.raises(iqnas.InputError, match=r"^The 'n' parameter of UniformSampler\."
                                               r"sample_choices\(\) must be an int in the range "
                                               r"\[0, inf\)\. Got -1 instead\.$"):
        UniformSampler().sample_choices(NB201, -1)


@pytest.mark.parametrize("n", [7, 500, 1003, 12_000])
def test_stratified_nb201_balanced(n):
    C = StratifiedSampler().sample_choices(NB201, n, seed=n)
    _assert_valid_distinct(NB201, C, n)
    assert max(_spreads(NB201, C)) <= 1


@pytest.mark.parametrize("n", [50, 999])
def test_stratified_mobilenet_balanced_over_active_rows(n):
    C = StratifiedSampler().sample_choices(MOBILENET, n, seed=0)
    _assert_valid_distinct(MOBILENET, C, n)
    assert max(_spreads(MOBILENET, C)) <= 1
    # depths are balanced, not size-weighted: each depth about a third
    d = MOBILENET.group_index("s3.depth")
    assert np.ptp(np.bincount(C[:, d], minlength=3)) <= 1
    # block 4 is active only at depth 4 and holds option 0 elsewhere
    b4 = MOBILENET.group_index("s3.b4")
    assert np.all(C[C[:, d] != 2, b4] == 0)


def test_stratified_whole_space():
    C = StratifiedSampler().sample_choices(NB201, NB201.size, seed=0)
    assert len(unique_rows(C)) == NB201.size


def _linear_latency(space, seed):
    rng = np.random.default_rng(seed)
    return iqnas.QuadraticForm(space, 0.5, rng.uniform(0.0, 1.0, space.n_vars), name="lat")


def test_budget_nb201_exact_feasible_set():
    lat = _linear_latency(NB201, 0)
    allc = NB201.enumerate_choices().astype(np.int64)
    vals = lat.evaluate(choices=allc)
    budget = float(np.quantile(vals, 0.02))
    feasible = {tuple(r) for r in allc[vals <= budget].tolist()}
    sampler = BudgetAwareSampler({"lat": (lat, budget)})
    C = sampler.sample_choices(NB201, 100, seed=0)
    _assert_valid_distinct(NB201, C, 100)
    assert all(lat(NB201.arch(r)) <= budget for r in C.tolist())  # recomputed per arch
    assert sampler.feasible(NB201, C).all() and not sampler.feasible(NB201, allc).all()
    # asking for the whole feasible set returns exactly it
    C = sampler.sample_choices(NB201, len(feasible), seed=1)
    assert {tuple(r) for r in C.tolist()} == feasible
    with pytest.raises(iqnas.InputError, match="increase the budget of 'lat'"):
        sampler.sample_choices(NB201, len(feasible) + 1)
    np.testing.assert_array_equal(sampler.sample_choices(NB201, 50, seed=5),
                                  sampler.sample_choices(NB201, 50, seed=5))


def test_budget_stratified_more_balanced():
    lat = _linear_latency(NB201, 1)
    budget = float(np.median(lat.evaluate(choices=NB201.enumerate_choices())))
    plain = BudgetAwareSampler({"lat": (lat, budget)}).sample_choices(NB201, 400, seed=0)
    strat = BudgetAwareSampler({"lat": (lat, budget)}, stratified=True).sample_choices(
        NB201, 400, seed=0)
    _assert_valid_distinct(NB201, strat, 400)
    assert np.all(lat.evaluate(choices=strat) <= budget)
    assert sum(_spreads(NB201, strat)) < 0.5 * sum(_spreads(NB201, plain))


@pytest.mark.parametrize("stratified", [False, True])
def test_budget_mobilenet_rejection(stratified):
    rng = np.random.default_rng(2)
    ctrl = [MOBILENET.group_index(f"s{s}.depth") for s in range(1, 6)]
    pairs = [(g, c) for c in ctrl for g in range(MOBILENET.n_groups) if g not in ctrl]
    from iqnas.calibration.features import FeatureMap

    fmap = FeatureMap(MOBILENET, pairs)
    lat = fmap.to_form(1.0, rng.uniform(0.0, 0.1, fmap.n_features), name="lat")
    energy = _linear_latency(MOBILENET, 3)
    vals = lat.evaluate(choices=MOBILENET.sample_choices(0, 5000))
    budget = float(np.quantile(vals, 0.1))
    cons = {"lat": (lat, budget, "ms"), "energy": (energy, 1e9)}
    C = BudgetAwareSampler(cons, stratified=stratified).sample_choices(MOBILENET, 300, seed=0)
    _assert_valid_distinct(MOBILENET, C, 300)
    for row in C.tolist():
        assert lat(MOBILENET.arch(row)) <= budget


def test_budget_errors_and_constraint_forms():
    lat = _linear_latency(MOBILENET, 4)
    tight = BudgetAwareSampler({"lat": (lat, 0.0)}, batch=1000, max_draws=3000)
    with pytest.raises(iqnas.InputError, match=r"0 distinct feasible .* 3000 draws.*'lat'"):
        tight.sample_choices(MOBILENET, 10, seed=0)
    con = Constraint("lat", lat, 1e6)
    C = BudgetAwareSampler([con]).sample_choices(MOBILENET, 20, seed=0)
    assert len(unique_rows(C)) == 20
    with pytest.raises(iqnas.InputError):
        BudgetAwareSampler({"lat": (lat,)}).sample_choices(MOBILENET, 5)
    with pytest.raises(iqnas.InputError):
        BudgetAwareSampler({"lat": (_linear_latency(NB201, 0), 1.0)}).sample_choices(MOBILENET, 5)


def test_stratified_falls_back_to_uniform_draws_when_balance_cannot_be_made_distinct():
    """7 or 8 of a 9-architecture space: the balanced rows cannot all be distinct (this was an
    InputError in the middle of a calibrate run); the draws are then distinct uniform ones."""
    tiny = iqnas.SearchSpace.from_dict({"name": "tiny", "groups": [
        {"name": "depth", "options": [1, 2]},
        {"name": "w1", "options": [8, 16, 32]},
        {"name": "w2", "options": [8, 16], "active_if": {"group": "depth", "options": [2]}}]})
    everything = {tuple(r) for r in tiny.enumerate_choices()}
    for n in (7, 8):
        for seed in range(5):
            C = StratifiedSampler().sample_choices(tiny, n, seed)
            rows = {tuple(r) for r in C}
            assert len(rows) == n and rows <= everything
