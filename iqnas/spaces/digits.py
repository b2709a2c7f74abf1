"""The data-aware digits space: input resolution and bit depth (data groups) beside a small CNN.

Groups: ``resolution`` (data: the side of the square input, ``8``, ``6`` or ``4`` pixels, area
averaged from scikit-learn's 8x8 digits), ``bits`` (data: ``4``, ``2`` or ``1`` bits per input
pixel) and ``conv`` (architecture): the convolution stack as one composite group, options
``k{kernel}-{width1}`` (one conv layer) or ``k{kernel}-{width1}-{width2}`` (two). The network is
conv(kernel, width1) + ReLU, 2x2 max pooling, an optional 3x3 conv(width2) + ReLU, and a dense
head on the flattened last activation (10 classes).

Why the conv stack is one group: with separate kernel, width and depth groups, the MACs of a
layer (resolution^2 x kernel^2 x width) and the head's weights (resolution^2 x the width of the
*last* layer, which depends on the depth) would be products of three groups; with the composite
group every resource is a product of two groups, i.e. an exact QuadraticForm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from iqnas.errors import InputError
from iqnas.space import Group, SearchSpace

NAME = "digits"
RESOLUTIONS = (8, 6, 4)
BITS = (4, 2, 1)
KERNELS = (3, 5)
WIDTHS1 = (4, 6, 8, 16)
WIDTHS2 = (0, 8, 16)  # 0: no second conv layer
SOURCE_SIDE = 8
N_CLASSES = 10
_CONV = re.compile(r"^k(\d+)-(\d+)(?:-(\d+))?$")


@dataclass(frozen=True)
class ConvStack:
    """What one option of the ``conv`` group means: kernel of the first conv, its width, and
    the width of the second 3x3 conv (0: none)."""

    kernel: int
    width1: int
    width2: int = 0

    @property
    def option(self) -> str:
        return f"k{self.kernel}-{self.width1}" + (f"-{self.width2}" if self.width2 else "")

    @property
    def n_conv(self) -> int:
        return 2 if self.width2 else 1

    @property
    def last_width(self) -> int:
        return self.width2 or self.width1


def conv_stack(option: str) -> ConvStack:
    """The :class:`ConvStack` of a ``conv`` option name such as ``k3-8-16``."""
    m = _CONV.match(option)
    if not m:
        raise InputError(f"conv option {option!r} is not k<kernel>-<width1>[-<width2>]")
    return ConvStack(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


def stacks() -> list[ConvStack]:
    return [ConvStack(k, w1, w2) for k in KERNELS for w1 in WIDTHS1 for w2 in WIDTHS2]


def build() -> SearchSpace:
    convs = stacks()
    return SearchSpace(NAME, [
        Group("resolution", tuple(str(r) for r in RESOLUTIONS), kind="data", units="pixels",
              description="side of the square input image (area averaged from 8x8)"),
        Group("bits", tuple(str(b) for b in BITS), kind="data", units="bits",
              description="bits per input pixel"),
        Group("conv", tuple(c.option for c in convs),
              description="conv stack: k<kernel of conv 1>-<width 1>[-<width of a 3x3 conv 2>]",
              option_descriptions={c.option: (f"{c.n_conv} conv layer(s), kernel {c.kernel}, "
                                              f"widths {c.width1}"
                                              + (f", {c.width2}" if c.width2 else ""))
                                   for c in convs}),
    ], description="scikit-learn digits: input resolution and bit depth (data) x a small CNN")
