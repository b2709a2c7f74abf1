"""SweepRow: a frozen record per point, its JSON line in the sweep file, and sweep files written
before SweepRow existed (string-keyed dicts) still resume."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import iqnas
from iqnas.errors import InputError
from iqnas.status import Status
from iqnas.sweeps import SweepRow
from iqnas.sweeps.store import SweepStore

BUDGETS = [0.5, 2.0, 3.0, 4.5]
#: point lines as the dict-based sweep rows wrote them (iqnas 0.1.0, this problem, exhaustive)
LEGACY = [
    '{"kind": "point", "point": 3, "budget": 4.5, "grid_budget": null, "status": "optimal", '
    '"raw_status": "optimal", "feasible": true, "objective": 3.2086793725314986, "key": '
    '"|skip_connect~0|+|nor_conv_1x1~0|none~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|", '
    '"choices": [1, 2, 0, 0, 3, 4], "resources": {"lat": 2.6144186191137493}, "gap": 0.0, '
    '"dual_bound": 3.208679372531498, "time": 0.012655588000029638, "nodes": 15625, '
    '"source": "cold", "from_point": null, "message": ""}',
    '{"kind": "point", "point": 2, "budget": 3.0, "grid_budget": null, "objective": '
    '3.2086793725314986, "key": '
    '"|skip_connect~0|+|nor_conv_1x1~0|none~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|", '
    '"choices": [1, 2, 0, 0, 3, 4], "resources": {"lat": 2.6144186191137493}, "gap": 0.0, '
    '"dual_bound": 3.208679372531498, "nodes": 0, "source": "reused", "from_point": 3, '
    '"message": "", "status": "optimal", "raw_status": "optimal", "feasible": true, '
    '"time": 0.0003178849999585509}',
    '{"kind": "point", "point": 0, "budget": 0.5, "grid_budget": null, "status": "infeasible", '
    '"raw_status": "infeasible", "feasible": false, "objective": null, "key": null, '
    '"choices": null, "resources": {}, "gap": null, "dual_bound": null, '
    '"time": 0.010265685000035774, "nodes": 15625, "source": "cold", "from_point": null, '
    '"message": "lat <= 0.5 is infeasible: the smallest achievable lat is 1.12567 ms"}',
]
COLUMNS = ["point", "budget", "status", "feasible", "key", "lat", "source", "from_point"]


@pytest.fixture(scope="module")
def problem():
    space = iqnas.spaces.get("nb201")
    rng = np.random.default_rng(7)
    acc = iqnas.QuadraticForm(space, linear=rng.normal(size=space.n_vars), name="acc")
    lat = iqnas.QuadraticForm(space, linear=rng.uniform(0.1, 1.0, size=space.n_vars),
                              name="lat", units="ms")
    return iqnas.Problem(space, acc, {"lat": (lat, 3.0)})


@pytest.fixture(scope="module")
def fresh(problem, tmp_path_factory):
    out = tmp_path_factory.mktemp("fresh") / "s.jsonl"
    return iqnas.sweep(problem, "lat", BUDGETS, solver="exhaustive", out=out), out


def test_rows_are_frozen_records_that_round_trip(fresh):
    sweep, out = fresh
    assert all(isinstance(r, SweepRow) for r in sweep.rows)
    assert [r.source for r in sweep.rows] == ["cold", "cold", "reused", "cold"]
    infeasible, _, reused, top = sweep.rows
    assert infeasible.status is Status.INFEASIBLE and not infeasible.feasible
    assert infeasible.choices is None and infeasible.resources == {}
    assert reused.from_point == 3 and reused.key == top.key and reused.status is Status.OPTIMAL
    assert top.architecture(sweep.problem).key == top.key
    with pytest.raises(dataclasses.FrozenInstanceError):
        top.objective = 0.0
    for row in sweep.rows:
        d = row.to_dict()
        assert json.loads(json.dumps(d)) == d
        assert SweepRow.from_dict(d) == row
    # the file holds exactly these records, and reading it back gives them
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert lines[0]["kind"] == "header" and {x["kind"] for x in lines[1:]} == {"point"}
    store = SweepStore(out, {k: v for k, v in lines[0].items() if k not in ("kind",)},
                       {p.index: p for p in sweep.points})
    assert [store.rows[i] for i in range(4)] == sweep.rows


def test_legacy_dict_lines_still_resume(problem, fresh, tmp_path):
    sweep, out = fresh
    header = out.read_text().splitlines()[0]
    old = tmp_path / "old.jsonl"
    old.write_text("\n".join([header, *LEGACY]) + "\n")
    resumed = iqnas.sweep(problem, "lat", BUDGETS, solver="exhaustive", out=old)
    assert resumed.resumed == 3
    by_point = {r.point: r for r in resumed.rows}
    for line in LEGACY:
        d = json.loads(line)
        row = by_point[d["point"]]
        assert row.status.value == d["status"] and row.raw_status == d["raw_status"]
        assert row.feasible == d["feasible"] and row.key == d["key"]
        assert row.objective == d["objective"] and row.time == d["time"]
        assert row.choices == (None if d["choices"] is None else tuple(d["choices"]))
        assert row.resources == d["resources"] and row.message == d["message"]
        assert row.source == d["source"] and row.from_point == d["from_point"]
    a, b = resumed.to_dataframe(), sweep.to_dataframe()
    assert a[COLUMNS].equals(b[COLUMNS])
    np.testing.assert_allclose(a["objective"], b["objective"], rtol=1e-12)
    assert by_point[1].source == "cold" and by_point[1].key == sweep.rows[1].key
    # and the file is now complete in the current format
    points = [json.loads(x)["point"] for x in old.read_text().splitlines()[1:]]
    assert sorted(points) == [0, 1, 2, 3]


def test_a_damaged_record_names_the_line(problem, fresh, tmp_path):
    _, out = fresh
    header = out.read_text().splitlines()[0]
    bad = tmp_path / "bad.jsonl"
    line = json.loads(LEGACY[0])
    line["status"] = "splendid"
    bad.write_text("\n".join([header, json.dumps(line)]) + "\n")
    with pytest.raises(InputError, match=r"bad.jsonl line 2: unknown status 'splendid'"):
        iqnas.sweep(problem, "lat", BUDGETS, solver="exhaustive", out=bad)
    line = json.loads(LEGACY[0])
    line["choices"] = "abc"
    bad.write_text("\n".join([header, json.dumps(line)]) + "\n")
    with pytest.raises(InputError, match="line 2: a sweep point record has a bad value"):
        iqnas.sweep(problem, "lat", BUDGETS, solver="exhaustive", out=bad)
