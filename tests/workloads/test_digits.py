"""The digits workload: data groups, input preparation, and the analytic resource forms against
hand counts and against the exported network."""

from __future__ import annotations

import json

import numpy as np
import pytest

from iqnas import Group, SearchSpace, spaces
from iqnas.errors import InputError
from iqnas.workloads import digits
from iqnas.workloads.digits_resources import (
    RAM_LAYERS,
    RESOURCES,
    exported_footprint,
    resource_forms,
)

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def space():
    return spaces.get("digits")


@pytest.fixture(scope="module")
def forms(space):
    return resource_forms(space)


def arch(space, resolution, bits, conv):
    return space.to_arch({"resolution": str(resolution), "bits": str(bits), "conv": conv})


def test_data_groups_are_apart(space):
    assert space.data_groups == ("resolution", "bits")
    assert space.architecture_groups == ("conv",)
    assert space.size == 3 * 3 * 24
    a = arch(space, 6, 2, "k5-8-16")
    d = a.to_dict()
    assert d["data_choices"] == {"resolution": "6", "bits": "2"}
    assert d["architecture_choices"] == {"conv": "k5-8-16"}
    again = SearchSpace.from_dict(json.loads(json.dumps(space.to_dict())))
    assert again.data_groups == space.data_groups
    assert again.content_hash() == space.content_hash()


def test_kind_is_part_of_the_hash_and_checked():
    plain = SearchSpace("s", [Group("r", ("8", "4")), Group("w", ("a", "b"))])
    data = SearchSpace("s", [Group("r", ("8", "4"), kind="data"), Group("w", ("a", "b"))])
    assert plain.content_hash() != data.content_hash()
    assert "kind" not in plain.to_dict()["groups"][0]   # older hashes and files unchanged
    assert data.group_kind("r") == "data" and data.group_kind("w") == "architecture"
    with pytest.raises(InputError, match="kind 'input' is unknown"):
        Group("r", ("8",), kind="input")
    bad = {"name": "s", "groups": [{"name": "r", "options": [8], "kind": "pixels"}]}
    with pytest.raises(InputError, match=r"groups\[0\] \('r'\)\.kind: 'pixels' is not a kind"):
        SearchSpace.from_dict(bad)


def test_area_averaging_and_quantization():
    half = digits.area_matrix(4)
    img = np.arange(64, dtype=float).reshape(8, 8)
    blocks = img.reshape(4, 2, 4, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(half @ img @ half.T, blocks)
    six = digits.area_matrix(6)
    np.testing.assert_allclose(six.sum(axis=1), 1.0)          # each output pixel: an average
    np.testing.assert_allclose(six.sum(axis=0), 6 / 8)        # each input pixel counted fully
    np.testing.assert_allclose(six[0], [0.75, 0.25, 0, 0, 0, 0, 0, 0])
    q = digits.quantize(np.array([0.0, 0.2, 0.5, 0.9, 1.0]), 1)
    np.testing.assert_array_equal(q, [0, 0, 0, 1, 1])
    assert len(np.unique(digits.quantize(np.linspace(0, 1, 101), 2))) == 4


def test_dataset_split_is_fixed(space):
    data = digits.dataset(6, 2)
    assert [len(data[k][1]) for k in ("train", "val", "test")] == [1197, 300, 300]
    assert data["train"][0].shape[1:] == (1, 6, 6)
    levels = np.unique(data["test"][0])
    np.testing.assert_allclose(levels, np.array([0, 1, 2, 3], dtype=np.float32)[:len(levels)] / 3)
    again = digits.dataset.__wrapped__(6, 2)
    np.testing.assert_array_equal(again["val"][1], data["val"][1])


def test_forms_match_hand_counts(space, forms):
    a = arch(space, 8, 4, "k3-4")   # conv 3*3*4+4, head (4*4*4)*10+10
    assert forms["flash_bytes"](a) == 40 + 650
    assert forms["input_bytes"](a) == 32
    assert forms["ram_conv1"](a) == 32 + 8 * 8 * 4
    assert forms["ram_pool"](a) == 256 + 64
    assert forms["ram_conv2"](a) == 0
    assert forms["ram_dense"](a) == 64 + 10
    assert forms["macs"](a) == 64 * 9 * 4 + 640
    b = arch(space, 6, 1, "k5-8-16")   # conv1 25*8+8, conv2 9*8*16+16, head 3*3*16*10+10
    assert forms["flash_bytes"](b) == 208 + 1168 + 1450
    assert forms["input_bytes"](b) == 5                      # ceil(36 / 8)
    assert forms["ram_conv2"](b) == 9 * 8 + 9 * 16
    assert forms["macs"](b) == 36 * 25 * 8 + 9 * 9 * 8 * 16 + 9 * 16 * 10


def test_forms_match_the_exported_network(space, forms):
    """Every conv option at every resolution and bit depth (cycled), counted from torch.export."""
    from iqnas.builders.digits import build

    convs = space.groups[space.group_index("conv")].options
    for i, conv in enumerate(convs):
        a = arch(space, (8, 6, 4)[i % 3], (4, 2, 1)[(i // 3) % 3], conv)
        fp = exported_footprint(build(a), int(a["bits"]))
        assert {r: fp[r] for r in RESOURCES} == {r: forms[r](a) for r in RESOURCES}, a.key
        assert fp["ram_bytes"] == max(forms[r](a) for r in RAM_LAYERS)
        net = build(a)
        assert fp["flash_bytes"] == sum(p.numel() for p in net.parameters())


def test_training_is_seeded_and_learns(space):
    a = arch(space, 8, 4, "k3-8")
    first = digits.train_and_evaluate(a, seed=3, epochs=3)
    assert first == digits.train_and_evaluate(a, seed=3, epochs=3)
    assert first["val_acc"] > 0.8 and first["test_acc"] > 0.8
    oracle = digits.oracle(epochs=3, seed=0)
    assert oracle.metrics == ["val_acc", "test_acc"]
    assert oracle.measure(a) == oracle.measure(a.key)


def test_space_show_lists_data_groups_apart(capsys):
    from iqnas.cli import main

    assert main(["space", "show", "digits", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["data_groups"] == ["resolution", "bits"]
    assert out["architecture_groups"] == ["conv"]
    assert [g.get("kind", "architecture") for g in out["groups"]] == ["data", "data",
                                                                      "architecture"]
    assert main(["space", "show", "digits"]) == 0
    text = capsys.readouterr().out
    data_part, _, arch_part = text.partition("data groups (input choices)")[2].partition(
        "architecture groups")
    assert "│ resolution" in data_part and "│ bits" in data_part and "k3-4" not in data_part
    assert "│ conv" in arch_part and "│ resolution" not in arch_part
