"""The torch CNN of the digits space (see :mod:`iqnas.spaces.digits`).

conv(kernel, width1, padding kernel//2) + ReLU, 2x2 max pooling, an optional 3x3
conv(width2, padding 1) + ReLU, flatten, dense head (10 classes). The input is one channel of
``resolution x resolution`` pixels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from iqnas._optional import require
from iqnas.spaces.digits import N_CLASSES, conv_stack

if TYPE_CHECKING:
    import torch
    from torch import nn

    from iqnas.space import Architecture
else:  # without torch: a one-line "pip install 'iqnas[torch]'" error
    torch = require("torch", "the digits network builder")
    nn = torch.nn


def pooled_side(resolution: int) -> int:
    """The side of the activation after the 2x2 max pooling (floor)."""
    return resolution // 2


def build(arch: Architecture, num_classes: int | None = None) -> nn.Module:
    """A freshly initialised network for ``arch``; ``input_shape`` is (1, r, r)."""
    stack = conv_stack(arch["conv"])
    side = int(arch["resolution"])
    layers: list[nn.Module] = [
        nn.Conv2d(1, stack.width1, stack.kernel, padding=stack.kernel // 2), nn.ReLU(),
        nn.MaxPool2d(2)]
    if stack.width2:
        layers += [nn.Conv2d(stack.width1, stack.width2, 3, padding=1), nn.ReLU()]
    flat = pooled_side(side) ** 2 * stack.last_width
    layers += [nn.Flatten(), nn.Linear(flat, num_classes or N_CLASSES)]
    net = nn.Sequential(*layers)
    net.input_shape = (1, side, side)
    return net
