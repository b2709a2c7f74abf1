"""TorchOracle: parameter bytes against the NB201 table, MACs / peak activation against hand
counts, latency repeatability, metric subsets, seeded weights, and one-line bad-input errors."""

from __future__ import annotations

import math

import measure_helpers as mh
import pytest
import torch

import iqnas
from iqnas.builders import resolve_builder
from iqnas.errors import InputError, MeasurementError
from iqnas.oracles import TorchOracle
from iqnas.oracles import torch_oracle as torch_oracle_module
from iqnas.oracles.timing import TimingPolicy, summarize, time_call

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SPACE = iqnas.spaces.get("nb201")


def sig6(x: float) -> float:
    return float(f"{x:.6g}")


@pytest.fixture(scope="module")
def nb201_oracle() -> TorchOracle:
    return TorchOracle("nb201", (1, 3, 8, 8), warmup=3, repeats=20)


def test_param_bytes_are_four_bytes_per_parameter_and_match_the_nb201_table(nb201_oracle):
    table = iqnas.oracles.nb201("cifar10").table()
    for arch in SPACE.sample(3, n=4):
        net = nb201_oracle.network(arch)
        n_params = sum(p.numel() for p in net.parameters())
        got = nb201_oracle.measure(arch, metrics=["param_bytes"])
        assert got == {"param_bytes": 4.0 * n_params}
        assert sig6(n_params / 1e6) == table.at[arch.key, "params_M_c10"]
    arch = SPACE.sample(4)
    n_params = sum(p.numel() for p in nb201_oracle.network(arch).parameters())
    for precision, per in (("int8", 1), ("fp16", 2), ("bf16", 2)):
        o = TorchOracle("nb201", (1, 3, 8, 8), precision=precision)
        assert o.measure(arch, metrics=["param_bytes"])["param_bytes"] == per * n_params


def test_macs_and_peak_activation_equal_hand_counts():
    o = TorchOracle("nb201", mh.TINY_INPUT, "measure_helpers:tiny_net",
                    metrics=["param_bytes", "macs", "peak_activation_bytes"])
    got = o.measure(SPACE.sample(0))
    assert got["param_bytes"] == 4 * mh.TINY_PARAMS
    assert got["macs"] == mh.TINY_MACS
    assert got["peak_activation_bytes"] == 4 * mh.TINY_PEAK_ELEMENTS
    o8 = TorchOracle("nb201", mh.TINY_INPUT, mh.tiny_net, precision="int8",
                     metrics=["peak_activation_bytes"])
    assert o8.measure(SPACE.sample(0)) == {"peak_activation_bytes": mh.TINY_PEAK_ELEMENTS}


