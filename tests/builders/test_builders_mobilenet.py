"""MobileNetV3-like builder: forward shapes, structure, and hand-counted parameters."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import iqnas  # noqa: E402
from iqnas.builders import build  # noqa: E402
from iqnas.builders.mobilenet import InvertedResidual, make_divisible  # noqa: E402
from iqnas.errors import InputError  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def key(stages: list[list[str]]) -> str:
    return "|".join(f"s{s}:" + ",".join(blocks) for s, blocks in enumerate(stages, start=1))


SMALLEST = [["e3_k3"] * 2 for _ in range(5)]


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def ir_count(c_in: int, c_out: int, er: int, k: int, se: bool) -> int:
    """Hand formula: 1x1 expand + BN, kxk depthwise + BN, [SE with biases], 1x1 project + BN."""
    mid = make_divisible(c_in * er)
    n = c_in * mid + 2 * mid + mid * k * k + 2 * mid + mid * c_out + 2 * c_out
    if se:
        r = make_divisible(mid * 0.25)
        n += mid * r + r + r * mid + mid
    return n


def test_make_divisible_values():
    # timm's rule: nearest multiple of 8, bumped up when that loses more than 10 %
    assert [make_divisible(v) for v in (48, 72, 96, 18, 12, 4, 100)] == [48, 72, 96, 24, 16, 8, 104]


def test_forward_shape_and_resolution():
    space = iqnas.spaces.get("mobilenet")
    net = build(space, space.sample(5), input_size=64, num_classes=10).eval()
    assert net.input_shape == (3, 64, 64)
    with torch.no_grad():
        feats = net.blocks(net.stem(torch.randn(2, 3, 64, 64)))
        out = net(torch.randn(2, 3, 64, 64))
    assert feats.shape == (2, 960, 2, 2)  # overall stride 32
    assert out.shape == (2, 10) and torch.isfinite(out).all()
    assert build(space, space.sample(5)).classifier.out_features == 1000


def test_one_block_hand_count():
    # e4, k5, SE on 24 -> 24: mid 96, SE reduced to 24 channels
    block = InvertedResidual(24, 24, 4, 5, 1, True, True)
    assert n_params(block) == (24 * 96 + 192 + 96 * 25 + 192 + (96 * 24 + 24) + (24 * 96 + 96)
                               + 96 * 24 + 48) == 12168
    assert block.has_skip


def test_whole_network_hand_count():
    net = build("mobilenet", key(SMALLEST))
    stem = 3 * 32 * 9 + 64
    ds = 32 * 9 + 64 + 32 * 16 + 32
    chans, c, blocks = (24, 40, 80, 112, 192), 16, 0
    for c_out in chans:
        blocks += ir_count(c, c_out, 3, 3, False) + ir_count(c_out, c_out, 3, 3, False)
        c = c_out
    tail = 192 * 960 + 2 * 960 + (960 * 1280 + 1280) + (1280 * 1000 + 1000)
    assert n_params(net) == stem + ds + blocks + tail


def test_params_grow_with_expansion_se_and_depth():
    base = n_params(build("mobilenet", key(SMALLEST)))
    for option, extra in [("e4_k3", ir_count(24, 24, 4, 3, False) - ir_count(24, 24, 3, 3, False)),
                          ("e6_k5", ir_count(24, 24, 6, 5, False) - ir_count(24, 24, 3, 3, False)),
                          ("e3_k3_se", ir_count(24, 24, 3, 3, True) - ir_count(24, 24, 3, 3, False))]:
        stages = [list(s) for s in SMALLEST]
        stages[0][1] = option
        assert n_params(build("mobilenet", key(stages))) == base + extra > base
    deeper = [list(s) for s in SMALLEST]
    deeper[2] += ["e3_k3", "e3_k3"]  # stage 3 at depth 4
    assert n_params(build("mobilenet", key(deeper))) == base + 2 * ir_count(80, 80, 3, 3, False)


def test_structure_strides_skips_activations():
    net = build("mobilenet", key([["e3_k3"] * 3] + [["e6_k5_se"] * 2] * 4))
    irs = [b for b in net.blocks if isinstance(b, InvertedResidual)]
    assert len(irs) == 11
    strides = [b.conv_dw.stride[0] for b in irs]
    assert strides == [2, 1, 1, 2, 1, 2, 1, 1, 1, 2, 1]
    assert [b.has_skip for b in irs] == [False, True, True, False, True, False, True, False, True,
                                         False, True]
    relu = [isinstance(b.act1, torch.nn.ReLU) for b in irs]
    assert relu == [True] * 5 + [False] * 6  # ReLU through the c40 stage, h-swish after
    assert irs[0].conv_dw.kernel_size == (3, 3) and irs[3].conv_dw.kernel_size == (5, 5)
    assert isinstance(irs[3].se.gate, torch.nn.Hardsigmoid)


def test_bad_input():
    with pytest.raises(InputError, match="input_size"):
        build("mobilenet", key(SMALLEST), input_size=16)
    with pytest.raises(InputError, match="option"):
        build("mobilenet", key(SMALLEST), dataset="cifar10")
