"""MeasuredResult: an architecture with its measured values, checked against the true budgets."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

import iqnas
from iqnas.measured import MeasuredResult, feasible_rows, meets_budgets

SPACE = iqnas.spaces.get("nb201")


def test_fields_and_properties_by_hand():
    arch = SPACE.sample(0)
    other = SPACE.sample(1)
    m = MeasuredResult(arch, {"acc": 71.5, "lat": 2.0, "params": np.float64(0.4)}, "acc",
                       {"lat": 2.0 * (1 + 5e-10), "params": 0.5}, predicted_objective=70.0,
                       rejected=[other], units={"lat": "ms"})
    assert m.key == arch.key and m.architecture is arch
    assert m.true_objective == 71.5 and m.predicted_objective == 70.0
    assert m.truly_feasible                       # 2.0 is within the budget's tolerance
    assert m.resources == {"lat": 2.0, "params": 0.4}
    rv = m.resource_details["lat"]
    assert (rv.value, rv.units) == (2.0, "ms") and rv.slack == pytest.approx(1e-9)
    assert m.resource_details["params"].units == "" and m.rejected == (other,)
    assert m.result is None
    d = json.loads(m.to_json())
    assert d["key"] == arch.key and d["true_objective"] == 71.5 and d["truly_feasible"]
    assert d["measured"] == {"acc": 71.5, "lat": 2.0, "params": 0.4}
    assert d["resources"]["lat"] == {"value": 2.0, "budget": 2.0 * (1 + 5e-10),
                                     "slack": pytest.approx(1e-9), "units": "ms"}
    assert d["rejected"] == [other.key] and d["result"] is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.measured = {}
    with pytest.raises(TypeError):
        m.measured["acc"] = 0.0                   # read-only
    over = dataclasses.replace(m, measured={"acc": 71.5, "lat": 2.01, "params": 0.4})
    assert not over.truly_feasible
    nan = dataclasses.replace(m, measured={"acc": 71.5, "lat": float("nan"), "params": 0.4})
    assert not nan.truly_feasible                 # an unmeasured budget is never met
    assert dataclasses.replace(m, budgets={}).truly_feasible


def test_from_solve_wraps_the_verified_result():
    rng = np.random.default_rng(0)
    acc = iqnas.QuadraticForm(SPACE, linear=rng.normal(size=SPACE.n_vars))
    lat = iqnas.QuadraticForm(SPACE, linear=rng.uniform(0, 1, size=SPACE.n_vars))
    res = iqnas.solve(iqnas.Problem(SPACE, acc, {"lat": (lat, 2.0)}), "exhaustive")
    m = MeasuredResult.from_solve(res, {"acc": 1.0, "lat": 2.5}, "acc", {"lat": 2.0})
    assert m.result is res and m.architecture == res.architecture
    assert m.predicted_objective == res.objective and not m.truly_feasible
    assert m.to_dict()["result"]["key"] == res.key


def test_meets_budgets_on_numbers_and_columns():
    table = {"lat": np.array([1.0, 2.0, 2.0 + 1e-6, np.inf, np.nan]),
             "mem": np.array([0.0, 0.0, 0.0, 0.0, 0.0])}
    np.testing.assert_array_equal(meets_budgets(table, {"lat": 2.0, "mem": 0.0}),
                                  [True, True, False, False, False])
    assert meets_budgets({"lat": 1.0}, {"lat": 1.0}) is True
    assert meets_budgets({"lat": -np.inf}, {"lat": 1.0}) is False
    frame = pd.DataFrame(table)
    np.testing.assert_array_equal(feasible_rows(frame, {}), np.ones(5, dtype=bool))
    np.testing.assert_array_equal(feasible_rows(frame, {"lat": 1.5}),
                                  [True, False, False, False, False])


def test_calibration_reports_measured_results(tmp_path):
    oracle = iqnas.oracles.nb201("cifar100")
    run = iqnas.calibrate("nb201", oracle, "test_acc_c100", {"help_lat_fpga": 3.0}, 24,
                          rounds=2, seed=1, store=tmp_path / "s.db", progress=False)
    best = run.best
    assert isinstance(best, iqnas.MeasuredResult) and best.result is None
    true = oracle.measure(best.architecture)
    assert best.measured["test_acc_c100"] == true["test_acc_c100"] == best.true_objective
    assert best.objective_metric == "test_acc_c100" and dict(best.budgets) == {
        "help_lat_fpga": 3.0}
    assert best.predicted_objective == pytest.approx(
        run.models["test_acc_c100"](best.architecture))
    ok = run.samples[run.samples["help_lat_fpga"] <= 3.0]
    assert best.key == ok.loc[ok["test_acc_c100"].idxmax(), "key"]
    assert best.truly_feasible and best.resource_details["help_lat_fpga"].units == "ms"
    assert "round" not in best.measured and "key" not in best.measured
    sol = run.solve(oracle, solver="exhaustive")
    assert isinstance(sol, iqnas.MeasuredResult) and sol.result.feasible
    assert sol.architecture == sol.result.architecture and sol.truly_feasible
    assert sol.measured["help_lat_fpga"] == oracle.measure(sol.architecture)["help_lat_fpga"]
    for arch in sol.rejected:
        assert oracle.measure(arch)["help_lat_fpga"] > 3.0
