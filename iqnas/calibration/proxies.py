"""Live training-free metrics (FreeREA's NASWOT, LogSynflow and skip) as a measuring oracle.

``ProxyOracle(space).measure(arch)`` builds the torch network, initialises it ``n_inits`` times
(Kaiming-normal fan-out, seeded) and averages each metric over the initialisations, on CPU.
``FreeREAScore`` combines the metrics with a normalisation fitted once on a calibration sample and
stored with the model, unlike FreeREA's own set-relative normalisation.

torch is imported lazily: importing this module does not import torch.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from iqnas.benchmarks.oracle import Oracle, select_metrics
from iqnas.errors import InputError, NotFittedError

if TYPE_CHECKING:
    import torch
    from torch import nn

    from iqnas.space import Architecture, SearchSpace

log = logging.getLogger(__name__)

METRICS = ("naswot", "logsynflow", "skip")
TIME_SUFFIX = "_time_s"


# ---- the metrics ---------------------------------------------------------------------------
def kaiming_init(net: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """FreeREA's initialisation: Kaiming-normal (fan_out, ReLU) conv/linear weights, zero biases,
    batch-norm weight 1 and bias 0. Running statistics are reset too."""
    import torch
    from torch import nn
    from torch.nn.modules.batchnorm import _BatchNorm

    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu",
                                        generator=generator)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, _BatchNorm):
                m.reset_parameters()
    return net


def naswot(net: nn.Module, inputs: torch.Tensor,
           activations: tuple[type, ...] | None = None) -> float:
    """NASWOT: log|det K| with K[i, j] = number of activation units where inputs i and j agree
    on the binary code ``output > 0`` (K = C C^T + (1-C)(1-C)^T), over every activation module.

    ``activations`` defaults to (ReLU, ReLU6, Hardswish): their ``output > 0`` all mark the same
    linear region. The net runs in train mode (batch statistics); its state is left unchanged.
    """
    import torch
    from torch import nn

    kinds = activations or (nn.ReLU, nn.ReLU6, nn.Hardswish)
    n = inputs.shape[0]
    kernel = torch.zeros(n, n, dtype=torch.float64)

    def hook(_m: nn.Module, _inp: Any, out: torch.Tensor) -> None:
        code = (out.detach() > 0).flatten(1)
        # agreements = ones in common + zeros in common = units - r_i - r_j + 2 (C C^T)_ij;
        # float32 products of 0/1 codes are exact below 2**24 units
        exact = torch.float32 if code.shape[1] < 2**24 else torch.float64
        c = code.to(exact)
        common = (c @ c.T).to(torch.float64)
        ones = code.sum(1, dtype=torch.float64)
        kernel.add_(2.0 * common - ones[:, None] - ones[None, :] + code.shape[1])

    state = {k: v.clone() for k, v in net.state_dict().items()}
    was_training = net.training
    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, kinds)]
    if not handles:
        raise InputError("NASWOT needs activation modules (nn.ReLU, nn.Hardswish, ...) in the "
                         "network; functional activations cannot be hooked")
    try:
        net.train()
        with torch.no_grad():
            net(inputs.to(next(net.parameters()).dtype))
    finally:
        for h in handles:
            h.remove()
        net.load_state_dict(state)
        net.train(was_training)
    return float(torch.linalg.slogdet(kernel).logabsdet)


def _pass_input(_m: nn.Module, inp: tuple, _out: Any) -> Any:
    return inp[0]


def logsynflow(net: nn.Module, input_shape: Sequence[int]) -> float:
    """FreeREA's LogSynflow: sum over Conv2d/Linear weights of |w * log(1 + dR/dw)|.

    Evaluated with every parameter replaced by its absolute value in float64, every batch norm
    bypassed (identity) and one all-ones input of ``input_shape`` (C, H, W); R is the sum of the
    outputs. The net runs through ``torch.func.functional_call`` in eval mode, so its parameters,
    buffers and gradients are left untouched.
    """
    import torch
    from torch import nn
    from torch.func import functional_call
    from torch.nn.modules.batchnorm import _BatchNorm

    params = {n: p.detach().abs().double().requires_grad_(True)
              for n, p in net.named_parameters()}
    buffers = {n: b.double() if b.is_floating_point() else b for n, b in net.named_buffers()}
    weights = [f"{name}.weight" if name else "weight" for name, m in net.named_modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    weights = [w for w in weights if w in params]
    if not weights:
        raise InputError("LogSynflow needs Conv2d or Linear layers in the network")
    handles = [m.register_forward_hook(_pass_input) for m in net.modules()
               if isinstance(m, _BatchNorm)]
    was_training = net.training
    try:
        net.eval()
        with torch.enable_grad():
            x = torch.ones((1, *input_shape), dtype=torch.float64)
            out = functional_call(net, {**params, **buffers}, (x,))
            grads = torch.autograd.grad(out.sum(), [params[w] for w in weights],
                                        allow_unused=True)
    finally:
        for h in handles:
            h.remove()
        net.train(was_training)
    total = 0.0
    for w, g in zip(weights, grads):
        if g is not None:
            total += float((params[w].detach() * torch.log1p(g)).abs().sum())
    return total


def skip_score(arch: Architecture) -> float:
    """FreeREA's NB201 skip metric: mean over skip_connect edges i->j of j - i - 1 (0 if none)."""
    from iqnas.spaces.nb201 import EDGES, OPS

    if arch.space.name != "nb201":
        raise InputError(f"the skip metric is defined for the nb201 space only, not "
                         f"{arch.space.name!r}; drop 'skip' from metrics")
    spans = [dst - src - 1 for (dst, src), c in zip(EDGES, arch.choices)
             if OPS[c] == "skip_connect"]
    return float(np.mean(spans)) if spans else 0.0


