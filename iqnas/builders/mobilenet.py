"""BINAS / HardCoRe-NAS MobileNetV3-like child network for one architecture, in torch.

Stem 3x3 conv 32 (stride 2) + BN + h-swish; a fixed depthwise-separable block (16 channels, ReLU);
five searchable stages of inverted-residual blocks (24/40/80/112/192 channels, strides 2/2/2/1/2;
ReLU in the first two stages, h-swish after); a 1x1 conv to 960 + BN + h-swish; global average
pooling; a 1x1 conv 960 -> 1280 (with bias) + h-swish; a linear classifier. The first block of a
stage strides and changes the width; the others keep both and add a residual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from iqnas._optional import require
from iqnas.errors import InputError
from iqnas.spaces.mobilenet import (
    EXPANSIONS,
    KERNELS,
    N_BLOCKS,
    N_STAGES,
    block_group,
    depth_group,
)

if TYPE_CHECKING:
    import torch
    from torch import nn
else:  # without torch: a one-line "pip install 'iqnas[torch]'" error
    torch = require("torch", "the mobilenet network builder")
    nn = torch.nn

STEM_CHANNELS = 32
DS_CHANNELS = 16
STAGE_CHANNELS = (24, 40, 80, 112, 192)
STAGE_STRIDES = (2, 2, 2, 1, 2)
STAGE_RELU = (True, True, False, False, False)  # ReLU up to and including the c40 stage
LAST_CHANNELS = 960
HEAD_CHANNELS = 1280
SE_RATIO = 0.25


def make_divisible(v: float, divisor: int = 8, round_limit: float = 0.9) -> int:
    """Round ``v`` to a multiple of ``divisor``, never going below ``round_limit * v``."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < round_limit * v:
        new_v += divisor
    return new_v


