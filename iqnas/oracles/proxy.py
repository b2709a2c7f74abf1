"""ProxyOracle: training-free metrics (NASWOT, LogSynflow, skip) measured live on CPU.

torch is imported lazily: importing this module does not import torch; without torch, creating a
ProxyOracle says ``pip install 'iqnas[torch]'``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from iqnas._optional import require
from iqnas.calibration.proxies import METRICS, kaiming_init, logsynflow, naswot, skip_score
from iqnas.errors import InputError
from iqnas.oracles.oracle import Oracle, select_metrics
from iqnas.oracles.torch_oracle import check_num_threads, torch_threads

if TYPE_CHECKING:
    import pandas as pd
    import torch
    from torch import nn

    from iqnas.space import Architecture, SearchSpace

log = logging.getLogger(__name__)

TIME_SUFFIX = "_time_s"


class ProxyOracle(Oracle):
    """An :class:`~iqnas.oracles.oracle.Oracle` measuring training-free metrics live, on CPU.

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

        require("torch", "the proxies oracle (live training-free metrics)")
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
        self.num_threads = check_num_threads(num_threads)
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
        import pandas as pd

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

    def measure(self, arch: Architecture | str | Any,
                metrics: Sequence[str] | None = None) -> dict[str, float]:
        """Metrics of one architecture (all, or only the subset ``metrics``), averaged over the
        initialisations (timings recorded)."""
        a = self.space.to_arch(arch)
        wanted = self.wanted(metrics)
        with torch_threads(self.num_threads):
            return self._measure(a, wanted)

    def _measure(self, a: Architecture, metrics: list[str]) -> dict[str, float]:
        import torch

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
