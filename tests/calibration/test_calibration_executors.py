"""Calibration rounds measured through an executor into the store: failures are recorded as
failures (never numbers, never proposed again), a process pool gives the samples of a serial
run, and training-free sampling goes the same way."""

from __future__ import annotations

import math

import numpy as np
import pytest
import userspace_helpers as uh

import iqnas
from iqnas.builders import check_buildable, option_probes, resolve_builder
from iqnas.calibration import calibrate, calibrate_training_free, measure_batch
from iqnas.calibration.store import SampleStore
from iqnas.errors import InputError
from iqnas.executors import InProcessExecutor, ProcessExecutor
from iqnas.oracles import FunctionOracle

SPACE = iqnas.SearchSpace.from_dict(uh.SPACE)
FAILING = {a.key for a in SPACE.enumerate() if uh.fails(a)}


@pytest.fixture(scope="module")
def pool():
    """One local process pool of 2 workers for the module's tests (it starts once)."""
    with ProcessExecutor(2) as executor:
        yield executor


def _oracle(fn: str = "userspace_helpers:flaky") -> FunctionOracle:
    return FunctionOracle(fn, ["accuracy", "latency_ms"], SPACE)


def _calibrate(store, oracle=None, executor=None, n=40):
    return calibrate(SPACE, oracle or _oracle(), "accuracy", {"latency_ms": 4.0}, n, seed=1,
                     method="regression", store=store, progress=False, executor=executor)


def _failures(path) -> dict:
    with SampleStore(path, SPACE) as st:
        return {k: st.failure(k) for k in st.failed_keys()}


@pytest.mark.parametrize("fn", ["userspace_helpers:flaky", "userspace_helpers:nan_latency"])
def test_failed_measurements_are_recorded_never_numbers_and_never_proposed_again(tmp_path, fn):
    store = tmp_path / "s.db"
    run = _calibrate(store, _oracle(fn))
    fails = _failures(store)
    assert fails and set(fails) <= FAILING
    assert all(f["attempts"] == 1 for f in fails.values())     # each tried exactly once
    want = "out of memory" if fn.endswith("flaky") else "latency_ms = nan"
    assert all(want in f["error"] for f in fails.values())
    keys = set(run.samples["key"])
    assert not keys & FAILING and len(keys) == len(run.samples)
    assert len(run.samples) + len(fails) == sum(h["measured"] for h in run.history)
    assert sum(h["failed"] for h in run.history) == len(fails)
    for key, acc, lat in zip(run.samples["key"], run.samples["accuracy"],
                             run.samples["latency_ms"]):
        assert {"accuracy": acc, "latency_ms": lat} == uh.evaluate(SPACE.parse_key(key))
    # the best is the true best of what was measured, within the budget
    ok = run.samples[run.samples["latency_ms"] <= 4.0]
    assert run.best.measured["accuracy"] == ok["accuracy"].max()
    # a rerun with the same store measures nothing and tries no failure again
    again = _calibrate(store, _oracle(fn))
    assert again.samples.equals(run.samples) and _failures(store) == fails
    assert [h["measured"] for h in again.history] == [0] * len(again.history)


def test_a_process_pool_measures_the_samples_of_a_serial_run(tmp_path, pool):
    serial = _calibrate(tmp_path / "serial.db", executor=InProcessExecutor())
    pooled = _calibrate(tmp_path / "pool.db", executor=pool)
    columns = ["key", "accuracy", "latency_ms", "round", "source"]
    assert pooled.samples[columns].equals(serial.samples[columns])     # the same order, too
    assert _failures(tmp_path / "pool.db").keys() == _failures(tmp_path / "serial.db").keys()
    assert pooled.best.key == serial.best.key


@pytest.mark.parametrize("ordered", [True, False])
def test_an_ordered_batch_is_stored_in_the_order_given(tmp_path, ordered, pool):
    archs = [SPACE.parse_key(k) for k in ("depth=1;w1=8;k1=3", "depth=2;w1=8;k1=3;w2=8",
                                          "depth=3;w1=8;k1=3;w2=8;w3=8")]
    oracle = _oracle("userspace_helpers:slow_depth_1")
    with SampleStore(tmp_path / "s.db", SPACE) as st:
        report = measure_batch(oracle, archs, st, executor=pool, ordered=ordered)
        keys = st.keys()
    assert set(keys) == set(report.measured) == {a.key for a in archs}
    if ordered:
        assert keys == [a.key for a in archs]
    else:   # as they finish: the slow first one last
        assert keys[-1] == archs[0].key


def test_calibrate_refuses_an_executor_that_is_not_one(tmp_path):
    with pytest.raises(InputError, match="executor must be an iqnas.executors Executor"):
        _calibrate(tmp_path / "x.db", executor="dask")
    assert not (tmp_path / "x.db").exists()


def test_too_many_failures_are_one_error_naming_them(tmp_path):
    def always(arch):
        raise ValueError("no device")

    oracle = FunctionOracle(always, ["accuracy", "latency_ms"], SPACE)
    with pytest.raises(InputError, match=r"only 0 architecture\(s\) measured, 10 measurement"
                                         r"\(s\) failed, e.g. .*ValueError: no device"):
        _calibrate(tmp_path / "s.db", oracle)


