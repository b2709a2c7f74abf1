"""Sweeps on a fast NB201 problem: budgets, the 2-D grid, strategies, jobs, infeasible points."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sweep_helpers import brute_force_optimum

import iqnas
from iqnas.errors import InputError
from iqnas.sweeps import budget_range, check_budgets, parse_budgets

RES, GRID = "help_lat_fpga", "params_M_c100"
COLUMNS = ["point", "budget", "status", "feasible", "objective", "key", RES]


@pytest.fixture(scope="module")
def problem(nb201_data, linear_accuracy, fpga_form, params_form):
    space, _, _ = nb201_data
    return iqnas.Problem(space, linear_accuracy, {RES: (fpga_form, 4.0),
                                                  GRID: (params_form, 10.0)})


def _best(problem, budgets: dict) -> float:
    p = problem
    for name, b in budgets.items():
        p = p.with_budget(name, b)
    vals = brute_force_optimum(p)
    return np.nan if np.all(np.isnan(vals)) else float(np.nanmax(vals))


def test_budget_helpers():
    assert budget_range(1.0, 2.0, 5) == [1.0, 1.25, 1.5, 1.75, 2.0]
    assert budget_range(3, 3, 1) == [3.0]
    assert check_budgets(np.array([3.0, 1.0, 3.0, 2]), "r") == [1.0, 2.0, 3.0]
    assert check_budgets(range(3), "r") == [0.0, 1.0, 2.0]
    assert parse_budgets("1, 2.5,4") == [1.0, 2.5, 4.0]
    assert parse_budgets("1:2:3") == [1.0, 1.5, 2.0]
    for bad, match in [([1.0, float("nan")], "not finite"), ([-1.0], "negative"),
                       ([], "empty"), (["a"], "not a number"), ([[1.0, 2.0]], "one-dimensional"),
                       ("1,2", "list of numbers"), ([True], "not a number"),
                       ([float("inf")], "not finite")]:
        with pytest.raises(InputError, match=match):
            check_budgets(bad, "lat")
    for text, match in [("1:2", "lo:hi:n"), ("a,b", "'a' is not a number"),
                        ("1:2:x", "integer"), ("2:1:3", "below lo"), ("", "empty")]:
        with pytest.raises(InputError, match=match):
            parse_budgets(text)
    with pytest.raises(InputError, match="n must be"):
        budget_range(0, 1, 0)


def test_bad_arguments_name_the_field(problem):
    with pytest.raises(InputError, match=rf"unknown resource 'latency'.*{RES}, {GRID}"):
        iqnas.sweep(problem, "latency", [1.0])
    with pytest.raises(InputError, match="negative"):
        iqnas.sweep(problem, RES, [1.0, -2.0])
    with pytest.raises(InputError, match="grid resource .* is the swept resource"):
        iqnas.sweep(problem, RES, [1.0], grid=(RES, [1.0]))
    with pytest.raises(InputError, match=r"^The 'grid' parameter of sweep\(\) must be a "
                                         r"\(resource name, budgets\) pair.* or None\. Got "
                                         r"\[1\.0, 2\.0, 3\.0\] instead\.$"):
        iqnas.sweep(problem, RES, [1.0], grid=[1.0, 2.0, 3.0])
    with pytest.raises(InputError, match="unknown resource 'mem'"):
        iqnas.sweep(problem, RES, [1.0], grid=("mem", [1.0]))
    with pytest.raises(InputError, match="jobs"):
        iqnas.sweep(problem, RES, [1.0], jobs=0)
    with pytest.raises(InputError, match="unknown solver"):
        iqnas.sweep(problem, RES, [1.0], solver="gurobi")
    with pytest.raises(InputError, match="gap"):
        iqnas.sweep(problem, RES, [1.0], gap=-1)
    with pytest.raises(InputError, match="need an oracle"):
        iqnas.sweep(problem, RES, [1.0], objective_metric="test_acc_c100")


def test_one_dimensional_sweep_with_infeasible_points(problem):
    lat_min = float(problem.constraint(RES).form.evaluate(choices=
        problem.space.enumerate_choices()).min())
    budgets = [0.5 * lat_min, 0.9 * lat_min] + budget_range(lat_min, 9.0, 10)
    sweep = iqnas.sweep(problem, RES, budgets)
    df = sweep.to_dataframe()
    assert list(df["status"][:2]) == ["infeasible", "infeasible"]
    assert not df["feasible"][:2].any() and df["feasible"][2:].all()
    assert all(f"smallest achievable {RES} is {lat_min:.6g}" in m for m in df["message"][:2])
    for row in df.itertuples():
        best = _best(problem, {RES: row.budget})
        assert (np.isnan(best) and np.isnan(row.objective)) or \
            row.objective == pytest.approx(best, abs=1e-6)
    assert sweep.n_feasible == 10 and len(sweep) == 12


def test_grid_matches_brute_force(problem):
    budgets = budget_range(2.0, 8.0, 6)
    grid = [0.3, 0.8, 1.5]
    sweep = iqnas.sweep(problem, RES, budgets, grid=(GRID, grid))
    df = sweep.to_dataframe()
    assert len(df) == 18 and list(df["point"]) == list(range(18))
    assert list(df["grid_budget"]) == [g for g in grid for _ in budgets]
    assert list(df["budget"]) == budgets * 3
    for row in df.itertuples():
        best = _best(problem, {RES: row.budget, GRID: row.grid_budget})
        if np.isnan(best):
            assert row.status == "infeasible"
        else:
            assert row.objective == pytest.approx(best, abs=1e-6)
            assert getattr(row, RES) <= row.budget + 1e-9
            assert getattr(row, GRID) <= row.grid_budget + 1e-9
    # neighbours run along the swept resource inside one grid row
    ch = sweep.changes()
    assert (ch["point_to"] - ch["point_from"] == 1).all()
    assert set(ch["point_from"] % 6) <= set(range(5))
    front = sweep.pareto_front([RES, GRID])
    assert len(front) >= len(sweep.pareto_front(RES))


def test_strategies_give_the_same_answers(problem):
    budgets = budget_range(1.2, 8.7, 16)
    runs = {name: iqnas.sweep(problem, RES, budgets, warm_start=w, reuse=r)
            for name, w, r in [("cold", False, False), ("warm", True, False),
                               ("reuse", True, True)]}
    tables = {k: s.to_dataframe() for k, s in runs.items()}
    for name in ("warm", "reuse"):
        np.testing.assert_allclose(tables[name]["objective"], tables["cold"]["objective"],
                                   atol=1e-6)
    assert set(tables["cold"]["source"]) == {"cold"}
    assert (tables["warm"]["source"][1:] == "warm").all()
    warm = tables["warm"]
    for i in range(1, 16):  # the MIP start is the lower neighbour's answer
        assert warm["key"][int(warm["from_point"][i])] == warm["key"][i - 1]
    reused = tables["reuse"][tables["reuse"]["source"] == "reused"]
    assert len(reused) == runs["reuse"].n_reused > 0
    for row in reused.itertuples():  # a reused answer comes from a larger budget
        src = tables["reuse"].iloc[int(row.from_point)]
        assert src.budget > row.budget and src.key == row.key


def test_two_jobs_equal_one(problem):
    budgets = budget_range(1.0, 8.7, 12)
    one = iqnas.sweep(problem, RES, budgets, jobs=1).to_dataframe()
    seen = []
    two = iqnas.sweep(problem, RES, budgets, jobs=2, progress=seen.append).to_dataframe()
    assert sorted(r.point for r in seen) == list(range(12))
    assert one[COLUMNS].equals(two[COLUMNS])


def test_json_export(problem, tmp_path):
    sweep = iqnas.sweep(problem, RES, [3.0, 5.0, 7.0])
    d = json.loads(sweep.to_json())
    assert [p["budget"] for p in d["points"]] == [3.0, 5.0, 7.0]
    assert d["resource"] == RES and d["settings"]["solver"] == "scip"
    assert d["pareto_front"] == list(sweep.pareto_front()["point"])
    assert "true_front" not in d
    out = sweep.save(tmp_path / "s.json")
    assert json.loads(out.read_text()) == d
    with pytest.raises(InputError, match="true_front needs an oracle"):
        sweep.true_front()
