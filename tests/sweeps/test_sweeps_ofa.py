"""OFA MobileNetV3: a Note10 latency sweep whose answers meet the budgets by the lookup tables."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas
from iqnas.calibration import QuadraticRegressor
from iqnas.errors import InputError
from iqnas.oracles import ofa_latency_form, resolution_constraint

LAT = "lat_note10_ms"
RESOLUTION = 192


@pytest.fixture(scope="module")
def ofa_sweep():
    oracle = iqnas.oracles.ofa()
    space = oracle.space
    C = space.sample_choices(np.random.default_rng(0), 2000)
    acc = QuadraticRegressor(space, terms="linear", alpha=1.0, name="acc", units="%").fit(
        space.choices_to_onehot(C), oracle.accuracy_choices(C)).form_
    problem = iqnas.Problem(space, acc, {LAT: (ofa_latency_form(RESOLUTION), 30.0)},
                            linear_constraints=[resolution_constraint(RESOLUTION)])
    budgets = [5.0, 16.0, 22.0, 30.0, 45.0]
    return problem, iqnas.sweep(problem, LAT, budgets, oracle=oracle), oracle


def test_latency_from_the_lookup_tables_is_within_budget(ofa_sweep):
    problem, sweep, oracle = ofa_sweep
    df = sweep.to_dataframe()
    assert df["status"][0] == "infeasible" and "smallest achievable" in df["message"][0]
    assert df["feasible"][1:].all()
    for row, arch in zip(df.itertuples(), sweep.architectures):
        if arch is None:
            continue
        measured = oracle.measure(arch)  # Note10 LUT walk, independent of the form
        assert arch["res"] == str(RESOLUTION)
        assert measured[LAT] <= row.budget + 1e-9
        assert measured[LAT] == pytest.approx(getattr(row, LAT), abs=1e-9)
        assert row.true_feasible
        assert getattr(row, f"true_{LAT}") == pytest.approx(measured[LAT], abs=1e-9)
        assert row.true_objective == pytest.approx(measured["acc_ofa_pred"], abs=1e-12)
        assert problem.with_budget(LAT, row.budget).violations(arch) == []
    objective = df["objective"][1:].to_numpy()
    assert np.all(np.diff(objective) >= -1e-9)


def test_no_true_front_without_a_table(ofa_sweep):
    _, sweep, _ = ofa_sweep
    assert sweep.truth.objective_metric == "acc_ofa_pred"
    assert not sweep.has_true_front
    with pytest.raises(InputError, match="true_front needs an oracle"):
        sweep.true_front()
    assert len(sweep.pareto_front(true=True)) >= 1
