"""The BINAS latency lookup table of the ``mobilenet`` space, measured on this machine.

Every block option is timed alone at every position (stage, block), on an input of the shape it
sees there in the network (channels and resolution follow from ``input_shape``; they do not
depend on the other blocks' options); the fixed stem (with the depthwise-separable block) and
tail (1x1 conv, pooling, head, classifier) are timed too and their sum is a constant. The
prediction for an architecture is the constant plus the latencies of its active blocks, as a
bilinear QuadraticForm: blocks 1 and 2 of a stage are always active (linear terms), block ``b``
of 3..4 counts only at depth ``d >= b`` (products ``x[s.b=o] * x[s.depth=d]``), as in BINAS.
Every entry is kept by the wall clock and by CPU time (see ``iqnas.oracles.timing``);
``form(clock="cpu")`` predicts TorchOracle's ``latency_ms_cpu``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from iqnas._progress import progress_bar
from iqnas.errors import InputError
from iqnas.oracles.timing import Timing, TimingPolicy, time_call
from iqnas.oracles.torch_oracle import (
    check_num_threads,
    example_input,
    parse_shape,
    torch_threads,
)

if TYPE_CHECKING:
    from iqnas.quadform import QuadraticForm
    from iqnas.space import Architecture, SearchSpace

log = logging.getLogger(__name__)

SPACE = "mobilenet"
DEPTHS = (2, 3, 4)


@dataclass
class LatencyLUT:
    """Measured block latencies: ``table[s-1, b-1, o]`` and ``spread`` (interquartile range)
    in ms, ``constant`` = ``stem_ms + tail_ms``; the same by CPU time in ``cpu_table``,
    ``cpu_stem_ms``, ``cpu_tail_ms``. ``form()`` is the bilinear QuadraticForm."""

    space: SearchSpace
    input_shape: tuple[int, ...]
    table: np.ndarray
    spread: np.ndarray
    stem_ms: float
    tail_ms: float
    cpu_table: np.ndarray
    cpu_stem_ms: float
    cpu_tail_ms: float
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def constant(self) -> float:
        return self.stem_ms + self.tail_ms

    def form(self, name: str | None = None, clock: str = "wall") -> QuadraticForm:
        """The prediction as a QuadraticForm (``clock``: "wall" or "cpu"), named
        ``latency_ms`` / ``latency_ms_cpu`` unless ``name`` is given."""
        from iqnas.quadform import QuadraticForm
        from iqnas.spaces.mobilenet import N_BLOCKS, N_STAGES, block_group, depth_group

        if clock not in ("wall", "cpu"):
            raise InputError(f"clock must be 'wall' or 'cpu', got {clock!r}")
        table = self.table if clock == "wall" else self.cpu_table
        constant = self.constant if clock == "wall" else self.cpu_stem_ms + self.cpu_tail_ms
        name = name or ("latency_ms" if clock == "wall" else "latency_ms_cpu")
        space = self.space
        lin = np.zeros(space.n_vars)
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for s in range(1, N_STAGES + 1):
            d_off = int(space.offsets[space.group_index(depth_group(s))])
            for b in range(1, N_BLOCKS + 1):
                opts = int(space.offsets[space.group_index(block_group(s, b))]) + np.arange(
                    table.shape[2])
                cost = table[s - 1, b - 1]
                if b <= min(DEPTHS):
                    lin[opts] += cost
                    continue
                for di, d in enumerate(DEPTHS):
                    if b <= d:
                        rows += opts.tolist()
                        cols += [d_off + di] * len(opts)
                        vals += cost.tolist()
        n = space.n_vars
        pw = sp.coo_matrix((vals, (rows, cols)), shape=(n, n))
        return QuadraticForm(space, constant, lin, pw, name=name, units="ms")

    def predict(self, arch: Architecture | str | Any, clock: str = "wall") -> float:
        return self.form(clock=clock)(self.space.to_arch(arch))

    def save(self, path: str | Path, clock: str = "wall") -> Path:
        """The form as QuadraticForm JSON (``.json``) or NPZ (``.npz``)."""
        path = Path(path)
        if path.suffix not in (".json", ".npz"):
            raise InputError(f"out {path}: use a .json or .npz file name")
        return self.form(clock=clock).save(path)

    def to_dict(self) -> dict[str, Any]:
        from iqnas.spaces.mobilenet import BLOCK_OPTIONS

        blocks = [{"stage": s + 1, "block": b + 1, "option": BLOCK_OPTIONS[o],
                   "latency_ms": float(self.table[s, b, o]),
                   "spread_ms": float(self.spread[s, b, o]),
                   "cpu_ms": float(self.cpu_table[s, b, o])}
                  for s in range(self.table.shape[0]) for b in range(self.table.shape[1])
                  for o in range(self.table.shape[2])]
        return {"space": self.space.name, "input_shape": list(self.input_shape),
                "stem_ms": self.stem_ms, "tail_ms": self.tail_ms, "constant_ms": self.constant,
                "cpu_constant_ms": self.cpu_stem_ms + self.cpu_tail_ms,
                "settings": self.settings, "blocks": blocks}


def block_inputs(input_shape: Sequence[int]) -> dict[tuple[int, int], tuple[int, ...]]:
    """The input shape each block position (stage, block) sees, from one forward pass of the
    deepest network at ``input_shape``."""
    import torch

    from iqnas import spaces
    from iqnas.builders.mobilenet import build
    from iqnas.spaces.mobilenet import N_BLOCKS, N_STAGES, depth_group

    space = spaces.get(SPACE)
    deepest = space.arch({**{depth_group(s): "4" for s in range(1, N_STAGES + 1)},
                          **{g.name: g.options[0] for g in space.groups
                             if not g.name.endswith(".depth")}})
    net = build(deepest).eval()
    positions = [(s, b) for s in range(1, N_STAGES + 1) for b in range(1, N_BLOCKS + 1)]
    seen: dict[tuple[int, int], tuple[int, ...]] = {}
    handles = [blk.register_forward_pre_hook(
        lambda _m, args, pos=pos: seen.__setitem__(pos, tuple(args[0].shape)))
        for pos, blk in zip(positions, net.blocks[1:-1])]
    try:
        with torch.inference_mode():
            net(torch.zeros(tuple(input_shape)))
    finally:
        for h in handles:
            h.remove()
    return seen


def build_latency_lut(input_shape: Sequence[int] | str = (1, 3, 224, 224), *,
                      num_threads: int | None = 1, warmup: int = 5, repeats: int = 30,
                      max_rel_spread: float = 0.1, max_rounds: int = 2, seed: int = 0,
                      num_classes: int = 1000, progress: bool | None = None) -> LatencyLUT:
    """Measure the lookup table of the ``mobilenet`` space (see the module docstring)."""
    import torch

    from iqnas import spaces
    from iqnas.builders.mobilenet import build, make_block, option_params
    from iqnas.spaces.mobilenet import BLOCK_OPTIONS, N_BLOCKS, N_STAGES

    shape = parse_shape(input_shape)
    if len(shape) != 4 or shape[1] != 3:
        raise InputError(f"input_shape {','.join(map(str, shape))}: the mobilenet network takes "
                         "(batch, 3, height, width)")
    if min(shape[2:]) < 32:
        raise InputError(f"input_shape {','.join(map(str, shape))}: height and width must be "
                         ">= 32 (five stride-2 stages)")
    policy = TimingPolicy(warmup, repeats, max_rel_spread, max_rounds)
    num_threads = check_num_threads(num_threads)
    space = spaces.get(SPACE)
    table = np.zeros((N_STAGES, N_BLOCKS, len(BLOCK_OPTIONS)))
    spread = np.zeros_like(table)
    cpu = np.zeros_like(table)
    positions = [(s, b) for s in range(1, N_STAGES + 1) for b in range(1, N_BLOCKS + 1)]
    with torch_threads(num_threads), torch.random.fork_rng(devices=[]), \
            progress_bar(progress, "measuring the latency LUT",
                         len(positions) * len(BLOCK_OPTIONS) + 2) as advance:
        torch.manual_seed(seed)
        inputs = block_inputs(shape)
        ref = build(space.arch([0] * space.n_groups), num_classes=num_classes).eval()
        x = example_input(shape, seed)
        with torch.inference_mode():
            stem = time_call(lambda: ref.forward_stem(x), policy, "stem")
            advance()
            mid = ref.forward_stem(x)
            for blk in ref.blocks[1:-1]:
                mid = blk(mid)
            tail = time_call(lambda: ref.forward_tail(mid), policy, "tail")
            advance()
            for s, b in positions:
                xb = example_input(inputs[(s, b)], seed)
                for o in range(len(BLOCK_OPTIONS)):
                    block = make_block(s, b, *option_params(o)).eval()
                    t: Timing = time_call(lambda blk=block, xb=xb: blk(xb), policy,
                                          f"s{s}.b{b}={BLOCK_OPTIONS[o]}")
                    table[s - 1, b - 1, o], spread[s - 1, b - 1, o] = t.median_ms, t.spread_ms
                    cpu[s - 1, b - 1, o] = t.cpu_median_ms
                    advance()
    settings = {"input_shape": list(shape), "num_threads": num_threads,
                "timing": policy.to_dict(), "seed": seed, "num_classes": num_classes}
    lut = LatencyLUT(space, shape, table, spread, stem.median_ms, tail.median_ms, cpu,
                     stem.cpu_median_ms, tail.cpu_median_ms, settings)
    log.info("latency LUT: constant %.3g ms, blocks %.3g..%.3g ms", lut.constant, table.min(),
             table.max())
    return lut
