"""SearchSpace behaviour on the built-in spaces, checked against enumeration and hand counts."""

from __future__ import annotations

import json

import numpy as np
import pytest

import iqnas
from iqnas.errors import InputError

KEY = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


@pytest.fixture(scope="module")
def nb201():
    return iqnas.spaces.get("nb201")


@pytest.fixture(scope="module")
def mobilenet():
    return iqnas.spaces.get("mobilenet")


def test_nb201_layout_and_official_key(nb201):
    assert nb201.n_vars == 30 and nb201.size == 15625
    x = nb201.encode(KEY)
    assert x.shape == (30,) and x.sum() == 6
    assert nb201.decode(x).key == KEY
    arch = nb201.parse_key(KEY)
    assert arch["e01"] == "nor_conv_3x3" and arch["e12"] == "avg_pool_3x3"
    assert arch["e23"] == "nor_conv_1x1" and arch["e03"] == "skip_connect"


def test_nb201_enumeration_is_complete_and_keys_unique(nb201):
    archs = nb201.enumerate()
    keys = {a.key for a in archs}
    assert len(archs) == len(keys) == 15625
    for a in archs[::997]:
        assert nb201.parse_key(a.key) == a
        assert nb201.from_json(a.to_json()) == a


@pytest.mark.parametrize("bad", [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|",                      # 2 nodes
    "|conv~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|none~1|none~2|",      # unknown op
    "|none~0|+|none~0|+|none~0|none~1|none~2|",                             # wrong edge count
    "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|",                      # wrong source
    12,
])
def test_nb201_bad_keys_raise_input_error(nb201, bad):
    with pytest.raises(InputError):
        nb201.parse_key(bad)


def test_nb201_sampling_is_uniform_and_seeded(nb201):
    C = nb201.sample_choices(0, 60000)
    assert np.array_equal(C, nb201.sample_choices(0, 60000))
    for g in range(6):
        counts = np.bincount(C[:, g], minlength=5)
        assert np.all(np.abs(counts - 12000) < 5 * np.sqrt(12000))
    assert nb201.sample(3).key == nb201.sample(np.random.default_rng(3)).key


def test_mobilenet_size_matches_hand_count(mobilenet):
    per_stage = sum(12 ** d for d in (2, 3, 4))
    assert per_stage == 22608
    assert mobilenet.size == per_stage ** 5
    assert mobilenet.n_vars == 255 and mobilenet.n_groups == 25
    # BINAS order: 240 block options (stage, block, option) then 15 depth options
    names = mobilenet.var_names()
    assert names[0] == "s1.b1=e3_k3" and names[1] == "s1.b1=e3_k3_se" and names[2] == "s1.b1=e3_k5"
    assert names[4] == "s1.b1=e4_k3" and names[239] == "s5.b4=e6_k5_se"
    assert names[240:243] == ["s1.depth=2", "s1.depth=3", "s1.depth=4"]


def test_mobilenet_inactive_blocks_are_canonical(mobilenet):
    arch = mobilenet.parse_key("s1:e6_k5,e3_k3|s2:e4_k3_se,e4_k3,e6_k5_se|s3:e3_k3,e3_k3,e3_k3,"
                               "e6_k5_se|s4:e3_k5,e3_k5|s5:e6_k3,e6_k3,e6_k3,e6_k3")
    assert arch["s1.depth"] == "2" and arch["s3.depth"] == "4"
    assert "s1.b3" not in arch.active() and arch.choices[mobilenet.group_index("s1.b3")] == 0
    x = mobilenet.encode(arch)
    assert mobilenet.decode(x) == arch
    # an inactive block holding a non-first option is not a valid encoding
    y = x.copy()
    off = mobilenet.offsets[mobilenet.group_index("s1.b3")]
    y[off], y[off + 5] = 0, 1
    with pytest.raises(InputError, match="inactive"):
        mobilenet.decode(y)
    with pytest.raises(InputError, match="inactive"):
        mobilenet.arch({**arch.active(), "s1.b3": "e3_k5"})


def test_mobilenet_sampling_is_uniform_over_architectures(mobilenet):
    C = mobilenet.sample_choices(1, 30000)
    depth = C[:, mobilenet.group_index("s2.depth")]
    expected = np.array([12 ** 2, 12 ** 3, 12 ** 4]) / 22608 * 30000
    counts = np.bincount(depth, minlength=3)
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected) + 1)
    # inactive blocks are option 0 in every sample
    b4 = C[:, mobilenet.group_index("s2.b4")]
    assert np.all(b4[depth < 2] == 0)
    keys = [a.key for a in mobilenet.sample(5, n=50)]
    assert all(mobilenet.parse_key(k).key == k for k in keys)


