"""Search spaces from files: the dict / JSON / TOML format, its validation, the content hash,
``iqnas.spaces.get(path)``, and forms and stores that refuse a different space of the same
name."""

from __future__ import annotations

import json
import os
import tomllib

import numpy as np
import pytest

import iqnas
from iqnas.calibration.store import SampleStore
from iqnas.errors import InputError
from iqnas.space import SearchSpace
from iqnas.space_file import toml_text

TINY = {"name": "tiny", "groups": [
    {"name": "depth", "options": ["1", "2"]},
    {"name": "w1", "options": ["8", "16", "32"]},
    {"name": "w2", "options": ["8", "16"], "active_if": {"group": "depth", "options": ["2"]}}]}

RICH = {"name": "rich", "description": "metadata of every kind: ünïcode, \"quotes\", tab\there",
        "groups": [
            {"name": "depth", "options": [1, 2, 3], "units": "blocks",
             "description": "blocks per stage"},
            {"name": "op", "options": ["conv 3x3", "sep=5", "a\\b"],
             "option_descriptions": {"conv 3x3": "plain", "a\\b": "back\\slash \u007f"}},
            {"name": "w3", "options": [0.5, 1.25],
             "active_if": {"group": "depth", "options": [3]}}]}


def _write(tmp_path, data, name="space.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_the_issue_example_loads_with_size_9_and_matches_enumeration(tmp_path):
    space = iqnas.spaces.get(_write(tmp_path, TINY))
    assert space.size == 9 == len(space.enumerate())
    keys = {a.key for a in space.enumerate()}
    assert keys == {f"depth=1;w1={w}" for w in ("8", "16", "32")} | \
        {f"depth=2;w1={w};w2={v}" for w in ("8", "16", "32") for v in ("8", "16")}
    inactive = space.parse_key("depth=1;w1=16")
    assert inactive["w2"] == "8" and space.activity(inactive).tolist() == [True, True, False]


def test_numbers_are_read_as_their_text_and_metadata_is_kept():
    space = SearchSpace.from_dict(RICH)
    assert space.groups[0].options == ("1", "2", "3")
    assert space.groups[2].options == ("0.5", "1.25")
    assert space.groups[2].active_if == ("depth", frozenset({"3"}))
    assert space.groups[0].units == "blocks" and space.groups[0].description == "blocks per stage"
    assert space.groups[1].option_descriptions["a\\b"] == "back\\slash \u007f"
    assert space.size == 3 * (1 + 1 + 2)


@pytest.mark.parametrize("suffix", [".json", ".toml"])
@pytest.mark.parametrize("data", [TINY, RICH], ids=["tiny", "rich"])
def test_save_and_load_round_trip_every_field(tmp_path, suffix, data):
    space = SearchSpace.from_dict(data)
    path = space.save(tmp_path / f"s{suffix}")
    back = SearchSpace.load(path)
    assert back.to_dict() == space.to_dict()
    assert back.content_hash() == space.content_hash()
    if suffix == ".toml":  # the small writer's output is TOML that tomllib reads as written
        assert tomllib.loads(path.read_text(encoding="utf-8")) == space.to_dict()


@pytest.mark.parametrize("name", ["nb201", "mobilenet", "ofa"])
def test_builtin_spaces_round_trip_through_toml_with_the_same_hash(name):
    space = iqnas.spaces.get(name)
    back = SearchSpace.from_dict(tomllib.loads(toml_text(space.to_dict())))
    assert back.content_hash() == space.content_hash()
    assert back.size == space.size and back.n_vars == space.n_vars
    assert np.array_equal(back.canonical(space.sample_choices(0, 50)),
                          space.sample_choices(0, 50))


def test_content_hash_covers_layout_not_metadata():
    base = SearchSpace.from_dict(TINY)
    described = json.loads(json.dumps(TINY))
    described["description"] = "new text"
    described["groups"][0]["description"] = "depth of the net"
    described["groups"][1]["units"] = "channels"
    assert SearchSpace.from_dict(described).content_hash() == base.content_hash()
    for change in (lambda d: d["groups"][1]["options"].append("64"),
                   lambda d: d["groups"][2]["active_if"]["options"].append("1"),
                   lambda d: d["groups"].reverse(),
                   lambda d: d.update(name="tiny2")):
        other = json.loads(json.dumps(TINY))
        change(other)
        assert SearchSpace.from_dict(other).content_hash() != base.content_hash()


def _bad(**edits):
    d = json.loads(json.dumps(TINY))
    for path, value in edits.items():
        target = d
        keys = path.split("__")
        for k in keys[:-1]:
            target = target[int(k)] if k.isdigit() else target[k]
        last = keys[-1]
        if value is KeyError:
            del target[int(last) if last.isdigit() else last]
        elif last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value
    return d


@pytest.mark.parametrize("data, match", [
    (_bad(colour="red"), "unknown field 'colour'; allowed: format, name"),
    (_bad(groups__0__colour="red"), "groups[0]: unknown field 'colour'"),
    (_bad(groups__2__active_if__when="x"), "groups[2] ('w2').active_if: unknown field 'when'"),
    (_bad(groups__1__options=[]), "groups[1] ('w1').options: group 'w1' has no options"),
    (_bad(groups__1__options=KeyError), "groups[1] ('w1').options: missing"),
    (_bad(groups__1__name="depth"), "groups[1].name: duplicate group name 'depth'"),
    (_bad(groups__1__options=["8", 8]), "groups[1] ('w1').options[1]: duplicate option '8'"),
    (_bad(groups__1__options=["8", True]), "options[1]: option names must be strings"),
    (_bad(groups__1__options=["8", None]), "options[1]: option names must be strings"),
    (_bad(groups__1__options=["8", " 16"]), "leading or trailing spaces"),
    (_bad(groups__1__options=["8", "a;b"]), "may not contain ';'"),
    (_bad(groups__1__name="w=1"), "groups[1].name: 'w=1': group names may not contain '='"),
    (_bad(groups__2__active_if__group="dpth"),
     "groups[2] ('w2').active_if.group: unknown group 'dpth'; groups are depth, w1, w2"),
    (_bad(groups__2__active_if__options=["3"]),
     "groups[2] ('w2').active_if.options[0]: unknown option '3' of group 'depth'"),
    (_bad(groups__2__active_if__options=[]), "active_if.options: must be a non-empty list"),
    (_bad(groups__2__active_if__group=KeyError), "active_if.group: missing"),
    (_bad(groups__2__active_if__group="w2"), "active_if: cycle w2 -> w2"),
    (_bad(groups__0__active_if={"group": "w2", "options": ["8"]}),
     "groups[0] ('depth').active_if: cycle depth -> w2 -> depth"),
    (_bad(groups__1__active_if={"group": "w2", "options": ["8"]}),
     "groups[1] ('w1').active_if.group: 'w2' is itself conditional"),
    (_bad(groups=[]), "groups: must be a non-empty list"),
    (_bad(name=KeyError), "name: missing"),
    (_bad(name=3), "name: must be a string, got 3"),
    (_bad(format="iqnas.QuadraticForm/1"), "format: 'iqnas.QuadraticForm/1' is not"),
    (_bad(groups__1__option_descriptions={"64": "x"}),
     "option_descriptions: unknown option '64'"),
    ([1, 2], "a search space must be an object"),
])
def test_bad_space_dicts_are_one_line_errors_naming_the_field(data, match):
    with pytest.raises(InputError) as info:
        SearchSpace.from_dict(data, source="space file s.json")
    msg = str(info.value)
    assert match in msg and msg.startswith("space file s.json: ")
    assert "\n" not in msg


def test_bad_files_name_the_file(tmp_path):
    with pytest.raises(InputError, match="not valid JSON .line 1"):
        iqnas.spaces.get(_write(tmp_path, "{", "broken.json"))
    with pytest.raises(InputError, match="broken.toml: not valid TOML"):
        iqnas.spaces.get(_write(tmp_path, "name = ", "broken.toml"))
    with pytest.raises(InputError, match="space file not found"):
        iqnas.spaces.get(tmp_path / "absent.toml")
    with pytest.raises(InputError, match="unknown space 'tiny'.*space file"):
        iqnas.spaces.get("tiny")


def test_spaces_get_caches_a_file_until_its_content_changes(tmp_path):
    path = _write(tmp_path, TINY)
    first = iqnas.spaces.get(path)
    assert iqnas.spaces.get(str(path)) is first
    assert iqnas.spaces.get(tmp_path / "." / "space.json") is first
    stat = path.stat()
    path.write_text(json.dumps(TINY, indent=2))   # same content, new bytes and time
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert iqnas.spaces.get(path) is first
    changed = json.loads(json.dumps(TINY))
    changed["groups"][1]["options"].append("64")
    path.write_text(json.dumps(changed))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2 * 10**9))
    second = iqnas.spaces.get(path)
    assert second is not first and second.size == 12


