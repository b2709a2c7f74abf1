"""The cluster file: round trip, and refusal of other spaces, edits and malformed files."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import iqnas
from iqnas.errors import InputError
from iqnas.reduction import Cluster
from iqnas.reduction.fileformat import content_digest


@pytest.fixture
def saved(nb201, tmp_path):
    cl = nb201.reduce(6, constraints={"params_M_c100": 0.5})
    return cl, cl.save(tmp_path / "cluster.json")


def test_round_trip(nb201, saved):
    cl, path = saved
    back = Cluster.load(path, "nb201")
    assert back.digest == cl.digest and back.index == cl.index
    assert np.array_equal(back.mask(nb201.X), cl.mask(nb201.X))
    for a, b in zip(back.linear_constraints, cl.linear_constraints):
        assert a.name == b.name and np.array_equal(a.coef, b.coef) and a.ub == b.ub
    assert back.summary().equals(cl.summary())
    assert Cluster.load(path).space.name == "nb201"  # the space from the file
    assert not list(path.parent.glob("*.tmp"))


def _edit(path, fn, redigest=True):
    data = json.loads(path.read_text())
    fn(data)
    if redigest:
        data["digest"] = content_digest(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("edit,redigest,match", [
    (lambda d: d.update(space="mobilenet"), True, "space 'mobilenet', not 'nb201'"),
    (lambda d: d.update(variables_sha256="0" * 16), True, "its variables differ"),
    (lambda d: d["centroids"][0].__setitem__(0, 9.0), False, "does not match its digest"),
    (lambda d: d.update(selected=17), True, "'selected' must be a cluster index"),
    (lambda d: d.pop("centroids"), True, "missing field"),
    (lambda d: d["centroids"][0].__setitem__(0, 0.1), True, "multiples"),
    (lambda d: d["features"].update(weights=[3.0] * 5), True, "powers of two"),
    (lambda d: d.update(format="something/else"), True, "not a cluster file"),
    (lambda d: d["features"]["matrix"].append([0, "e99=none", 1]), True, "unknown group"),
])
def test_bad_files_are_refused(saved, edit, redigest, match):
    _, path = saved
    _edit(path, edit, redigest)
    with pytest.raises(InputError, match=match) as exc:
        Cluster.load(path, "nb201")
    assert "\n" not in str(exc.value) and str(path) in str(exc.value)


def test_another_space_is_refused(saved):
    _, path = saved
    with pytest.raises(InputError, match="space 'nb201', not 'mobilenet'"):
        Cluster.load(path, "mobilenet")


@pytest.mark.parametrize("text", ["", "{not json", "[1, 2]", "null"])
def test_malformed_json(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(InputError, match="not a cluster file"):
        Cluster.load(path, "nb201")


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cluster file not found"):
        Cluster.load(tmp_path / "nope.json", "nb201")


def test_unwritable_paths_leave_nothing(saved, tmp_path):
    cl, _ = saved
    for bad, match in [(tmp_path / "no" / "such" / "c.json", "does not exist"),
                       (tmp_path, "is a folder"), (tmp_path / "c.txt", "must end in .json")]:
        with pytest.raises(InputError, match=match):
            cl.save(bad)
    if os.geteuid() != 0:  # root may write anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        with pytest.raises(InputError, match="permission denied"):
            cl.save(ro / "c.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cluster.json"] + (
        ["ro"] if os.geteuid() != 0 else [])


def test_as_cluster_and_calibrate_refuse_other_spaces(saved):
    cl, path = saved
    from iqnas.reduction import as_cluster

    assert as_cluster(path, "nb201").digest == cl.digest
    with pytest.raises(InputError, match="space 'nb201', not 'mobilenet'"):
        as_cluster(cl, "mobilenet")
    with pytest.raises(InputError, match="The 'restrict' parameter of calibrate\\(\\) must be an "
                       "iqnas.reduction.Cluster .* Got 'cluster.json' instead"):
        iqnas.calibrate("nb201", iqnas.oracles.nb201(), "test_acc_c100", n_samples=10,
                        restrict="cluster.json")
