"""Acceptance for calibration on the embedded NB201 table (BRP-NAS iterative selection)."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas
from iqnas.calibration import LinearResourceModel, calibrate
from iqnas.calibration.verified import true_optimum


@pytest.fixture(scope="module")
def oracles():
    return {"cifar100": iqnas.oracles.nb201("cifar100"),
            "cifar10": iqnas.oracles.nb201("cifar10")}


def _best(oracle, metric, tmp_path, seed, constraints=None, selection="iterative"):
    tag = "-".join(f"{m}{b:.4f}" for m, b in (constraints or {}).items())
    run = calibrate("nb201", oracle, metric, constraints, 100, seed=seed, selection=selection,
                    store=tmp_path / f"{metric}-{selection}-{seed}-{tag}.db", progress=False)
    assert len(run.samples) == 100 and run.samples["key"].is_unique
    return run


def test_pairwise_iterative_beats_random_without_budgets(oracles, tmp_path):
    means = {}
    for ds, metric in (("cifar100", "test_acc_c100"), ("cifar10", "test_acc_c10")):
        for selection in ("iterative", "random"):
            vals = [_best(oracles[ds], metric, tmp_path, s, selection=selection)
                    .best.measured[metric] for s in range(10)]
            means[ds, selection] = float(np.mean(vals))
    assert means["cifar100", "iterative"] >= 73.2, means
    assert means["cifar10", "iterative"] >= 94.25, means
    assert means["cifar100", "iterative"] - means["cifar100", "random"] >= 1.0, means


def test_regret_under_latency_budgets(oracles, tmp_path):
    """fpga and raspi4 budgets at their 10/30/50 % quantiles, 100 samples each, 4 seeds: mean
    regret against the table's true constrained optimum <= 0.5 points, nothing infeasible."""
    oracle = oracles["cifar100"]
    table = oracle.table()
    regrets = []
    for device in ("help_lat_fpga", "help_lat_raspi4"):
        for q in (0.1, 0.3, 0.5):
            budget = float(np.quantile(table[device], q))
            _, opt = true_optimum(oracle, "test_acc_c100", {device: budget})
            for seed in range(4):
                run = _best(oracle, "test_acc_c100", tmp_path, seed, {device: budget})
                best = run.best
                assert best.truly_feasible
                true = oracle.measure(best.architecture)
                assert true[device] <= budget                     # truly feasible
                assert best.measured["test_acc_c100"] == true["test_acc_c100"]
                regrets.append(opt["test_acc_c100"] - true["test_acc_c100"])
                # the IQP's final answer, measured; budget-breaking answers are cut off
                sol = run.solve(oracle, solver="scip" if seed == 0 else "exhaustive")
                assert sol.truly_feasible and sol.measured[device] <= budget
                for arch in sol.rejected:
                    assert oracle.measure(arch)[device] > budget
    assert min(regrets) >= 0
    assert np.mean(regrets) <= 0.5, regrets


def test_linear_resource_model_recovers_params_exactly(oracles):
    oracle = oracles["cifar100"]
    space = oracle.space
    table = oracle.table()
    X = space.choices_to_onehot(np.array([space.parse_key(k).choices for k in table.index]))
    for metric in ("params_M_c10", "params_M_c100", "params_M_in16"):
        y = table[metric].to_numpy()
        model = LinearResourceModel(space).fit(X, y)
        pred = model.predict(X)
        r2 = 1 - ((pred - y) ** 2).sum() / ((y - y.mean()) ** 2).sum()
        assert r2 == pytest.approx(1.0, abs=1e-10), metric
        assert np.max(np.abs(pred - y)) < 1e-5   # the table keeps 6 significant digits


def test_selection_with_scip_equals_enumeration(oracles, tmp_path):
    """The exact selection IQP gives the same samples whichever exact solver runs it."""
    oracle = oracles["cifar100"]
    runs = [calibrate("nb201", oracle, "test_acc_c100", {"help_lat_fpga": 3.0}, 24, seed=4,
                      store=tmp_path / f"{solver}.db", solver=solver, rounds=2, progress=False)
            for solver in ("scip", "exhaustive")]
    assert list(runs[0].samples["key"]) == list(runs[1].samples["key"])


def test_bad_arguments(oracles, tmp_path):
    oracle = oracles["cifar100"]
    bad = [dict(objective="acc"), dict(constraints={"help_lat_fpga": -1.0}),
           dict(constraints={"latency": 1.0}), dict(method="gcn"), dict(selection="bo"),
           dict(n_samples=1), dict(seed=-1)]
    for kw in bad:
        args = dict(objective="test_acc_c100", constraints=None, n_samples=20)
        args.update(kw)
        with pytest.raises(iqnas.InputError):
            calibrate("nb201", oracle, args.pop("objective"), args.pop("constraints"),
                      args.pop("n_samples"), store=tmp_path / "bad.db", progress=False, **args)
