"""Training-free metrics (FreeREA's NASWOT, LogSynflow and skip) and their combined score.

The metrics take a torch network; :class:`iqnas.oracles.ProxyOracle` measures them live.
``FreeREAScore`` combines the metrics with a normalisation fitted once on a calibration sample and
stored with the model, unlike FreeREA's own set-relative normalisation.

torch is imported lazily: importing this module does not import torch; without torch, the metrics
say ``pip install 'iqnas[torch]'``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from iqnas._optional import require
from iqnas._outputs import write_text_atomic
from iqnas._validation import Options, check_value
from iqnas.errors import InputError, NotFittedError

if TYPE_CHECKING:
    import torch
    from torch import nn

    from iqnas.space import Architecture

log = logging.getLogger(__name__)

METRICS = ("naswot", "logsynflow", "skip")


# ---- the metrics ---------------------------------------------------------------------------
def kaiming_init(net: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """FreeREA's initialisation: Kaiming-normal (fan_out, ReLU) conv/linear weights, zero biases,
    batch-norm weight 1 and bias 0. Running statistics are reset too."""
    torch = require("torch", "kaiming_init")
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
    torch = require("torch", "naswot")
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
    torch = require("torch", "logsynflow")
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
    from iqnas.spaces.nb201 import EDGES

    if arch.space.name != "nb201":
        raise InputError(f"the skip metric is defined for the nb201 space only, not "
                         f"{arch.space.name!r}; drop 'skip' from metrics")
    spans = [dst - src - 1 for (dst, src), g, c in zip(EDGES, arch.space.groups, arch.choices)
             if g.options[c] == "skip_connect"]
    return float(np.mean(spans)) if spans else 0.0



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
        check_value(method, [Options(self.METHODS)], "method", "FreeREAScore")
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

    def save(self, path: str | Path) -> Path:
        return write_text_atomic(path, self.to_json(), "score file")

    @classmethod
    def load(cls, path: str | Path) -> FreeREAScore:
        return cls.from_json(Path(path).read_text())
