"""scikit-learn's digits (1,797 8x8 images) at a chosen resolution and bit depth, and the seeded
training of one CNN of the ``digits`` space on it.

Resolution: exact area averaging (each output pixel averages the input area it covers, with
fractional weights at the borders). Bit depth ``b``: pixel values in [0, 1] rounded to
``2**b - 1`` levels. The split is fixed (a seeded permutation): 1,197 training, 300 validation
and 300 test images.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from iqnas._optional import require
from iqnas.spaces.digits import SOURCE_SIDE

if TYPE_CHECKING:
    from iqnas.space import Architecture

SPACE = "digits"
N_TRAIN, N_VAL = 1197, 300
SPLIT_SEED = 0
METRICS = ("val_acc", "test_acc")


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    datasets = require("sklearn.datasets", "the digits workload")
    data = datasets.load_digits()
    images = (data.images / 16.0).astype(np.float64)
    return images, data.target.astype(np.int64)


def area_matrix(side: int, source: int = SOURCE_SIDE) -> np.ndarray:
    """(side, source): row i averages the source pixels that output pixel i covers."""
    scale = source / side
    m = np.zeros((side, source))
    for i in range(side):
        lo, hi = i * scale, (i + 1) * scale
        for j in range(source):
            m[i, j] = max(0.0, min(hi, j + 1) - max(lo, j))
    return m / scale


def quantize(images: np.ndarray, bits: int) -> np.ndarray:
    """Values in [0, 1] rounded to ``2**bits - 1`` levels (still in [0, 1])."""
    levels = 2 ** int(bits) - 1
    return np.round(np.clip(images, 0.0, 1.0) * levels) / levels


@functools.lru_cache(maxsize=16)
def dataset(resolution: int, bits: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"train"|"val"|"test": (images (n, 1, r, r) float32, labels)}`` at this input format."""
    images, labels = _digits()
    a = area_matrix(int(resolution))
    small = quantize(np.einsum("ij,njk,lk->nil", a, images, a), bits).astype(np.float32)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))
    parts = {"train": order[:N_TRAIN], "val": order[N_TRAIN:N_TRAIN + N_VAL],
             "test": order[N_TRAIN + N_VAL:]}
    return {k: (small[idx][:, None], labels[idx]) for k, idx in parts.items()}


def train_and_evaluate(arch: Architecture, seed: int = 0, *, epochs: int = 20,
                       batch_size: int = 50, lr: float = 0.02) -> Mapping[str, float]:
    """Train the ``digits`` network of ``arch`` (Adam with a one-cycle learning rate,
    seeded, one torch thread) and return its
    validation and test accuracy (``val_acc``, ``test_acc``) in [0, 1]."""
    torch = require("torch", "training a digits network")
    from iqnas.builders.digits import build

    data = dataset(int(arch["resolution"]), int(arch["bits"]))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        gen = torch.Generator().manual_seed(int(seed))
        torch.manual_seed(int(seed))
        net = build(arch)
        x, y = (torch.from_numpy(v) for v in data["train"])
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        steps = int(epochs) * -(-len(y) // batch_size)
        schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
        loss_fn = torch.nn.CrossEntropyLoss()
        for _ in range(int(epochs)):
            perm = torch.randperm(len(y), generator=gen)
            for start in range(0, len(y), batch_size):
                idx = perm[start:start + batch_size]
                opt.zero_grad()
                loss_fn(net(x[idx]), y[idx]).backward()
                opt.step()
                schedule.step()
        net.eval()
        with torch.no_grad():
            out = {}
            for part, metric in (("val", "val_acc"), ("test", "test_acc")):
                xs, ys = (torch.from_numpy(v) for v in data[part])
                out[metric] = float((net(xs).argmax(1) == ys).float().mean())
        return out
    finally:
        torch.set_num_threads(threads)


def oracle(*, epochs: int = 20, seed: int = 0):
    """A :class:`~iqnas.oracles.FunctionOracle` of the digits space measuring ``val_acc`` and
    ``test_acc`` by training (``epochs`` per candidate, seeded per architecture)."""
    from iqnas.oracles.function_oracle import FunctionOracle

    fn = train_and_evaluate if epochs == 20 else functools.partial(train_and_evaluate,
                                                                   epochs=epochs)
    return FunctionOracle(fn, list(METRICS), SPACE, seed=seed,
                          name=f"digits-train(epochs={int(epochs)})")