def test_a_file_with_a_builtin_name_is_a_part_of_that_space(tmp_path):
    nb = iqnas.spaces.get("nb201")
    ops = ["none", "skip_connect", "nor_conv_3x3"]
    part = {"name": "nb201", "groups": [{"name": g.name, "options": ops} for g in nb.groups]}
    space = iqnas.spaces.get(_write(tmp_path, part))
    assert space.size == 3 ** 6 and space.content_hash() != nb.content_hash()
    arch = space.sample(0)
    assert arch.key == nb.to_arch(arch).key and arch.key.startswith("|")   # NB201's own keys
    assert nb.to_arch(arch)["e01"] == arch["e01"]          # by key, not by option index
    table = iqnas.oracles.nb201("cifar100")
    for metric in ("test_acc_c100", "params_M_c100"):
        assert table.measure(arch)[metric] == table.measure(arch.key)[metric]
    net = iqnas.builders.build(space, arch, dataset="cifar100")   # the built-in builder
    assert sum(p.numel() for p in net.parameters()) / 1e6 == pytest.approx(
        table.measure(arch)["params_M_c100"], abs=1e-5)
    bad = json.loads(json.dumps(part))
    bad["groups"][2]["options"] = ops + ["conv_7x7"]
    with pytest.raises(InputError, match=r"groups\[2\] \('e12'\)\.options\[3\]: unknown op "
                                         r"'conv_7x7' for the built-in space 'nb201'"):
        iqnas.spaces.get(_write(tmp_path, bad, "bad.json"))
    whole = SearchSpace.from_dict(nb.to_dict())
    whole.save(tmp_path / "whole.toml")      # all of nb201 in a file is nb201 itself
    assert iqnas.spaces.get(tmp_path / "whole.toml") is nb
    with pytest.raises(InputError, match="group 'e23' of the built-in space 'nb201' is missing"):
        iqnas.spaces.get(_write(tmp_path, {**part, "groups": part["groups"][:-1]}, "few.json"))


