"""The mobilenet latency LUT: the input each block position sees, and the bilinear form as the
constant plus the active blocks' entries (wall clock and CPU time)."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas
from iqnas.errors import InputError
from iqnas.oracles.latency_lut import LatencyLUT, block_inputs, build_latency_lut

SPACE = iqnas.spaces.get("mobilenet")


def test_block_inputs_follow_the_strides_and_widths():
    seen = block_inputs((1, 3, 224, 224))
    first = {1: (16, 112), 2: (24, 56), 3: (40, 28), 4: (80, 14), 5: (112, 14)}
    later = {1: (24, 56), 2: (40, 28), 3: (80, 14), 4: (112, 14), 5: (192, 7)}
    for s in range(1, 6):
        c, side = first[s]
        assert seen[(s, 1)] == (1, c, side, side)
        c, side = later[s]
        for b in (2, 3, 4):
            assert seen[(s, b)] == (1, c, side, side)


def test_the_form_is_the_constant_plus_the_active_blocks_for_both_clocks():
    rng = np.random.default_rng(0)
    wall, cpu = rng.uniform(0.1, 1.0, (5, 4, 12)), rng.uniform(0.1, 1.0, (5, 4, 12))
    lut = LatencyLUT(SPACE, (1, 3, 64, 64), wall, 0.1 * wall, 0.5, 0.25, cpu, 0.4, 0.2)
    for arch in SPACE.sample(1, n=30):
        act = arch.active()
        blocks = [(s, b, SPACE.groups[SPACE.group_index(f"s{s}.b{b}")].options.index(
            act[f"s{s}.b{b}"])) for s in range(1, 6) for b in range(1, int(act[f"s{s}.depth"]) + 1)]
        assert lut.predict(arch) == pytest.approx(
            0.75 + sum(wall[s - 1, b - 1, o] for s, b, o in blocks), rel=1e-12)
        assert lut.form(clock="cpu")(arch) == pytest.approx(
            0.6 + sum(cpu[s - 1, b - 1, o] for s, b, o in blocks), rel=1e-12)
    assert lut.form().name == "latency_ms" and lut.form(clock="cpu").name == "latency_ms_cpu"
    with pytest.raises(InputError, match="clock"):
        lut.form(clock="gpu")


@pytest.mark.parametrize("shape, match", [((1, 3, 16, 16), ">= 32"), ((1, 1, 64, 64), "3")])
def test_bad_input_shapes(shape, match):
    with pytest.raises(InputError, match=match):
        build_latency_lut(shape)