def option_params(option_index: int) -> tuple[int, int, bool]:
    """(expansion, kernel, se) of block option ``c = 4*er_idx + 2*k_idx + se_idx``."""
    return EXPANSIONS[option_index // 4], KERNELS[(option_index // 2) % 2], bool(option_index % 2)


def _act(relu: bool) -> nn.Module:
    return nn.ReLU(inplace=True) if relu else nn.Hardswish(inplace=True)


class SqueezeExcite(nn.Module):
    """Global pool -> 1x1 conv reduce -> ReLU -> 1x1 conv expand -> hard-sigmoid gate (biases)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        reduced = make_divisible(channels * SE_RATIO, 8)
        self.conv_reduce = nn.Conv2d(channels, reduced, 1, bias=True)
        self.act = nn.ReLU(inplace=True)
        self.conv_expand = nn.Conv2d(reduced, channels, 1, bias=True)
        self.gate = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.mean((2, 3), keepdim=True)
        return x * self.gate(self.conv_expand(self.act(self.conv_reduce(s))))


class DepthwiseSeparable(nn.Module):
    """Depthwise kxk conv + BN + act, then pointwise 1x1 conv + BN (no activation)."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 3, relu: bool = True) -> None:
        super().__init__()
        self.conv_dw = nn.Conv2d(c_in, c_in, kernel, padding=kernel // 2, groups=c_in, bias=False)
        self.bn1 = nn.BatchNorm2d(c_in)
        self.act1 = _act(relu)
        self.conv_pw = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.has_skip = c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv_pw(self.act1(self.bn1(self.conv_dw(x)))))
        return y + x if self.has_skip else y


class InvertedResidual(nn.Module):
    """1x1 expand + BN + act -> depthwise kxk (stride) + BN + act -> [SE] -> 1x1 project + BN."""

    def __init__(self, c_in: int, c_out: int, expansion: int, kernel: int, stride: int,
                 se: bool, relu: bool) -> None:
        super().__init__()
        mid = make_divisible(c_in * expansion, 8)
        self.conv_pw = nn.Conv2d(c_in, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.act1 = _act(relu)
        self.conv_dw = nn.Conv2d(mid, mid, kernel, stride=stride, padding=kernel // 2,
                                 groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.act2 = _act(relu)
        self.se = SqueezeExcite(mid) if se else nn.Identity()
        self.conv_pwl = nn.Conv2d(mid, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.has_skip = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act1(self.bn1(self.conv_pw(x)))
        y = self.se(self.act2(self.bn2(self.conv_dw(y))))
        y = self.bn3(self.conv_pwl(y))
        return y + x if self.has_skip else y


def block_position(stage: int, block: int) -> tuple[int, int, int, bool]:
    """(input channels, output channels, stride, ReLU?) of block ``block`` of stage ``stage``
    (both 1-based): the first block of a stage strides and changes the width, the others keep
    both (every stage has at least two blocks, so a stage always starts from the previous
    stage's width)."""
    s = stage - 1
    if block == 1:
        c_in = DS_CHANNELS if s == 0 else STAGE_CHANNELS[s - 1]
        return c_in, STAGE_CHANNELS[s], STAGE_STRIDES[s], STAGE_RELU[s]
    return STAGE_CHANNELS[s], STAGE_CHANNELS[s], 1, STAGE_RELU[s]


def make_block(stage: int, block: int, expansion: int, kernel: int, se: bool) -> InvertedResidual:
    """The inverted-residual block with these options at position (``stage``, ``block``)."""
    c_in, c_out, stride, relu = block_position(stage, block)
    return InvertedResidual(c_in, c_out, expansion, kernel, stride, se, relu)


class MobileNetChild(nn.Module):
    """The stand-alone child network (returns logits)."""

    def __init__(self, stages: list[list[tuple[int, int, bool]]], num_classes: int = 1000,
                 input_size: int = 224) -> None:
        super().__init__()
        self.input_shape = (3, input_size, input_size)
        self.stem = nn.Sequential(
            nn.Conv2d(3, STEM_CHANNELS, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(STEM_CHANNELS), nn.Hardswish(inplace=True))
        blocks: list[nn.Module] = [DepthwiseSeparable(STEM_CHANNELS, DS_CHANNELS)]
        c = DS_CHANNELS
        for s, stage in enumerate(stages, start=1):
            for b, (er, k, se) in enumerate(stage, start=1):
                blocks.append(make_block(s, b, er, k, se))
                c = block_position(s, b)[1]
        blocks.append(nn.Sequential(nn.Conv2d(c, LAST_CHANNELS, 1, bias=False),
                                    nn.BatchNorm2d(LAST_CHANNELS), nn.Hardswish(inplace=True)))
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.conv_head = nn.Conv2d(LAST_CHANNELS, HEAD_CHANNELS, 1, bias=True)
        self.act_head = nn.Hardswish(inplace=True)
        self.classifier = nn.Linear(HEAD_CHANNELS, num_classes)

    def forward_stem(self, x: torch.Tensor) -> torch.Tensor:
        """The fixed part before the searchable blocks: stem and depthwise-separable block."""
        return self.blocks[0](self.stem(x))

    def forward_tail(self, x: torch.Tensor) -> torch.Tensor:
        """The fixed part after the searchable blocks: 1x1 conv to 960, pool, head, logits."""
        x = self.pool(self.blocks[-1](x))
        return self.classifier(self.act_head(self.conv_head(x)).flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.forward_stem(x)
        for block in self.blocks[1:-1]:
            x = block(x)
        return self.forward_tail(x)


def stage_specs(arch) -> list[list[tuple[int, int, bool]]]:
    """(expansion, kernel, se) of every active block, stage by stage."""
    space = arch.space
    stages = []
    for s in range(1, N_STAGES + 1):
        depth = int(arch[depth_group(s)])
        stage = []
        for b in range(1, min(depth, N_BLOCKS) + 1):
            stage.append(option_params(arch.choices[space.group_index(block_group(s, b))]))
        stages.append(stage)
    return stages


def build(arch, num_classes: int | None = None, input_size: int = 224) -> MobileNetChild:
    """Network for a mobilenet ``Architecture``; ``num_classes`` defaults to 1000.

    ``input_size`` (pixels, default 224) only sets ``net.input_shape``: the net is size-agnostic.
    """
    classes = 1000 if num_classes is None else int(num_classes)
    if classes < 1:
        raise InputError(f"num_classes must be >= 1, got {num_classes}")
    if int(input_size) < 32:
        raise InputError(f"input_size must be >= 32 pixels (five stride-2 stages), got "
                         f"{input_size}")
    return MobileNetChild(stage_specs(arch), classes, int(input_size))