@pytest.mark.parametrize("executor", [None, "pool"])
def test_training_free_sampling_runs_through_the_executor_and_skips_failures(executor, request):
    oracle = uh.FreeOracle()
    run = calibrate_training_free(oracle.space, oracle, constraints={"latency_ms": 4.0},
                                  n_samples=30, top_k=5, seed=0, progress=False,
                                  executor=request.getfixturevalue("pool") if executor else None)
    assert run.failures and set(run.failures) <= FAILING
    assert all("out of memory" in e for e in run.failures.values())
    keys = set(run.samples["key"])
    assert not keys & FAILING and run.samples["key"].is_unique
    assert (run.samples["source"] != "candidate").sum() == 30    # failures were replaced
    assert not {c.key for c in run.candidates} & FAILING
    assert run.n_evaluations == len(run.samples) + len(run.failures)
    assert (~np.isfinite(run.samples["naswot"])).any()          # -inf is a value, not a failure
    for key, nw in zip(run.samples["key"], run.samples["naswot"]):
        assert nw == uh.free_metrics(oracle.space.parse_key(key))["naswot"]
    ok = run.samples[run.samples["feasible"]]
    assert run.best.key == ok.loc[ok["score"].idxmax(), "key"]


def test_function_oracle_discovers_its_metrics_from_one_call():
    oracle = iqnas.oracles.get("userspace_helpers:evaluate", SPACE)
    assert isinstance(oracle, FunctionOracle) and oracle.metrics == ["accuracy", "latency_ms"]
    first = SPACE.arch([0] * SPACE.n_groups)
    assert oracle.measure(first) == uh.evaluate(first)
    mixed = FunctionOracle.discover(lambda a: {"acc": 1.5, "note": "x", "ok": True,
                                               "bad": math.nan}, SPACE)
    assert mixed.metrics == ["acc"]
    named = iqnas.oracles.get("userspace_helpers:evaluate", SPACE, metrics=["accuracy"])
    assert named.metrics == ["accuracy"]
    with pytest.raises(InputError, match=r"--oracle 'userspace_helpers:flaky' failed on "
                                         r"depth=2;w1=16;k1=3;w2=8 .*RuntimeError: out of "):
        FunctionOracle.discover("userspace_helpers:flaky", SPACE,
                                SPACE.parse_key("depth=2;w1=16;k1=3;w2=8"), what="--oracle")
    with pytest.raises(InputError, match="returned no finite number"):
        FunctionOracle.discover(lambda a: {"note": "x"}, SPACE)
    with pytest.raises(InputError, match="returned a list"):
        FunctionOracle.discover(lambda a: [1.0], SPACE)
    with pytest.raises(InputError, match="oracle 'no_such_module_q:f': module"):
        iqnas.oracles.get("no_such_module_q:f", SPACE)


def test_option_probes_take_every_option_with_its_group_active():
    probes = option_probes(SPACE)
    assert [(g, o) for g, o, _ in probes] == [tuple(v.split("=")) for v in SPACE.var_names()]
    for group, option, arch in probes:
        assert arch.active()[group] == option


def test_check_buildable_names_the_option_a_builder_cannot_build(one_torch_thread):
    from torch import nn

    def only_k3(arch):
        if arch["k1"] != "3":
            raise KeyError(arch["k1"])
        return nn.Linear(2, 2)

    check_buildable(resolve_builder(lambda a: nn.Linear(2, 2), SPACE))
    with pytest.raises(InputError, match=r"cannot build option k1=5 of space 'toyconv' "
                                         r"\(network depth=1;w1=8;k1=5\): KeyError: '5'"):
        check_buildable(resolve_builder(only_k3, SPACE), "--builder")



class _LiveOracle(iqnas.oracles.Oracle):
    """A live latency: every call times anew and gets another value."""

    name, space = "live", SPACE

    def __init__(self):
        self.calls: list[tuple[str, tuple]] = []

    @property
    def metrics(self):
        return ["accuracy", "latency_ms"]

    def measure(self, arch, metrics=None):
        arch = SPACE.to_arch(arch)
        self.calls.append((arch.key, tuple(self.wanted(metrics))))
        values = {**uh.evaluate(arch), "latency_ms": 1.0 + 1e-3 * len(self.calls)}
        return {m: values[m] for m in self.wanted(metrics)}


def test_a_looked_up_sample_is_completed_without_timing_it_again(tmp_path):
    """A network whose latency was looked up (a resource sample) and then trained was timed a
    second time, and the store refused the differing value ("conflicting measurements"): the
    README's `iqnas calibrate --oracle torch ... --constraint latency_ms=5` ended with exit 2."""
    oracle = _LiveOracle()
    archs = SPACE.sample(0, n=4)
    with SampleStore(tmp_path / "s.db", SPACE) as st:
        st.declare_metrics(oracle.metrics)
        st.add(archs[0], oracle.measure(archs[0], ["latency_ms"]), source="lookup", partial=True)
        report = measure_batch(oracle, archs, st, progress=False)
        assert sorted(report.measured) == sorted(a.key for a in archs)
        assert oracle.calls[1:] == [(archs[0].key, ("accuracy",))] + [
            (a.key, ("accuracy", "latency_ms")) for a in archs[1:]]
        assert st.get(archs[0]) == {**uh.evaluate(archs[0]), "latency_ms": 1.001}
