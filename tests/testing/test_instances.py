"""The seeded benchmark instance generators of issue 2 (benchmarks/instances.py)."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas
from iqnas.spaces.mobilenet import block_group, depth_group
from iqnas.testing import instances as inst


def _group_pairs(space, names):
    return {tuple(sorted((space.group_index(a), space.group_index(b)))) for a, b in names}


def test_same_seed_same_instance_and_seeds_differ():
    a = inst.make_instance("chain-0.1", 3)
    b = inst.make_instance("chain-0.1", 3)
    c = inst.make_instance("chain-0.1", 4)
    assert np.array_equal(a.objective.linear, b.objective.linear)
    assert (a.objective.pairwise != b.objective.pairwise).nnz == 0
    assert a.budgets == b.budgets
    assert not np.allclose(a.objective.linear, c.objective.linear)
    assert a.budgets != c.budgets


def test_chain_and_dense_share_the_binas_part_of_their_seed():
    space = iqnas.spaces.get("mobilenet")
    base = inst.make_instance("binas", 2)
    C = space.sample_choices(0, 500)
    for name in ("chain-0.05", "dense-0.01"):
        other = inst.make_instance(name, 2)
        assert other.budgets == base.budgets
        extra = other.objective - base.objective
        assert np.allclose(extra.linear, 0.0) and extra.intercept == 0.0
        # the extra part is exactly the pairwise noise between block groups
        assert not np.allclose(other.objective.evaluate(choices=C),
                               base.objective.evaluate(choices=C))


def _hand_value(arch, a, depth_lin=None):
    """sum over stages of depth term + sum over the active blocks of a[s, b, option]."""
    total = 0.0
    for s in range(1, 6):
        d = int(arch[depth_group(s)])
        if depth_lin is not None:
            total += depth_lin[s - 1, d - 2]
        for b in range(1, d + 1):
            o = arch.space.option_index(block_group(s, b), arch[block_group(s, b)])
            total += a[s - 1, b - 1, o]
    return total


@pytest.mark.parametrize("seed", [0, 7])
def test_binas_forms_equal_the_block_sums_of_the_decoded_architecture(seed):
    it = inst.make_instance("binas", seed, n_constraints=3)
    space = it.problem.space
    for arch in space.sample(seed + 100, n=25):
        x = space.encode(arch)
        decoded = space.decode(x)
        for r in ("latency", "memory", "energy"):
            want = _hand_value(decoded, it.pieces[f"cost_{r}"])
            assert it.resources[r](x) == pytest.approx(want, abs=1e-12)
        want = _hand_value(decoded, it.pieces["a"], it.pieces["depth_linear"])
        assert it.objective(x) == pytest.approx(want, abs=1e-12)


def test_binas_coefficient_distributions():
    a, d = inst.binas_coefficients(0)
    assert a.shape == (5, 4, 12) and d.shape == (5, 3)
    assert abs(a.mean() - 0.3) < 0.03 and abs(a.std() - 0.2) < 0.02
    lat = inst.block_costs(0, "latency")
    assert lat.min() >= 0.5 and lat.max() <= 1.5
    # memory and energy have their own costs
    assert not np.allclose(lat, inst.block_costs(0, "energy"))


@pytest.mark.parametrize("name", ["binas", "dense-0.02"])
def test_mobilenet_budget_is_the_40_percent_quantile(name):
    it = inst.make_instance(name, 5, n_constraints=3)
    space = it.problem.space
    sample = inst.budget_sample(space, 5)
    assert sample.shape == (10_000, space.n_groups)
    for r, form in it.resources.items():
        vals = form.evaluate(choices=sample)
        assert it.budgets[r] == pytest.approx(np.quantile(vals, 0.4), rel=1e-12)
        assert it.problem.constraint(r).budget == it.budgets[r] >= 0
        # an independent sample agrees: about 40 % of architectures fit the budget
        other = form.evaluate(choices=space.sample_choices(12345, 20_000))
        assert abs(np.mean(other <= it.budgets[r]) - 0.4) < 0.02


def test_chain_adds_exactly_the_consecutive_block_pairs():
    space = iqnas.spaces.get("mobilenet")
    extra = inst.make_instance("chain-0.1", 1).objective - inst.make_instance("binas", 1).objective
    order = [block_group(s, b) for s in range(1, 6) for b in range(1, 5)]
    expected = _group_pairs(space, zip(order[:-1], order[1:]))
    assert len(expected) == 19
    assert ("s1.b4", "s2.b1") in set(zip(order[:-1], order[1:]))
    assert extra.group_pairs() == expected
    assert extra.pairwise.nnz == 19 * 144
    assert abs(extra.pairwise.data.std() - 0.1) < 0.01


def test_dense_adds_every_block_pair():
    space = iqnas.spaces.get("mobilenet")
    extra = inst.make_instance("dense-0.02", 1).objective - \
        inst.make_instance("binas", 1).objective
    blocks = [block_group(s, b) for s in range(1, 6) for b in range(1, 5)]
    expected = _group_pairs(space, [(a, b) for i, a in enumerate(blocks) for b in blocks[i + 1:]])
    assert len(expected) == 190
    assert extra.group_pairs() == expected
    assert extra.pairwise.nnz == 190 * 144
    assert abs(extra.pairwise.data.std() - 0.02) < 0.001
    assert abs(extra.pairwise.data.mean()) < 0.001


def test_nb201_dense_budgets_are_quantiles_over_every_cell():
    it = inst.make_instance("nb201-dense", 0)
    space = it.problem.space
    assert [c.name for c in it.problem.constraints] == ["latency", "memory"]
    every = space.enumerate_choices()
    for r, form in it.resources.items():
        assert form.linear.min() >= 0 and form.pairwise.data.min() >= 0
        vals = form.evaluate(choices=every)
        q = inst.NB201_QUANTILE[r]
        assert it.budgets[r] == pytest.approx(np.quantile(vals, q), rel=1e-12)
        assert abs(np.mean(vals <= it.budgets[r]) - q) < 0.001
    assert it.objective.group_pairs() == {(i, j) for i in range(6) for j in range(i + 1, 6)}


def test_names_and_constraint_counts():
    assert inst.parse("chain-0.3") == ("chain", 0.3)
    assert inst.parse("dense-.5") == ("dense", 0.5)
    for name in inst.FAMILIES:
        p = inst.make(name, 0)
        assert isinstance(p, iqnas.Problem)
        assert len(p.constraints) == (2 if name == "nb201-dense" else 1)
    three = inst.make("dense-0.01", 0, n_constraints=3)
    assert [c.name for c in three.constraints] == ["latency", "memory", "energy"]
    for bad in ("dense", "chain-x", "sparse-0.1", "dense-0.1-2"):
        with pytest.raises(iqnas.InputError):
            inst.make(bad, 0)
    with pytest.raises(iqnas.InputError):
        inst.make("binas", 0, n_constraints=4)


def test_solver_bench_writes_only_its_own_section(tmp_path):
    from benchmarks import solver_bench as sb

    md = tmp_path / "B.md"
    md.write_text("# iqnas benchmarks\n\n## Other (issue 9)\n\nkeep me\n")
    jsonl = tmp_path / "r.jsonl"
    argv = ["--families", "binas", "nb201-dense", "--seeds", "2", "--time-limit", "20",
            "--out", str(md), "--jsonl", str(jsonl)]
    assert sb.main(argv) == 0
    runs, info, command = sb.load_jsonl(jsonl)
    assert len(runs) == 2 * 2 * 2 and info["nproc"] and "--families binas" in command
    assert {r["status"] for r in runs} == {"optimal"}
    assert sb.agreement(runs) == {"binas": "2/2", "nb201-dense": "2/2"}
    text = md.read_text()
    assert text.count(sb.SECTION) == 1 and "keep me" in text
    assert "| binas | linearize | 2 | 2/2 |" in text
    # rewriting replaces the section in place and leaves the other one alone
    notes = tmp_path / "notes.md"
    notes.write_text("### Notes\n\nwhy it is fast\n")
    assert sb.main(["--report-only", str(jsonl), "--out", str(md), "--notes", str(notes)]) == 0
    again = md.read_text()
    assert again.count(sb.SECTION) == 1 and again.count("keep me") == 1
    assert again.index("## Other (issue 9)") < again.index(sb.SECTION)
    assert sb.current_notes(md) == "### Notes\n\nwhy it is fast"
    # a rewrite without --notes keeps the section's notes
    md.write_text(md.read_text() + "\n## Later (issue 12)\n\nafter\n")
    assert sb.main(["--report-only", str(jsonl), "--out", str(md)]) == 0
    final = md.read_text()
    assert final.count("why it is fast") == 1 and final.count("after") == 1
    assert sb.current_notes(md) == "### Notes\n\nwhy it is fast"


def test_nb201_fitted_family_is_the_table_fit_at_quantile_budgets():
    table = iqnas.oracles.nb201("cifar100").table()
    for seed, q in ((0, 0.1), (2, 0.5), (7, 0.5)):
        it = inst.make_instance("nb201-fitted", seed, n_constraints=2)
        assert list(it.budgets) == ["help_lat_fpga", "help_lat_raspi4"]
        for r, b in it.budgets.items():
            assert b == pytest.approx(np.quantile(table[r], q))
        keys = table.index[:50]
        # fpga latency is exactly linear in the one-hot encoding
        fpga = np.array([it.resources["help_lat_fpga"](k) for k in keys])
        assert np.allclose(fpga, table.loc[keys, "help_lat_fpga"], atol=1e-6)
        acc = np.array([it.objective(k) for k in keys])
        assert np.corrcoef(acc, table.loc[keys, "test_acc_c100"])[0, 1] > 0.9
        res = iqnas.solve(it.problem)
        assert res.objective == pytest.approx(iqnas.solve(it.problem, "exhaustive").objective)
