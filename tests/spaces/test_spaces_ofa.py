"""The OFA MobileNetV3 space: layout, size, keys, encodings and OFA spec dicts."""

from __future__ import annotations

import numpy as np
import pytest

from iqnas.errors import InputError
from iqnas.spaces import ofa as ofa_space

MIN_KEY = "r160|s1:k3e3,k3e3|s2:k3e3,k3e3|s3:k3e3,k3e3|s4:k3e3,k3e3|s5:k3e3,k3e3"
MAX_KEY = "r224|" + "|".join(f"s{s}:" + ",".join(["k7e6"] * 4) for s in range(1, 6))
MIXED_KEY = ("r176|s1:k5e4,k3e6|s2:k7e3,k3e3,k5e6|s3:k3e4,k7e4|s4:k3e3,k5e3,k3e6,k7e6"
             "|s5:k5e6,k3e4,k7e3")


@pytest.fixture(scope="module")
def space():
    return ofa_space.build()


def test_layout_and_size(space):
    assert space.name == "ofa"
    assert space.n_groups == 20 * 2 + 5 + 1
    assert space.n_vars == 20 * 6 + 5 * 3 + 5
    # per stage: depth 2 -> 9**2 block choices, depth 3 -> 9**3, depth 4 -> 9**4; 5 resolutions
    assert space.size == (81 + 729 + 6561) ** 5 * 5 == 108_793_277_462_862_429_255
    assert space.groups[-1].name == "res"
    assert space.groups[-1].options == ("160", "176", "192", "208", "224")
    b3 = space.groups[space.group_index("s2.b3.k")]
    b4 = space.groups[space.group_index("s2.b4.e")]
    assert b3.active_if == ("s2.depth", frozenset({"3", "4"}))
    assert b4.active_if == ("s2.depth", frozenset({"4"}))
    assert space.groups[space.group_index("s2.b2.k")].active_if is None


def test_literal_keys(space):
    assert space.parse_key(MIN_KEY).choices == (0,) * space.n_groups
    top = space.parse_key(MAX_KEY)
    expect = [2] * 40 + [2] * 5 + [4]
    assert list(top.choices) == expect
    mixed = space.parse_key(MIXED_KEY)
    assert mixed["res"] == "176"
    assert [mixed[f"s{s}.depth"] for s in range(1, 6)] == ["2", "3", "2", "4", "3"]
    assert (mixed["s4.b4.k"], mixed["s4.b4.e"]) == ("7", "6")
    assert (mixed["s1.b3.k"], mixed["s1.b3.e"]) == ("3", "3")  # inactive -> option 0
    assert mixed.key == MIXED_KEY


def test_round_trips(space):
    for arch in space.sample(0, n=200):
        assert space.parse_key(arch.key) == arch
        x = space.encode(arch)
        assert x.sum() == space.n_groups
        assert space.decode(x) == arch
        assert space.from_json(arch.to_json()) == arch
        assert ofa_space.from_ofa_spec(space, ofa_space.to_ofa_spec(arch)) == arch


def test_inactive_blocks_must_hold_option_zero(space):
    x = space.encode(MIN_KEY)  # every stage at depth 2: blocks 3 and 4 inactive
    off = space.offsets[space.group_index("s3.b3.k")]
    x[off], x[off + 2] = 0.0, 1.0
    with pytest.raises(InputError, match="inactive"):
        space.decode(x)


def test_ofa_spec(space):
    spec = ofa_space.to_ofa_spec(space.parse_key(MIXED_KEY))
    assert spec["d"] == [2, 3, 2, 4, 3] and spec["r"] == [176]
    assert spec["ks"][:4] == [5, 3, 3, 3] and spec["e"][:4] == [4, 6, 3, 3]
    assert spec["ks"][12:16] == [3, 5, 3, 7] and spec["e"][12:16] == [3, 3, 6, 6]
    # OFA fills inactive positions arbitrarily: they must be ignored
    spec["ks"][2], spec["e"][3] = 7, 6
    assert ofa_space.from_ofa_spec(space, spec).key == MIXED_KEY
    with pytest.raises(InputError, match="'r'"):
        ofa_space.from_ofa_spec(space, {"ks": [3] * 20, "e": [3] * 20, "d": [2] * 5})
    with pytest.raises(InputError, match="unknown option '128'"):
        ofa_space.from_ofa_spec(space, {"ks": [3] * 20, "e": [3] * 20, "d": [2] * 5,
                                        "r": [128]})


@pytest.mark.parametrize("key, message", [
    ("s1:k3e3,k3e3|s2:k3e3,k3e3|s3:k3e3,k3e3|s4:k3e3,k3e3|s5:k3e3,k3e3", "needs 'rRES'"),
    (MIN_KEY.replace("r160", "224"), "must be 'r'"),
    (MIN_KEY.replace("r160", "r128"), "unknown option '128'"),
    (MIN_KEY.replace("s2:k3e3,k3e3", "s2:k3e3"), "depth must be one of"),
    (MIN_KEY.replace("s2:", "s3:"), "must start 's2:'"),
    (MIN_KEY.replace("s4:k3e3", "s4:k9e3"), "unknown option '9'"),
    (MIN_KEY.replace("s5:k3e3", "s5:k3x3"), "must look like 'k5e4'"),
])
def test_bad_keys(space, key, message):
    with pytest.raises(InputError, match=message):
        space.parse_key(key)


def test_sampling_respects_conditions(space):
    C = space.sample_choices(np.random.default_rng(1), 2000)
    depth = np.stack([C[:, space.group_index(f"s{s}.depth")] for s in range(1, 6)], axis=1) + 2
    for s in range(1, 6):
        for b in (3, 4):
            col = C[:, space.group_index(f"s{s}.b{b}.k")]
            assert np.all(col[depth[:, s - 1] < b] == 0)
            assert len(np.unique(col[depth[:, s - 1] >= b])) == 3