def test_forms_record_the_space_hash_and_refuse_another_space_of_that_name(tmp_path):
    space = SearchSpace.from_dict(TINY)
    pairwise = np.zeros((space.n_vars, space.n_vars))
    pairwise[0, 2] = 0.5                                      # depth=1 x w1=8
    form = iqnas.QuadraticForm(space, 1.0, np.arange(space.n_vars, dtype=float), pairwise,
                               name="acc")
    other = json.loads(json.dumps(TINY))
    other["groups"][1]["options"] = ["8", "16", "64"]         # same layout, other options
    impostor = SearchSpace.from_dict(other)
    for suffix in (".json", ".npz"):
        path = form.save(tmp_path / f"acc{suffix}")
        back = iqnas.QuadraticForm.load(path, SearchSpace.from_dict(TINY))
        assert np.allclose(back.evaluate(space.enumerate()), form.evaluate(space.enumerate()))
        with pytest.raises(InputError, match="saved for another space named 'tiny'"):
            iqnas.QuadraticForm.load(path, impostor)
        with pytest.raises(InputError, match="over space 'tiny', which is not built in"):
            iqnas.QuadraticForm.load(path)
    with np.load(tmp_path / "acc.npz", allow_pickle=False) as z:    # an older NPZ: no hash
        old = {k: z[k] for k in z.files if k != "space_hash"}
    np.savez(tmp_path / "old.npz", **old)
    assert iqnas.QuadraticForm.load(tmp_path / "old.npz", impostor).space is impostor
    d = form.to_dict()
    assert d["space_hash"] == space.content_hash()
    del d["space_hash"], d["variables"]                       # an older file: the name only
    assert iqnas.QuadraticForm.from_dict(d, impostor).space is impostor
    with pytest.raises(InputError, match="different groups or options"):
        form + iqnas.QuadraticForm(impostor, 1.0)


def test_a_store_refuses_another_space_of_the_same_name(tmp_path):
    space = SearchSpace.from_dict(TINY)
    with SampleStore(tmp_path / "s.db", space) as st:
        st.add(space.parse_key("depth=1;w1=8"), {"acc": 1.0})
        assert st.get_meta("space_hash") == space.content_hash()
    with SampleStore(tmp_path / "s.db", SearchSpace.from_dict(TINY)) as st:
        assert len(st) == 1
    other = json.loads(json.dumps(TINY))
    other["groups"][1]["options"].append("64")
    with pytest.raises(InputError, match="another space named 'tiny'"):
        SampleStore(tmp_path / "s.db", SearchSpace.from_dict(other))
