"""A calibration read back from its store: the oracle and units it recorded, models refitted
exactly as the run fitted them, the same best networks and model quality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import iqnas
from iqnas.calibration import load_run, measure_batch, open_store
from iqnas.calibration.provenance import rebuild_oracle
from iqnas.errors import InputError

OBJ, LAT = "test_acc_c100", "help_lat_fpga"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("reload")
    return iqnas.calibrate("nb201", iqnas.oracles.nb201("cifar100"), OBJ, {LAT: 3.0}, 30,
                           rounds=2, store=d / "run.db", progress=False)


def test_the_store_records_its_oracle_and_units(run):
    with open_store(run.store_path) as st:
        meta = st.meta
    assert meta["oracle"] == {"name": "nb201-cifar100", "type": "NB201Oracle", "table": True,
                              "dataset": "cifar100"}
    assert meta["units"] == {OBJ: "%", LAT: "ms"}
    oracle, how = rebuild_oracle(meta["oracle"], run.space)
    assert how == "recorded" and oracle.name == "nb201-cifar100" and oracle.exhaustive
    # a store without the record: the table is recognised from the space and metric names
    oracle, how = rebuild_oracle(None, run.space, [OBJ, LAT], OBJ)
    assert oracle.dataset == "cifar100" and how.startswith("inferred")
    assert rebuild_oracle(None, run.space, ["latency_ms"])[0] is None
    assert rebuild_oracle({"name": "x.csv", "type": "CsvOracle"}, run.space)[0] is None


def test_refitted_models_equal_the_runs(run):
    back = load_run(run.store_path)
    assert back.objective == OBJ and back.scenarios == run.scenarios
    pd.testing.assert_frame_equal(back.samples, run.samples)
    for m, form in run.models.items():
        np.testing.assert_array_equal(back.models[m].linear, form.linear)
        assert (back.models[m].pairwise != form.pairwise).nnz == 0
        assert back.models[m].units == form.units
    assert back.best.key == run.best.key and back.best.measured == run.best.measured
    pd.testing.assert_frame_equal(back.quality(), run.quality())
    assert [h["total"] for h in back.history] == [h["total"] for h in run.history]
    assert back.settings["models"] == {OBJ: "refitted from the samples",
                                       LAT: "refitted from the samples"}


def test_saved_models_are_used_and_checked(run, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    run.models[OBJ].save(models / f"{OBJ}.json")
    back = load_run(run.store_path, models)
    assert back.settings["models"][OBJ].startswith("loaded from")
    assert back.settings["models"][LAT] == "refitted from the samples"
    space = iqnas.spaces.get("ofa")
    iqnas.QuadraticForm(space, 1.0).save(models / f"{LAT}.json")
    with pytest.raises(InputError, match=f"model '{LAT}' is for space 'ofa'"):
        load_run(run.store_path, models)
    with pytest.raises(InputError, match="holds no <metric>.json"):
        (tmp_path / "empty").mkdir()
        load_run(run.store_path, tmp_path / "empty")


def test_stores_that_are_not_calibration_runs(tmp_path):
    oracle = iqnas.oracles.nb201("cifar100", metrics=[OBJ])
    with iqnas.calibration.SampleStore(tmp_path / "m.db", "nb201") as st:
        measure_batch(oracle, iqnas.spaces.get("nb201").sample(0, n=3), st, progress=False)
        assert st.get_meta("oracle")["type"] == "NB201Oracle"
    with pytest.raises(InputError, match="records no calibration settings"):
        load_run(tmp_path / "m.db")
    with pytest.raises(InputError, match="store file not found"):
        open_store(tmp_path / "nope.db")
    assert not (tmp_path / "nope.db").exists()