# ---- the oracle ----------------------------------------------------------------------------
class ProxyOracle(Oracle):
    """An :class:`~iqnas.benchmarks.oracle.Oracle` measuring training-free metrics live, on CPU.

    ``measure(arch)`` returns ``{metric: value}``, each averaged over ``n_inits`` seeded
    initialisations (units ""). Wall times go to ``timings[key]``: ``"<metric>_time_s"`` (the
    ``n_inits`` computations of that metric) and ``"init_time_s"`` (building the net and
    initialising it ``n_inits`` times); ``timings_frame()`` lists them. FreeREA's cached
    ``time=[s]`` corresponds to ``<metric>_time_s + init_time_s``.

    ``metrics`` defaults to naswot, logsynflow and skip on nb201 and to naswot and logsynflow
    elsewhere. NASWOT uses ``data`` (an array or tensor (N, C, H, W)) when given, else a seeded
    standard-normal batch of ``batch_size`` inputs. ``build_kw`` goes to ``iqnas.builders.build``
    (e.g. ``dataset="cifar100"`` for nb201, ``num_classes``); ``input_size`` sets the image side.
    ``num_threads`` sets torch's intra-op threads during ``measure`` (restored afterwards); 1 is
    much faster than the default on a shared, oversubscribed machine.
    """

    name = "proxies"

    def __init__(self, space: SearchSpace | str, metrics: Sequence[str] | None = None,
                 batch_size: int = 64, input_size: int | None = None, seed: int = 0,
                 n_inits: int = 3, data: Any = None, num_threads: int | None = None,
                 **build_kw: Any) -> None:
        from iqnas import spaces

        self.space = spaces.get(space)
        available = METRICS if self.space.name == "nb201" else ("naswot", "logsynflow")
        if metrics is not None and "skip" in metrics and self.space.name != "nb201":
            raise InputError(f"the skip metric is defined for nb201 only; drop it for space "
                             f"{self.space.name!r}")
        self._metrics = select_metrics(available, metrics, self.name)
        if int(n_inits) < 1:
            raise InputError(f"n_inits must be >= 1, got {n_inits}")
        if int(batch_size) < 2:
            raise InputError(f"batch_size must be >= 2 for NASWOT, got {batch_size}")
        if num_threads is not None and int(num_threads) < 1:
            raise InputError(f"num_threads must be >= 1 or None, got {num_threads}")
        self.num_threads = None if num_threads is None else int(num_threads)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.n_inits = int(n_inits)
        self.build_kw = dict(build_kw)
        if input_size is not None:
            self.build_kw["input_size"] = int(input_size)
        self._data = data
        self._inputs: torch.Tensor | None = None
        self.timings: dict[str, dict[str, float]] = {}

    @property
    def metrics(self) -> list[str]:
        return list(self._metrics)

    def timings_frame(self) -> pd.DataFrame:
        """Wall times (seconds) of every measured architecture, indexed by key."""
        return pd.DataFrame.from_dict(self.timings, orient="index").rename_axis("key")

    def build(self, arch: Architecture | str | Any) -> nn.Module:
        from iqnas import builders

        return builders.build(self.space, arch, **self.build_kw)

    def _batch(self, input_shape: Sequence[int]) -> torch.Tensor:
        import torch

        if self._inputs is None or tuple(self._inputs.shape[1:]) != tuple(input_shape):
            if self._data is not None:
                x = torch.as_tensor(np.asarray(self._data), dtype=torch.float32)
                if x.ndim != 4 or tuple(x.shape[1:]) != tuple(input_shape):
                    raise InputError(f"data must have shape (N, {', '.join(map(str, input_shape))})"
                                     f", got {tuple(x.shape)}")
            else:
                g = torch.Generator().manual_seed(self.seed)
                x = torch.randn((self.batch_size, *input_shape), generator=g)
            self._inputs = x
        return self._inputs

    def measure(self, arch: Architecture | str | Any) -> dict[str, float]:
        """Metrics of one architecture, averaged over the initialisations (timings recorded)."""
        import torch

        a = self.space.to_arch(arch)
        if self.num_threads is None:
            return self._measure(a)
        old = torch.get_num_threads()
        torch.set_num_threads(self.num_threads)
        try:
            return self._measure(a)
        finally:
            torch.set_num_threads(old)

    def _measure(self, a: Architecture) -> dict[str, float]:
        import torch

        metrics = self._metrics
        values: dict[str, list[float]] = {m: [] for m in metrics}
        times = dict.fromkeys(metrics, 0.0)
        t0 = time.perf_counter()
        net = self.build(a) if any(m != "skip" for m in metrics) else None
        init_time = time.perf_counter() - t0
        for i in range(self.n_inits):
            if net is not None:
                t0 = time.perf_counter()
                kaiming_init(net, torch.Generator().manual_seed(self.seed * 1000 + i))
                init_time += time.perf_counter() - t0
            for m in metrics:
                t0 = time.perf_counter()
                if m == "naswot":
                    v = naswot(net, self._batch(net.input_shape))
                elif m == "logsynflow":
                    v = logsynflow(net, net.input_shape)
                else:
                    v = skip_score(a)
                times[m] += time.perf_counter() - t0
                values[m].append(v)
        out = {m: float(np.mean(values[m])) for m in metrics}
        timing = {m + TIME_SUFFIX: times[m] for m in metrics}
        timing["init_time_s"] = init_time
        self.timings[a.key] = timing
        log.debug("measured %s: %s (%s)", a.key, out, timing)
        return out


