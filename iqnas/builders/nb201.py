"""NAS-Bench-201 / NATS-Bench (tss) evaluation network for one cell, in torch.

The macro skeleton is the benchmark's: a 3x3 stem conv (3 -> 16) with batch norm, three stages of
five identical cells (16, 32, 64 channels) joined by stride-2 residual blocks, then batch norm,
ReLU, global average pooling and a linear classifier. Cell edge ops carry affine batch norm and
convs without bias, as in the benchmark's evaluation model, so parameter counts match its tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from iqnas._optional import require
from iqnas.errors import InputError
from iqnas.spaces.nb201 import EDGES, OPS

if TYPE_CHECKING:
    import torch
    from torch import nn
else:  # without torch: a one-line "pip install 'iqnas[torch]'" error
    torch = require("torch", "the NB201 network builder")
    nn = torch.nn

# dataset -> (classes, input side); the aliases follow the column suffixes of nb201_joined.csv
DATASETS: dict[str, tuple[int, int]] = {
    "cifar10": (10, 32),
    "cifar100": (100, 32),
    "ImageNet16-120": (120, 16),
}
ALIASES = {"c10": "cifar10", "c100": "cifar100", "in16": "ImageNet16-120",
           "imagenet16-120": "ImageNet16-120", "imagenet16": "ImageNet16-120"}


def resolve_dataset(dataset: str) -> str:
    name = ALIASES.get(dataset, dataset)
    if name not in DATASETS:
        raise InputError(f"unknown NB201 dataset {dataset!r}; use one of "
                         f"{', '.join(DATASETS)} (or c10, c100, in16)")
    return name


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv2d (no bias) -> affine BatchNorm."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out),
        )


class Zero(nn.Module):
    """The 'none' op: a zero tensor of the input's shape (keeps the graph connected)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(name: str, channels: int) -> nn.Module:
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, 0)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, 1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise InputError(f"unknown NB201 op {name!r}; ops are {', '.join(OPS)}")


class Cell(nn.Module):
    """Four-node DAG: node j = sum over i < j of op_{i->j}(node i); the output is node 3."""

    def __init__(self, ops: Sequence[str], channels: int) -> None:
        super().__init__()
        self.edges = EDGES  # (dst, src) in arch-string order
        self.ops = nn.ModuleList(make_op(name, channels) for name in ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        k = 0
        for dst in (1, 2, 3):
            total = None
            for src in range(dst):
                out = self.ops[k](nodes[src])
                total = out if total is None else total + out
                k += 1
            nodes.append(total)
        return nodes[3]


class ResidualReduction(nn.Module):
    """Stride-2 ResNet basic block between stages; the shortcut is avg-pool + 1x1 conv."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, 1, stride=1, padding=0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(self.conv_a(x)) + self.shortcut(x)


class NB201Network(nn.Module):
    """The benchmark's CIFAR / ImageNet16 network for one cell (returns logits)."""

    def __init__(self, ops: Sequence[str], num_classes: int, channels: int = 16,
                 cells_per_stage: int = 5, input_shape: tuple[int, int, int] = (3, 32, 32)
                 ) -> None:
        super().__init__()
        if len(ops) != len(EDGES):
            raise InputError(f"an NB201 cell needs {len(EDGES)} edge ops, got {len(ops)}")
        self.input_shape = tuple(input_shape)
        self.stem = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(channels))
        layers: list[nn.Module] = []
        c = channels
        for stage in range(3):
            if stage > 0:
                layers.append(ResidualReduction(c, 2 * c))
                c *= 2
            layers += [Cell(ops, c) for _ in range(cells_per_stage)]
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.lastact(self.cells(self.stem(x)))
        return self.classifier(self.pool(x).flatten(1))


def build(arch, num_classes: int | None = None, dataset: str = "cifar10",
          input_size: int | None = None) -> NB201Network:
    """Network for an NB201 ``Architecture`` on ``dataset`` (cifar10, cifar100, ImageNet16-120).

    ``num_classes`` and ``input_size`` override the dataset's defaults (10/100/120 classes,
    32/32/16 pixels); ``input_size`` only sets ``net.input_shape`` (the net is size-agnostic).
    """
    ds = resolve_dataset(dataset)
    classes, side = DATASETS[ds]
    if num_classes is not None:
        if int(num_classes) < 1:
            raise InputError(f"num_classes must be >= 1, got {num_classes}")
        classes = int(num_classes)
    if input_size is not None:
        if int(input_size) < 4:
            raise InputError(f"input_size must be >= 4 pixels for NB201, got {input_size}")
        side = int(input_size)
    ops = [g.options[c] for g, c in zip(arch.space.groups, arch.choices)]  # a part of nb201 too
    return NB201Network(ops, classes, input_shape=(3, side, side))
