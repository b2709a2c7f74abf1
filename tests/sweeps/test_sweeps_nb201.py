"""Acceptance: a 40-point FPGA-latency sweep on NB201 with models fitted on the table, checked
against exhaustive enumeration and the table itself."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas
from iqnas.calibration.verified import true_optimum
from iqnas.sweeps import budget_range

RES = "help_lat_fpga"


@pytest.fixture(scope="module")
def fpga_sweep(nb201_oracle, nb201_data, interaction_accuracy, fpga_form):
    space, _, _ = nb201_data
    lat = fpga_form.evaluate(choices=nb201_oracle.choices)
    budgets = budget_range(float(lat.min()), float(lat.max()), 40)
    problem = iqnas.Problem(space, interaction_accuracy, {RES: (fpga_form, 1.0)})
    return problem, iqnas.sweep(problem, RES, budgets, oracle=nb201_oracle)


def test_every_point_is_the_exhaustive_optimum_and_verified(fpga_sweep):
    problem, sweep = fpga_sweep
    df = sweep.to_dataframe()
    assert len(df) == 40 and df["feasible"].all()
    assert list(df["budget"]) == sorted(df["budget"])
    for row, arch in zip(df.itertuples(), sweep.architectures):
        at = problem.with_budget(RES, row.budget)
        assert at.violations(arch) == []
        assert getattr(row, RES) == pytest.approx(at.constraint(RES).form(arch), abs=1e-12)
        assert getattr(row, RES) <= row.budget * (1 + 1e-9)
        assert row.objective == pytest.approx(at.objective(arch), abs=1e-12)
        truth = iqnas.solve(at, "exhaustive")
        assert row.objective == pytest.approx(truth.objective, abs=1e-6), row.budget
    # exact answers: more budget never hurts
    assert np.all(np.diff(df["objective"].to_numpy()) >= -1e-9)
    # only the points where the answer changes were solved; the others reused a proven answer
    assert sweep.n_reused > 0 and sweep.n_solved == 40 - sweep.n_reused
    solved = df[df["source"] != "reused"]
    assert solved["key"].is_unique


def test_front_is_non_decreasing_and_non_dominated(fpga_sweep):
    _, sweep = fpga_sweep
    df = sweep.to_dataframe()
    front = sweep.pareto_front()
    assert list(front[RES]) == sorted(front[RES])
    assert np.all(np.diff(front["objective"].to_numpy()) > 0)
    assert front["key"].is_unique and set(front["key"]) <= set(df["key"])
    # brute force over the distinct answers: on the front iff nothing is at least as good
    # for at most the same latency
    answers = df.drop_duplicates("key")
    for row in answers.itertuples():
        better = answers[(answers[RES] <= getattr(row, RES)) & (answers["objective"] >= row.objective)
                         & ((answers[RES] < getattr(row, RES)) | (answers["objective"] > row.objective))]
        assert (row.key in set(front["key"])) == better.empty


def test_oracle_columns_equal_the_table(fpga_sweep, nb201_data):
    _, sweep = fpga_sweep
    _, _, table = nb201_data
    df = sweep.to_dataframe()
    assert {"true_objective", f"true_{RES}", "true_feasible"} <= set(df.columns)
    for row in df.itertuples():
        assert row.true_objective == table.loc[row.key, "test_acc_c100"]
        assert getattr(row, f"true_{RES}") == table.loc[row.key, RES]
        assert row.true_feasible == (table.loc[row.key, RES] <= row.budget * (1 + 1e-9))
    measured = sweep.pareto_front(true=True)
    assert np.all(np.diff(measured["true_objective"].to_numpy()) > 0)
    assert list(measured[f"true_{RES}"]) == sorted(measured[f"true_{RES}"])


def test_true_front_is_the_table_optimum(fpga_sweep, nb201_oracle):
    _, sweep = fpga_sweep
    assert sweep.has_true_front
    tf = sweep.true_front()
    df = sweep.to_dataframe()
    for row, mine in zip(tf.itertuples(), df.itertuples()):
        key, best = true_optimum(nb201_oracle, "test_acc_c100", {RES: row.budget})
        assert row.true_objective == best["test_acc_c100"]
        assert getattr(row, f"true_{RES}") <= row.budget * (1 + 1e-9)
        assert row.regret == pytest.approx(best["test_acc_c100"] - mine.true_objective)
        assert row.regret >= 0


def test_changes_match_hand_computed_diffs(fpga_sweep):
    _, sweep = fpga_sweep
    ch = sweep.changes()
    archs = sweep.architectures
    groups = archs[0].space.groups
    expected = []
    for i in range(39):
        a, b = archs[i].choices, archs[i + 1].choices
        expected += [(i, i + 1, g.name, g.options[x], g.options[y])
                     for g, x, y in zip(groups, a, b) if x != y]
    got = list(zip(ch["point_from"], ch["point_to"], ch["group"], ch["option_from"],
                   ch["option_to"]))
    assert got == expected and len(expected) > 0
    text = sweep.to_dataframe()["changes"]
    assert not isinstance(text.iloc[0], str)  # the first point has no neighbour below
    for i in range(1, 40):
        n = sum(1 for e in expected if e[1] == i)
        assert (text.iloc[i].count("->") if text.iloc[i] else 0) == n
