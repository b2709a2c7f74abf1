"""Evolution backend (BINAS / REA / FreeREA): feasible answers, near-optimal on easy problems."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas
from iqnas.solvers import Evolution
from iqnas.solvers.base import SolveOptions
from iqnas.solvers.genomes import mutate_genes, mutate_one
from iqnas.testing.instances import make

MODES = ("binas", "rea", "freerea")


def _raw_arch(problem, mode, seed=0, **params):
    raw = Evolution(mode=mode, **params).solve(problem, SolveOptions(seed=seed))
    return raw, (None if raw.x is None else problem.space.decode(raw.x))


def test_every_mode_is_near_the_exhaustive_optimum_on_nb201():
    exact = {m: 0 for m in MODES}
    for seed in range(3):
        p = make("nb201-dense", seed, 1)
        best = iqnas.solve(p, "exhaustive")
        assert best.objective > 0
        for mode in MODES:
            res = iqnas.solve(p, Evolution(mode=mode), seed=0)
            assert res.status is iqnas.Status.FEASIBLE
            assert res.dual_bound is None and res.gap is None
            assert res.objective >= 0.97 * best.objective, (seed, mode)
            assert res.objective <= best.objective + 1e-9
            exact[mode] += res.architecture == best.architecture
            assert res.resources["latency"] <= p.constraints[0].budget + 1e-9
    assert exact["binas"] >= 2 and sum(exact.values()) >= 6


def test_every_mode_is_near_the_scip_optimum_on_a_binas_mobilenet_instance():
    p = make("binas", 0)
    opt = iqnas.solve(p, "scip")
    assert opt.status is iqnas.Status.OPTIMAL and opt.objective > 0
    for mode in MODES:
        raw, arch = _raw_arch(p, mode, seed=0)
        assert p.violations(arch) == []
        value = p.objective(arch)
        assert 0.97 * opt.objective <= value <= opt.objective + 1e-9, mode
        assert raw.nodes > 1000  # evaluations are counted
        assert "objective evaluations" in raw.message


def test_answers_are_feasible_under_tight_budgets_in_every_mode():
    every = iqnas.spaces.get("nb201").enumerate_choices()
    found = 0
    for seed in range(4):
        p = make("nb201-dense", seed, 2)
        cons = {c.name: (c.form, float(np.quantile(c.form.evaluate(choices=every), 0.02)))
                for c in p.constraints}
        p = p.replace(constraints=cons)
        small = {"binas": {"generations": 30}, "rea": {"cycles": 300},
                 "freerea": {"generations": 100}}
        for mode in MODES:
            raw, arch = _raw_arch(p, mode, seed=seed, **small[mode])
            if arch is None:
                assert raw.status is iqnas.Status.NO_SOLUTION
                continue
            found += 1
            assert p.violations(arch) == []
    assert found >= 8
    # mobilenet with a tight latency budget: conditional groups stay canonical
    p = make("binas", 2)
    c = p.constraints[0]
    q = p.with_budget(c.name, 0.75 * c.budget)
    for mode in MODES:
        raw, arch = _raw_arch(q, mode, seed=1, population=40,
                              **{"rea": {"cycles": 400}}.get(mode, {"generations": 20}))
        assert arch is not None and q.violations(arch) == []


def test_no_solution_when_nothing_is_feasible():
    p = make("nb201-dense", 0, 1)
    c = p.constraints[0]
    low = iqnas.solve(p.replace(objective=c.form, constraints=(), sense="minimize"),
                      "exhaustive").objective
    q = p.with_budget(c.name, 0.99 * low)
    for mode in MODES:
        res = iqnas.solve(q, Evolution(mode=mode, max_retries=3), seed=0)
        assert res.status is iqnas.Status.NO_SOLUTION and res.architecture is None


def test_minimise_exclusions_and_warm_start():
    p = make("nb201-dense", 1, 1).replace(sense="minimize")
    best = iqnas.solve(p, "exhaustive")
    q = p.excluding([best.architecture])
    second = iqnas.solve(q, "exhaustive")
    raw, arch = _raw_arch(q, "binas", seed=3)
    assert arch != best.architecture and q.violations(arch) == []
    assert p.objective(arch) >= second.objective - 1e-9
    assert p.objective(arch) <= second.objective + 0.05 * abs(second.objective)
    # a feasible warm start joins the initial population and is never lost
    for mode, count in (("binas", {"generations": 1}), ("rea", {"cycles": 1}),
                        ("freerea", {"generations": 1})):
        res = iqnas.solve(p, Evolution(mode=mode, population=5, **count), seed=0,
                          warm_start=best.architecture)
        assert res.architecture == best.architecture


def test_seeds_reproduce_exactly():
    p = make("binas", 1)
    for mode, params in (("binas", {"generations": 20}), ("rea", {"cycles": 300}),
                         ("freerea", {"generations": 100})):
        a = iqnas.solve(p, Evolution(mode=mode, **params), seed=7)
        b = iqnas.solve(p, Evolution(mode=mode, **params), seed=7)
        assert a.architecture == b.architecture and a.objective == b.objective
        assert a.nodes == b.nodes


def test_time_limit_replaces_the_generation_count():
    p = make("binas", 0)
    res = iqnas.solve(p, Evolution(mode="rea"), seed=0, time_limit=0.4)
    assert res.raw_status == "time_limit" and res.feasible
    assert res.solve_time < 2.0
    res = iqnas.solve(p, Evolution(generations=3), seed=0, time_limit=30)
    assert res.raw_status == "generations" and res.nodes == 100 + 3 * 100


def test_mutation_and_genomes_keep_the_space_structure():
    space = iqnas.spaces.get("mobilenet")
    rng = np.random.default_rng(0)
    G = rng.integers(0, space.sizes[None, :], size=(500, space.n_groups))
    M = mutate_one(space, rng, G)
    act = space.activity(G)
    changed = M != G
    assert np.all(changed.sum(axis=1) == 1)  # exactly one group changes ...
    assert np.all(act[changed])              # ... and it is an active one
    C = space.canonical(mutate_genes(space, rng, G, 0.3))
    for row in C[:50]:  # canonical rows are valid architectures
        arch = space.arch(row.tolist())
        assert arch.choices == tuple(int(v) for v in row)


def test_params_are_validated_and_the_backend_is_registered():
    p = make("nb201-dense", 0, 1)
    with pytest.raises(iqnas.InputError, match="generations"):
        iqnas.solvers.create("evolution", generation=5)
    with pytest.raises(iqnas.InputError, match="sample_size"):  # a REA option outside REA
        iqnas.solve(p, Evolution(sample_size=5))
    with pytest.raises(iqnas.InputError, match="mode"):
        iqnas.solve(p, Evolution(mode="nsga"))
    with pytest.raises(iqnas.InputError, match="parent_ratio"):
        iqnas.solve(p, Evolution(parent_ratio=1.5))
    assert "evolution" in iqnas.solvers.names()