def test_mobilenet_key_round_trip_and_json(mobilenet):
    for a in mobilenet.sample(7, n=200):
        assert mobilenet.parse_key(a.key) == a
        assert mobilenet.decode(a.x) == a
        d = json.loads(a.to_json())
        assert d["space"] == "mobilenet" and mobilenet.from_json(a.to_json()) == a


def test_decode_rejects_non_one_hot(nb201):
    x = nb201.encode(KEY)
    x[0] = 1
    with pytest.raises(InputError, match="e01"):
        nb201.decode(x)
    with pytest.raises(InputError, match="length"):
        nb201.decode(np.zeros(29))
    assert not nb201.validate(np.zeros(30))


def test_unknown_names(nb201):
    with pytest.raises(InputError, match="unknown group"):
        nb201.group_index("e99")
    with pytest.raises(InputError, match="options are"):
        nb201.var_index("e01", "conv5x5")
    with pytest.raises(InputError, match="unknown space"):
        iqnas.spaces.get("darts")


def test_custom_conditional_space_counts_by_enumeration():
    space = iqnas.SearchSpace("toy", [
        iqnas.Group("depth", ("1", "2", "3")),
        iqnas.Group("a", ("x", "y")),
        iqnas.Group("b", ("p", "q", "r"), active_if=("depth", frozenset({"2", "3"}))),
        iqnas.Group("c", ("u", "v"), active_if=("depth", frozenset({"3"}))),
    ])
    C = space.enumerate_choices()
    assert len({tuple(r) for r in C}) == len(C) == space.size == 2 * (1 + 3 + 6)
    for row in C:
        space.decode(space.choices_to_onehot(row[None, :])[0])


def _reference_activity(space, row):
    """Active groups of one row, read off the groups' ``active_if`` by name."""
    chosen = {g.name: g.options[c] for g, c in zip(space.groups, row)}
    return [g.active_if is None or chosen[g.active_if[0]] in g.active_if[1] for g in space.groups]


@pytest.mark.parametrize("name", ["nb201", "mobilenet", "ofa"])
def test_canonical_and_activity_of_arrays_match_each_row(name):
    space = iqnas.spaces.get(name)
    G = np.random.default_rng(0).integers(0, space.sizes[None, :], size=(400, space.n_groups))
    act = space.activity(G)
    canon = space.canonical(G)
    assert act.shape == G.shape and act.dtype == bool and canon.dtype == np.int64
    for row, a, c in zip(G, act, canon):
        ref = _reference_activity(space, row)
        assert a.tolist() == ref
        assert c.tolist() == [v if on else 0 for v, on in zip(row.tolist(), ref)]
        assert space.activity(row).tolist() == ref and space.canonical(row).tolist() == c.tolist()
        arch = space.arch(row.tolist())
        assert list(arch.choices) == c.tolist() and space.activity(arch).tolist() == ref
    assert (space.canonical(canon) == canon).all()  # idempotent
    assert (G == np.random.default_rng(0).integers(0, space.sizes[None, :], size=G.shape)).all()
    if name != "nb201":
        assert (canon != G).any() and not act.all()


@pytest.mark.parametrize("call, match", [
    (lambda s: s.sample("a"), "seed must be an int >= 0, a numpy Generator or None, got 'a'"),
    (lambda s: s.sample(-1), "seed must be an int >= 0"),  # was numpy's ValueError
    (lambda s: s.sample(1.5), "seed must be an int >= 0"),
    (lambda s: s.sample(0, n="3"), "n must be a number of architectures"),
    (lambda s: s.arch("foo"), "for a key use parse_key"),  # was int()'s ValueError
    (lambda s: s.arch([0, 0, 0, 0, 0, "x"]), "a choice must be an option index .an int., got"),
    (lambda s: s.arch([0, 0, 0, 0, 0, 1.5]), "got np.float64.1.5."),  # was truncated to 1
])
def test_bad_seeds_and_choices_are_input_errors(call, match):
    space = iqnas.spaces.get("nb201")
    with pytest.raises(iqnas.InputError, match=match):
        call(space)
    assert space.arch([0.0, 1.0, 0, 0, 0, 0]) == space.arch([0, 1, 0, 0, 0, 0])
    assert space.sample(np.int64(3)) == space.sample(3)
    assert space.sample(np.random.default_rng(3)) == space.sample(3)
