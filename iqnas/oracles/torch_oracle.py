"""TorchOracle: builds each architecture's network and measures it on this machine.

torch (and onnx / onnxruntime for ``onnx=True``) is imported when a network is measured.
"""

from __future__ import annotations

import contextlib
import logging
import numbers
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iqnas._callables import one_line
from iqnas.builders import NetworkBuilder, resolve_builder
from iqnas.errors import InputError, MeasurementError
from iqnas.oracles import footprint, onnx_runtime
from iqnas.oracles.oracle import Oracle, select_metrics
from iqnas.oracles.timing import Timing, TimingPolicy, time_call

if TYPE_CHECKING:
    import torch
    from torch import nn

    from iqnas.space import Architecture, SearchSpace

log = logging.getLogger(__name__)

#: metrics measured in torch; the ``*_ort`` ones need ``onnx=True``
TORCH_METRICS = ("latency_ms", "latency_ms_spread", "latency_ms_cpu", "param_bytes",
                 "peak_activation_bytes", "macs")
ORT_METRICS = ("latency_ms_ort", "latency_ms_ort_spread")
LATENCY = ("latency_ms", "latency_ms_spread", "latency_ms_cpu")
TIMED = (*LATENCY, *ORT_METRICS)
UNITS = {"latency_ms": "ms", "latency_ms_spread": "ms", "latency_ms_cpu": "ms",
         "latency_ms_ort": "ms",
         "latency_ms_ort_spread": "ms", "param_bytes": "B", "peak_activation_bytes": "B",
         "macs": "MAC"}


def parse_shape(shape: Sequence[int] | str, what: str = "input_shape") -> tuple[int, ...]:
    """``(1, 3, 32, 32)`` or ``"1,3,32,32"`` -> a tuple of positive ints (one-line errors)."""
    if isinstance(shape, str):
        parts = [p.strip() for p in shape.split(",")]
        try:
            dims = [int(p) for p in parts]
        except ValueError:
            raise InputError(f"{what} {shape!r}: expected comma-separated positive integers "
                             "like 1,3,32,32 (batch, channels, height, width)") from None
    else:
        try:
            dims = list(shape)
        except TypeError:
            raise InputError(f"{what} must be a sequence of ints like (1, 3, 32, 32), got "
                             f"{shape!r}") from None
    if not dims or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in dims):
        raise InputError(f"{what} {shape!r}: every dimension must be a positive integer, e.g. "
                         "1,3,32,32 (the first one is the batch size)")
    return tuple(dims)


def check_num_threads(n: Any, what: str = "num_threads") -> int | None:
    """``n`` as a positive int or None (leave torch's count as is), else the InputError."""
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise InputError(f"{what} must be a positive integer or None, got {n!r}")
    return int(n)


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run with ``n`` torch intra-op threads (None: leave as is); the old count is restored."""
    import torch

    n = check_num_threads(n)
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def seeded_network(builder: NetworkBuilder, arch: Architecture, seed: int) -> nn.Module:
    """``builder(arch)`` with torch's generator seeded by ``seed`` (its state is restored), in
    eval mode: the same architecture and seed give the same initial weights."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = builder(arch)
    return net.eval()


def example_input(shape: Sequence[int], seed: int) -> torch.Tensor:
    """A standard-normal input of ``shape`` drawn from a generator seeded by ``seed``."""
    import torch

    return torch.randn(tuple(shape), generator=torch.Generator().manual_seed(seed))


