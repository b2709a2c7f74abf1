"""``iqnas explain FORM --samples STORE --bootstrap N``: intervals from a calibration store's
samples, refitting with the run's own estimator (here on the OFA space), and from a store's
CSV export (``arch`` column)."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

import iqnas
from iqnas.calibration.run import make_estimator
from iqnas.cli import main
from iqnas.interpret import explain, read_csv

OBJ, LAT = "acc_ofa_pred", "lat_note10_ms"


def _cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def ofa_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("explain-store")
    run = iqnas.calibrate("ofa", iqnas.oracles.ofa(), OBJ, {LAT: 30.0}, 80, selection="random",
                          method="regression", terms="linear", store=d / "run.db",
                          progress=False)
    return run, run.models[OBJ].save(d / f"{OBJ}.json")


def test_bootstrap_from_the_store_uses_the_runs_estimator(ofa_run):
    run, form_file = ofa_run
    code, out, err = _cli("explain", form_file, "--samples", run.store_path, "--bootstrap", 5,
                          "--table", "main", "--table", "depth", "--table", "width",
                          "--format", "csv")
    assert code == 0, err
    got = read_csv(out)
    assert set(got["table"]) == {"main", "depth", "width"}
    depth = got[got["table"] == "depth"]
    assert len(depth) == 10 and depth["ci_low"].notna().all()
    assert (depth["ci_low"] <= depth["ci_high"]).all()
    est = make_estimator(run.space, OBJ, OBJ, run.settings, "%")
    want = explain(run.models[OBJ], samples=run.samples, n_bootstrap=5, estimator=est,
                   tables=["main", "depth", "width"], metric=OBJ)
    np.testing.assert_allclose(got["ci_low"].to_numpy(float), want["ci_low"].to_numpy(float),
                               rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got["ci_high"].to_numpy(float), want["ci_high"].to_numpy(float),
                               rtol=1e-9, atol=1e-9)


def test_bootstrap_from_a_store_export_and_errors(ofa_run, tmp_path):
    run, form_file = ofa_run
    with iqnas.calibration.open_store(run.store_path) as st:
        csv = st.export_csv(tmp_path / "samples.csv")
    code, out, err = _cli("explain", form_file, "--samples", csv, "--bootstrap", 3,
                          "--table", "width", "--format", "csv")
    assert code == 0, err
    assert read_csv(out)["ci_low"].notna().all()
    code, _, err = _cli("explain", form_file, "--samples", run.store_path, "--bootstrap", 3,
                        "--metric", "nope")
    assert code == 2 and "one of the store's metrics" in err
    nb201 = iqnas.QuadraticForm(iqnas.spaces.get("nb201"), 1.0, name=OBJ).save(
        tmp_path / "nb.json")
    code, _, err = _cli("explain", nb201, "--samples", run.store_path, "--bootstrap", 3)
    assert code == 2 and "holds samples of space 'ofa'" in err
