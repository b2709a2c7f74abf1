"""CalibrationRun.quality(): out-of-fold model quality against hand-made folds."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas
from iqnas.calibration import LinearResourceModel, PairwiseRanker, quality_report
from iqnas.calibration.estimators import cross_val_rmse, kfold, out_of_fold


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    oracle = iqnas.oracles.nb201("cifar100")
    return iqnas.calibrate("nb201", oracle, "test_acc_c100", {"help_lat_fpga": 3.0}, 40,
                           seed=1, store=tmp_path_factory.mktemp("q") / "s.db", progress=False)


def test_quality_is_the_report_of_out_of_fold_predictions(run):
    q = run.quality(cv=5, seed=2)
    assert list(q.index) == ["test_acc_c100", "help_lat_fpga"]
    space = run.space
    assert run.model_choice["help_lat_fpga"] == "LinearResourceModel(linear)"
    # the accuracy model is fitted on the trained networks, the latency model on them and the
    # resource-only look-ups
    for metric, est, frame in (("test_acc_c100", PairwiseRanker(space), run.samples),
                               ("help_lat_fpga", LinearResourceModel(space), run.measurements)):
        X = space.choices_to_onehot(np.array([space.parse_key(k).choices
                                              for k in frame["key"]]))
        y = frame[metric].to_numpy()
        want = quality_report(y, out_of_fold(est, X, y, cv=5, seed=2))
        for k, v in want.items():
            assert q.loc[metric, k] == pytest.approx(v, nan_ok=True), (metric, k)
    # fpga latency is exactly linear: wherever every option was seen in training, exact
    assert q.loc["help_lat_fpga", "within_10pct"] >= 0.75
    assert 0.0 < q.loc["test_acc_c100", "kendall_tau"] <= 1.0


def test_out_of_fold_equals_hand_made_folds(run):
    space = run.space
    X = space.choices_to_onehot(np.array([space.parse_key(k).choices
                                          for k in run.samples["key"]]))
    y = run.samples["test_acc_c100"].to_numpy()
    est = PairwiseRanker(space)
    pred = out_of_fold(est, X, y, cv=4, seed=3)
    for val in kfold(len(y), 4, np.random.default_rng(3)):
        train = np.setdiff1d(np.arange(len(y)), val)
        np.testing.assert_allclose(pred[val], PairwiseRanker(space).fit(X[train], y[train])
                                   .predict(X[val]))
    lat = run.samples["help_lat_fpga"].to_numpy()
    noisy = lat + np.random.default_rng(0).normal(0, 0.5, len(lat))
    rmse = cross_val_rmse(LinearResourceModel(space), X, noisy)
    assert 0.3 < rmse < 2.0  # the noise is not learnable: out-of-fold error stays near its 0.5