def test_macs_scale_with_the_batch_and_match_the_flop_counter(nb201_oracle):
    arch = SPACE.parse_key("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
                           "|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    one = nb201_oracle.measure(arch, metrics=["macs"])["macs"]
    four = TorchOracle("nb201", (4, 3, 8, 8), metrics=["macs"]).measure(arch)["macs"]
    assert four == 4 * one
    # the cell's 6 conv3x3 edges at 16 channels on 8x8 dominate: at least 15 cells' worth
    assert one >= 5 * 6 * (16 * 16 * 9 * 64)


def test_latency_medians_of_two_measurements_agree_within_their_spread(nb201_oracle):
    """The same network measured twice, back to back. The machine is shared: when the load of
    other work changes between the two, every call of the second slows down alike (a shifted
    median, a tight spread), so a disagreeing pair is measured again, at most three pairs."""
    arch = SPACE.sample(7)
    pairs = []
    for _ in range(3):
        a = nb201_oracle.measure(arch, metrics=["latency_ms", "latency_ms_spread",
                                                "latency_ms_cpu"])
        b = nb201_oracle.measure(arch, metrics=["latency_ms", "latency_ms_spread"])
        assert set(b) == {"latency_ms", "latency_ms_spread"}
        assert a["latency_ms"] > 0 and b["latency_ms"] > 0
        assert a["latency_ms_spread"] >= 0 and b["latency_ms_spread"] >= 0
        assert 0 < a["latency_ms_cpu"] <= 1.05 * a["latency_ms"] + 0.05  # CPU <= wall time
        pairs.append((a, b))
        if abs(a["latency_ms"] - b["latency_ms"]) < max(a["latency_ms_spread"],
                                                        b["latency_ms_spread"]):
            return
    pytest.fail(f"no pair of medians agreed within its spread: {pairs}")


def test_a_subset_does_only_its_own_work(nb201_oracle, monkeypatch):
    def no_timing(*args, **kw):
        raise AssertionError("timed although no latency metric was asked for")

    monkeypatch.setattr(torch_oracle_module, "time_call", no_timing)
    got = nb201_oracle.measure(SPACE.sample(1), metrics=["param_bytes", "macs"])
    assert set(got) == {"param_bytes", "macs"}
    assert not nb201_oracle.timed(["param_bytes", "macs"]) and nb201_oracle.timed(None)
    with pytest.raises(InputError, match="unknown metric 'latency'"):
        nb201_oracle.measure(SPACE.sample(1), metrics=["latency"])


def test_threads_are_fixed_during_the_measurement_and_restored():
    seen = []

    def builder(arch):
        seen.append(torch.get_num_threads())
        return mh.tiny_net(arch)

    torch.set_num_threads(1)
    TorchOracle("nb201", mh.TINY_INPUT, builder, num_threads=2,
                metrics=["param_bytes"]).check(SPACE.sample(0))
    assert torch.get_num_threads() == 1


def test_weights_and_input_are_seeded():
    arch = SPACE.sample(2)
    a = TorchOracle("nb201", (1, 3, 8, 8), seed=5)
    b = TorchOracle("nb201", (1, 3, 8, 8), seed=5)
    c = TorchOracle("nb201", (1, 3, 8, 8), seed=6)
    sa, sb, sc = (o.network(arch).state_dict() for o in (a, b, c))
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert any(not torch.equal(sa[k], sc[k]) for k in sa)
    assert torch.equal(a.example_input(), b.example_input())


def test_timing_remeasures_a_wide_spread_with_more_repetitions():
    calls = []
    durations = iter([0.0] * 2 + [1e-3, 5e-3] * 10 + [1e-3] * 200)

    def fn():
        import time

        calls.append(1)
        time.sleep(next(durations))

    t = time_call(fn, TimingPolicy(warmup=2, repeats=20, max_rel_spread=0.2, max_rounds=3))
    assert t.rounds >= 2 and t.n >= 60 and len(calls) == 2 + t.n
    med, iqr = summarize([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (med, iqr) == (3.0, 2.0)


def test_registry_builds_the_torch_oracle():
    o = iqnas.oracles.get("torch", "nb201", input_shape=(1, 3, 8, 8))
    assert isinstance(o, TorchOracle) and "torch" in iqnas.oracles.names()
    assert o.metrics == ["latency_ms", "latency_ms_spread", "latency_ms_cpu", "param_bytes",
                         "peak_activation_bytes", "macs"]
    assert o.units["param_bytes"] == "B" and o.units["latency_ms"] == "ms"
    with pytest.raises(InputError, match="input_shape"):
        iqnas.oracles.get("torch", "nb201")


@pytest.mark.parametrize("spec, match", [
    ("no_such_module_xyz:build", "module 'no_such_module_xyz' does not import"),
    ("measure_helpers:missing", "has no attribute 'missing'"),
    ("measure_helpers:TINY_INPUT", "is a tuple, not a callable"),
    ("measure_helpers", "expected 'module:function'"),
])
def test_bad_builder_paths_are_one_line_input_errors(spec, match):
    with pytest.raises(InputError, match=match) as exc:
        resolve_builder(spec, "nb201")
    assert "\n" not in str(exc.value) and "builder" in str(exc.value)


def test_a_builder_that_raises_or_returns_no_module():
    arch = SPACE.sample(0)
    for spec, match in (("measure_helpers:raising_builder", "this builder always fails"),
                        ("measure_helpers:not_a_module", "returned a int .* not a torch.nn")):
        o = TorchOracle("nb201", (1, 3, 8, 8), spec)
        with pytest.raises(MeasurementError, match=match):
            o.measure(arch)
        with pytest.raises(InputError, match=match) as exc:
            o.check(arch)
        assert "\n" not in str(exc.value) and arch.key in str(exc.value)


@pytest.mark.parametrize("shape, match", [
    ("1,3,x", "expected comma-separated positive integers"),
    ("1,0,8,8", "every dimension must be a positive integer"),
    ((), "every dimension must be a positive integer"),
])
def test_bad_input_shapes(shape, match):
    with pytest.raises(InputError, match=match):
        TorchOracle("nb201", shape)


def test_an_input_shape_that_does_not_fit_the_network():
    o = TorchOracle("nb201", (1, 5, 8, 8))
    with pytest.raises(InputError, match=r"input_shape 1,5,8,8 does not fit the network") as e:
        o.check(SPACE.sample(0))
    assert "\n" not in str(e.value)
    with pytest.raises(MeasurementError, match="measuring"):
        o.measure(SPACE.sample(0), metrics=["macs"])


def test_onnx_latency_is_measured_in_onnxruntime():
    o = TorchOracle("nb201", mh.TINY_INPUT, "measure_helpers:tiny_net", onnx=True, warmup=2,
                    repeats=10, metrics=["latency_ms_ort", "latency_ms_ort_spread"])
    got = o.measure(SPACE.sample(0))
    assert math.isfinite(got["latency_ms_ort"]) and got["latency_ms_ort"] > 0
    assert got["latency_ms_ort_spread"] >= 0
    with pytest.raises(InputError, match="needs onnx=True"):
        TorchOracle("nb201", mh.TINY_INPUT, metrics=["latency_ms_ort"])


@pytest.mark.parametrize("n", [0, -1, 1.5, "2", True])
def test_a_thread_count_that_is_not_a_positive_int_is_an_input_error(n):
    """One check for the torch oracle, the proxies and the latency table (the table passed -1
    on to torch.set_num_threads, a RuntimeError)."""
    from iqnas.oracles.latency_lut import build_latency_lut
    from iqnas.oracles.proxy import ProxyOracle

    for make in (lambda: TorchOracle("nb201", mh.TINY_INPUT, num_threads=n),
                 lambda: ProxyOracle("nb201", num_threads=n),
                 lambda: build_latency_lut(num_threads=n, repeats=3, warmup=0)):
        with pytest.raises(iqnas.InputError, match="num_threads must be a positive integer"):
            make()
