"""Executors: a Dask LocalCluster measures the same networks as a serial run, survives a worker
that dies (the job is retried once, then recorded failed), the process pool too; unreachable
schedulers are one-line input errors."""

from __future__ import annotations

import functools

import measure_helpers as mh
import pytest

import iqnas
from iqnas.calibration import measure_batch
from iqnas.calibration.samplers import UniformSampler
from iqnas.calibration.store import SampleStore
from iqnas.errors import InputError
from iqnas.executors import DaskExecutor, InProcessExecutor, ProcessExecutor, make_executor
from iqnas.oracles import FunctionOracle, TorchOracle

SPACE = iqnas.spaces.get("nb201")
N = 20
SEED = 4
DETERMINISTIC = ("param_bytes", "peak_activation_bytes", "macs")


@pytest.fixture(scope="module")
def cluster():
    with DaskExecutor(workers=2) as ex:
        yield ex


@pytest.fixture(scope="module")
def batch() -> list[iqnas.Architecture]:
    return UniformSampler().sample(SPACE, N, SEED)


def nb201_oracle() -> TorchOracle:
    return TorchOracle(SPACE, (1, 3, 8, 8), warmup=1, repeats=5, max_rounds=1, seed=SEED)


def test_in_process_outcomes_and_errors():
    ex = InProcessExecutor()
    out = list(ex.imap(lambda x: 10 // x, [(1,), (0,), (5,)]))
    assert [o.value for o in out] == [10, None, 2]
    assert out[1].error.startswith("ZeroDivisionError") and not out[1].ok
    assert ex.retried == 0 and ex.slots == 1


def test_dask_measures_the_same_networks_as_a_serial_run(cluster, batch, tmp_path):
    oracle = nb201_oracle()
    with SampleStore(tmp_path / "serial.db", SPACE) as serial:
        rep_serial = measure_batch(oracle, batch, serial)
        ref = serial.samples().set_index("key")
    with SampleStore(tmp_path / "dask.db", SPACE) as st:
        rep = measure_batch(oracle, batch, st, executor=cluster)
        got = st.samples().set_index("key")
    assert rep.failed == {} and rep_serial.failed == {} and rep.retried == 0
    assert len(got) == N and set(got.index) == set(ref.index) == {a.key for a in batch}
    for m in DETERMINISTIC:
        assert (got.loc[ref.index, m] == ref[m]).all(), m
    assert (got["latency_ms"] > 0).all()
    assert "dask, embedded LocalCluster" in rep.executor
    assert cluster.slots_for(True) == 2


def test_a_worker_killed_mid_run_loses_nothing_and_its_job_is_retried_once(cluster, batch,
                                                                           tmp_path, caplog):
    victim = batch[7].key
    fn = functools.partial(mh.kill_once, marker=str(tmp_path / "killed"), victim=victim)
    oracle = FunctionOracle(fn, ["score"], SPACE, exclusive=True)
    with SampleStore(tmp_path / "kill.db", SPACE) as st, caplog.at_level("WARNING"):
        rep = measure_batch(oracle, batch, st, executor=cluster)
        got = st.samples().set_index("key")["score"].to_dict()
    assert (tmp_path / "killed").exists()
    assert rep.retried == 1 and rep.failed == {}
    assert got == {a.key: mh.score(a)["score"] for a in batch}
    assert "1 job retried after a worker died" in rep.summary()
    assert "1 job(s) retried after a worker died" in caplog.text


def test_a_job_that_kills_its_worker_twice_is_recorded_failed(cluster, batch, tmp_path):
    victim = batch[3]
    oracle = FunctionOracle(functools.partial(mh.kill_always, victim=victim.key), ["score"],
                            SPACE, exclusive=True)
    with SampleStore(tmp_path / "fail.db", SPACE) as st:
        rep = measure_batch(oracle, batch[:6], st, executor=cluster)
        assert rep.retried == 1 and list(rep.failed) == [victim.key]
        failure = st.failure(victim)
        assert failure["attempts"] == 2 and "died 2 times" in failure["error"]
        assert len(st) == 5 and victim.key not in set(st.samples()["key"])


def test_the_process_pool_survives_a_dying_worker(batch, tmp_path):
    fn = functools.partial(mh.kill_once, marker=str(tmp_path / "killed"), victim=batch[2].key)
    oracle = FunctionOracle(fn, ["score"], SPACE)
    with ProcessExecutor(2) as ex, SampleStore(tmp_path / "pool.db", SPACE) as st:
        rep = measure_batch(oracle, batch[:8], st, executor=ex)
        got = st.samples().set_index("key")["score"].to_dict()
    assert rep.failed == {} and 1 <= rep.retried <= 2  # its neighbour dies with the pool
    assert got == {a.key: mh.score(a)["score"] for a in batch[:8]}


def test_the_process_pool_refuses_what_does_not_pickle():
    with ProcessExecutor(1) as ex, pytest.raises(InputError, match="cannot be sent"):
        list(ex.imap(lambda x: x, [(1,)]))


@pytest.mark.parametrize("kw, match", [
    (dict(scheduler="tcp://127.0.0.1:9", connect_timeout=1.0),
     "scheduler tcp://127.0.0.1:9: cannot reach a Dask scheduler"),
    (dict(scheduler="localhost"), "expected an address like tcp://HOST:PORT"),
    (dict(workers=0), "workers must be a positive integer"),
    (dict(workers=2, scheduler="tcp://127.0.0.1:9"), "not both"),
])
def test_bad_dask_settings_are_one_line_input_errors(kw, match):
    with pytest.raises(InputError, match=match) as exc:
        make_executor(**kw)
    assert "\n" not in str(exc.value)


def test_importing_the_measurement_modules_imports_no_torch_dask_or_onnx():
    import subprocess
    import sys

    code = ("import sys, iqnas, iqnas.oracles, iqnas.executors, iqnas.calibration.batch, "
            "iqnas.cli\n"
            "heavy = [m for m in ('torch', 'distributed', 'dask', 'onnx', 'onnxruntime') "
            "if m in sys.modules]\n"
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)