# ---- the combined score with a fixed normalisation -----------------------------------------
class FreeREAScore:
    """FreeREA's combined score, sum over metrics of weight * normalised value, with the
    normalisation fitted once on a calibration sample (``fit``) and then kept fixed.

    ``method``: "maxabs" divides by max |v| over the sample (FreeREA's formula, made fixed),
    "zscore" uses (v - mean) / std, "minmax" uses (v - min) / (max - min). Non-finite values
    (NASWOT's -inf on degenerate cells) are replaced by the sample's finite minimum, as FreeREA's
    loader does.
    """

    METHODS = ("maxabs", "zscore", "minmax")

    def __init__(self, metrics: Sequence[str] = METRICS, method: str = "maxabs",
                 weights: Mapping[str, float] | None = None) -> None:
        if method not in self.METHODS:
            raise InputError(f"unknown method {method!r}; use one of {', '.join(self.METHODS)}")
        self.metrics = tuple(metrics)
        if not self.metrics:
            raise InputError("FreeREAScore needs at least one metric")
        self.method = method
        self.weights = {m: 1.0 for m in self.metrics}
        for m, w in (weights or {}).items():
            if m not in self.weights:
                raise InputError(f"weight given for metric {m!r}, which is not in "
                                 f"{self.metrics}")
            self.weights[m] = float(w)
        self.stats: dict[str, dict[str, float]] | None = None

    def fit(self, samples: pd.DataFrame) -> FreeREAScore:
        """Store per-metric min, max, max |v|, mean and std of the finite values in ``samples``."""
        stats = {}
        for m in self.metrics:
            if m not in samples.columns:
                raise InputError(f"calibration sample lacks column {m!r}; it has "
                                 f"{', '.join(map(str, samples.columns))}")
            v = pd.to_numeric(samples[m], errors="coerce").to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            if v.size == 0:
                raise InputError(f"column {m!r} of the calibration sample has no finite value")
            stats[m] = {"min": float(v.min()), "max": float(v.max()),
                        "maxabs": float(np.abs(v).max()), "mean": float(v.mean()),
                        "std": float(v.std()), "n": int(v.size)}
        self.stats = stats
        return self

    def normalise(self, metric: str, values: Any) -> np.ndarray:
        """The fixed normalisation of one metric's values."""
        if self.stats is None:
            raise NotFittedError("FreeREAScore.fit(samples) must be called before scoring")
        s = self.stats[metric]
        v = np.asarray(values, dtype=float)
        v = np.where(np.isfinite(v), v, s["min"])
        if self.method == "maxabs":
            return v / (s["maxabs"] + 1e-9)
        if self.method == "zscore":
            return (v - s["mean"]) / (s["std"] if s["std"] > 0 else 1.0)
        span = s["max"] - s["min"]
        return (v - s["min"]) / (span if span > 0 else 1.0)

    def score(self, values: Mapping[str, float] | pd.DataFrame) -> float | np.ndarray:
        """Combined score of one measurement (a dict -> float) or of a DataFrame (-> array)."""
        single = not isinstance(values, pd.DataFrame)
        total: Any = 0.0
        for m in self.metrics:
            if m not in values:
                raise InputError(f"metric {m!r} missing from the values to score")
            total = total + self.weights[m] * self.normalise(m, values[m])
        return float(total) if single else np.asarray(total, dtype=float)

    def to_dict(self) -> dict:
        if self.stats is None:
            raise NotFittedError("FreeREAScore.fit(samples) must be called before saving")
        return {"kind": "FreeREAScore", "metrics": list(self.metrics), "method": self.method,
                "weights": self.weights, "stats": self.stats}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_json(cls, text: str) -> FreeREAScore:
        try:
            d = json.loads(text)
            obj = cls(d["metrics"], d["method"], d["weights"])
            stats = {m: {k: float(v) for k, v in d["stats"][m].items()} for m in obj.metrics}
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise InputError(f"not a FreeREAScore JSON document ({exc!r}); write it with "
                             f"FreeREAScore.to_json") from None
        obj.stats = stats
        return obj

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> FreeREAScore:
        return cls.from_json(Path(path).read_text())
