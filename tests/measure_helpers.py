"""Builders and measuring functions the measurement tests name as ``measure_helpers:NAME``
(tests/ is on the path: it holds conftest.py; spawned worker processes inherit the path)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

#: the tiny network's input and its hand-counted resources
TINY_INPUT = (1, 3, 8, 8)
TINY_PARAMS = 4 * 3 * 9 + 10 * 256 + 10          # conv (no bias) + linear weight + bias
TINY_MACS = 4 * 3 * 9 * 64 + 256 * 10            # conv: out elems x (3 x 3 x 3); linear
TINY_PEAK_ELEMENTS = 3 * 64 + 4 * 64             # the conv's input and output


def tiny_net(arch):
    """Conv(3->4, 3x3, no bias) -> ReLU (in place) -> Flatten -> Linear(256 -> 10)."""
    from torch import nn

    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.ReLU(inplace=True),
                         nn.Flatten(), nn.Linear(4 * 64, 10))


def raising_builder(arch):
    raise ValueError("this builder always fails")


def not_a_module(arch):
    return 42


def score(arch) -> dict[str, float]:
    """A deterministic function of the architecture (the ground truth of the batch tests)."""
    return {"score": float(sum((i + 1) * c for i, c in enumerate(arch.choices)))}


def noisy(arch, seed: int) -> dict[str, float]:
    """Uses the global numpy generator (seeded by FunctionOracle) and reports the seed."""
    return {"draw": float(np.random.random()), "seed": float(seed)}


def kill_once(arch, marker: str, victim: str) -> dict[str, float]:
    """Kills its own process the first time it measures ``victim`` (``marker`` remembers)."""
    if arch.key == victim and not Path(marker).exists():
        Path(marker).write_text(str(os.getpid()))
        os._exit(3)
    return score(arch)


def kill_always(arch, victim: str) -> dict[str, float]:
    """Kills its own process every time it measures ``victim``."""
    if arch.key == victim:
        os._exit(3)
    return score(arch)


def nan_for(arch, victim: str) -> dict[str, float]:
    return {"score": float("nan")} if arch.key == victim else score(arch)