class TorchOracle(Oracle):
    """Measures built networks on this machine, on CPU.

    Metrics (a subset can be asked for: ``measure(arch, metrics=[...])`` only does the work the
    subset needs, e.g. no timing without a latency metric):

    * ``latency_ms``: median wall time of one forward pass of a batch of ``input_shape``
      (``torch.inference_mode``, eval mode, ``num_threads`` intra-op threads, restored after),
      after ``warmup`` calls, over ``repeats`` repetitions; ``latency_ms_spread`` is their
      interquartile range. A spread above ``max_rel_spread`` x the median is measured again
      with twice the repetitions, up to ``max_rounds`` rounds (see ``iqnas.oracles.timing``).
      ``latency_ms_cpu``: the median CPU time of the process per call, the same repetitions;
      not stretched by other processes on a shared machine (with one thread).
    * ``param_bytes``, ``peak_activation_bytes``, ``macs``: see ``iqnas.oracles.footprint``;
      bytes at ``precision`` (fp32 = 4 bytes per element, fp16/bf16 = 2, int8 = 1). Latency is
      always measured in fp32.
    * with ``onnx=True``: ``latency_ms_ort`` and ``latency_ms_ort_spread``, the same protocol
      on an onnxruntime CPU session of the network exported by ``torch.onnx.export``.

    ``builder``: None for the space's built-in builder (``build_kw`` are its options, e.g.
    ``dataset="cifar100"``), a callable ``arch -> nn.Module`` or ``"module:function"``.
    Initial weights are seeded by ``seed`` (the same network for the same architecture), and
    so is the random input. Failures raise :class:`~iqnas.errors.MeasurementError`.
    """

    name = "torch"

    def __init__(self, space: SearchSpace | str, input_shape: Sequence[int] | str,
                 builder: str | Callable[..., Any] | NetworkBuilder | None = None, *,
                 metrics: Sequence[str] | None = None, precision: str = "fp32",
                 num_threads: int | None = 1, warmup: int = 5, repeats: int = 30,
                 max_rel_spread: float = 0.1, max_rounds: int = 2, onnx: bool = False,
                 seed: int = 0, **build_kw: Any) -> None:
        from iqnas import spaces

        self.space = spaces.get(space)
        self.input_shape = parse_shape(input_shape)
        self.builder = resolve_builder(builder, self.space, **build_kw)
        footprint.bytes_per_element(precision)
        self.precision = precision
        self.num_threads = check_num_threads(num_threads)
        self.policy = TimingPolicy(warmup, repeats, max_rel_spread, max_rounds)
        self.onnx = bool(onnx)
        if self.onnx:
            onnx_runtime.require_onnx()
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise InputError(f"seed must be an integer, got {seed!r}")
        self.seed = seed
        available = TORCH_METRICS + (ORT_METRICS if self.onnx else ())
        if metrics is not None and any(m in ORT_METRICS for m in metrics) and not self.onnx:
            raise InputError("latency_ms_ort needs onnx=True (--onnx)")
        self._metrics = select_metrics(available, metrics, self.name)

    @property
    def metrics(self) -> list[str]:
        return list(self._metrics)

    @property
    def units(self) -> dict[str, str]:
        return {m: UNITS[m] for m in self._metrics}

    def timed(self, metrics: Sequence[str] | None = None) -> bool:
        """True when measuring ``metrics`` (None = all) times the network: such jobs should
        run one per machine slot, so that timings do not disturb each other."""
        return any(m in TIMED for m in select_metrics(self._metrics, metrics, self.name))

    def settings(self) -> dict[str, Any]:
        """What the measured values depend on (JSON-able): a store records it and refuses to
        mix measurements made otherwise. The weight seed is left out: no metric depends on it."""
        return {"oracle": self.name, "builder": self.builder.description,
                "build_kw": {k: v for k, v in self.builder.build_kw.items() if v is not None},
                "input_shape": list(self.input_shape), "precision": self.precision,
                "num_threads": self.num_threads, "timing": self.policy.to_dict(),
                "onnx": self.onnx}

    # ---- networks --------------------------------------------------------------------------
    def network(self, arch: Architecture | str | Any) -> nn.Module:
        """The seeded network of ``arch`` in eval mode (MeasurementError if the builder fails)."""
        return seeded_network(self.builder, self.space.to_arch(arch), self.seed)

    def example_input(self) -> torch.Tensor:
        return example_input(self.input_shape, self.seed)

    def check(self, arch: Architecture | str | Any) -> None:
        """Build ``arch`` and run one forward pass; a failing builder or an input shape that
        does not fit the network is a one-line InputError (run before any work starts)."""
        import torch

        a = self.space.to_arch(arch)
        try:
            net = self.network(a)
        except MeasurementError as exc:
            raise InputError(str(exc)) from None
        try:
            with torch_threads(self.num_threads), torch.inference_mode():
                net(self.example_input())
        except Exception as exc:
            raise InputError(f"input_shape {','.join(map(str, self.input_shape))} does not fit "
                             f"the network of {a.key}: {one_line(exc)}") from None

    # ---- measuring -------------------------------------------------------------------------
    def measure(self, arch: Architecture | str | Any,
                metrics: Sequence[str] | None = None) -> dict[str, float]:
        """The metrics of one architecture (all, or the subset ``metrics``)."""
        a = self.space.to_arch(arch)
        wanted = select_metrics(self._metrics, metrics, self.name)
        net = self.network(a)
        try:
            with torch_threads(self.num_threads):
                values = self._measure(a, net, wanted)
        except MeasurementError:
            raise
        except Exception as exc:
            raise MeasurementError(f"measuring {a.key}: {one_line(exc)}") from exc
        log.debug("measured %s: %s", a.key, values)
        return {m: values[m] for m in wanted}

    def _measure(self, a: Architecture, net: nn.Module, wanted: list[str]) -> dict[str, float]:
        import torch

        x = self.example_input()
        out: dict[str, float] = {}
        if "param_bytes" in wanted:
            out["param_bytes"] = float(footprint.param_bytes(net, self.precision))
        if "macs" in wanted:
            out["macs"] = float(footprint.count_macs(net, x))
        if "peak_activation_bytes" in wanted:
            out["peak_activation_bytes"] = float(
                footprint.peak_activation_bytes(net, x, self.precision))
        if any(m in LATENCY for m in wanted):
            with torch.inference_mode():
                t = time_call(lambda: net(x), self.policy, a.key)
            out.update(latency_ms=t.median_ms, latency_ms_spread=t.spread_ms,
                       latency_ms_cpu=t.cpu_median_ms)
        if any(m in ORT_METRICS for m in wanted):
            t = self._ort_timing(a, net, x)
            out.update(latency_ms_ort=t.median_ms, latency_ms_ort_spread=t.spread_ms)
        return out

    def _ort_timing(self, a: Architecture, net: nn.Module, x: torch.Tensor) -> Timing:
        with tempfile.TemporaryDirectory(prefix="iqnas-onnx-") as tmp:
            path = onnx_runtime.export_onnx(net, x, Path(tmp) / "model.onnx")
            sess = onnx_runtime.session(path, self.num_threads or 1)
        feed = x.numpy()
        return time_call(lambda: onnx_runtime.run(sess, feed), self.policy, f"{a.key} (ort)")

    def __repr__(self) -> str:
        return (f"TorchOracle(space={self.space.name!r}, input_shape={self.input_shape}, "
                f"builder={self.builder.description!r}, metrics={self._metrics})")
