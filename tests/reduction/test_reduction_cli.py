"""`iqnas reduce` and `--restrict` in solve, sweep and calibrate: answers inside the cluster,
one-line errors with exit 2 and nothing written on bad input."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

import iqnas
from iqnas.calibration import LinearResourceModel, QuadraticRegressor
from iqnas.cli import main
from iqnas.reduction import Cluster


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def files(nb201, tmp_path_factory):
    d = tmp_path_factory.mktemp("reduce")
    acc = QuadraticRegressor(nb201.space, alpha=1.0, name="acc").fit(nb201.X, nb201.acc).form_
    params = LinearResourceModel(nb201.space, name="params", units="M").fit(
        nb201.X, nb201.params).form_
    cluster = d / "cluster.json"
    assert main(["reduce", "--space", "nb201", "--k", "6", "--score", "naswot", "--out",
                 str(cluster), "-q"]) == 0
    return {"dir": d, "acc": acc.save(d / "acc.json"), "params": params.save(d / "params.json"),
            "cluster": cluster, "forms": (acc, params)}


def test_reduce_writes_the_same_cluster_as_the_api(nb201, files, capsys, tmp_path):
    out = tmp_path / "c.json"
    code, text, _ = _run(capsys, "reduce", "--space", "nb201", "--k", "6", "--score", "naswot",
                         "--out", out, "--format", "json")
    assert code == 0
    d = json.loads(text)
    api = nb201.reduce(6, "naswot")
    assert d["digest"] == api.digest == Cluster.load(out).digest
    assert d["selected"] == api.index and len(d["clusters"]) == 6
    assert d["n_constraints"] == len(api.linear_constraints) > 5
    assert d["clusters"][api.index]["selected"] is True
    code, text, _ = _run(capsys, "reduce", "--space", "nb201", "--k", "4", "--out", out,
                         "--constraint", "params_M_c100=0.5",
                         "--constraint", f"p={files['params']}:0.6")
    assert code == 0 and "feasible params_M_c100" in text and "feasible p" in text
    assert "wrote" in text and "--restrict" in text


def test_solve_restrict_answers_are_members(files, capsys):
    cl = Cluster.load(files["cluster"])
    code, text, _ = _run(capsys, "solve", "--space", "nb201", "--objective", files["acc"],
                         "--restrict", files["cluster"], "--top-k", "5", "--format", "json")
    assert code == 0
    keys = [r["key"] for r in json.loads(text)]
    assert len(keys) == 5 and all(cl.contains(k) for k in keys)
    code, text, _ = _run(capsys, "solve", "--space", "nb201", "--objective", files["acc"],
                         "--format", "json")
    free = json.loads(text)["key"]
    assert not cl.contains(free)  # the unrestricted optimum lies elsewhere: the rows matter


def test_sweep_restrict_every_point_is_a_member(files, capsys):
    cl = Cluster.load(files["cluster"])
    code, text, _ = _run(capsys, "sweep", "--space", "nb201", "--objective", files["acc"],
                         "--constraint", f"params={files['params']}", "--resource", "params",
                         "--budgets", "0.2:0.8:4", "--restrict", files["cluster"], "-q",
                         "--format", "json")
    assert code == 0
    points = json.loads(text)["points"]
    assert len(points) == 4 and all(cl.contains(p["key"]) for p in points if p["key"])


def test_calibrate_restrict_measures_members_only(files, capsys, tmp_path):
    cl = Cluster.load(files["cluster"])
    db = tmp_path / "run.db"
    code, text, _ = _run(capsys, "calibrate", "--space", "nb201", "--oracle", "nb201",
                         "--objective", "test_acc_c100", "--samples", "40", "--rounds", "2",
                         "--restrict", files["cluster"], "--store", db, "--format", "json", "-q")
    assert code == 0
    with sqlite3.connect(db) as con:
        keys = [r[0] for r in con.execute("SELECT key FROM samples")]
    assert len(keys) == 40 and all(cl.contains(k) for k in keys)
    assert cl.contains(json.loads(text)["best"]["key"])


def test_calibrate_restrict_python_api(nb201, tmp_path):
    cl = nb201.reduce(8)
    run = iqnas.calibrate("nb201", nb201.oracle, "test_acc_c100",
                          {"help_lat_fpga": 3.5}, 30, rounds=3, store=tmp_path / "s.db",
                          selection="iterative", restrict=cl)
    assert all(cl.contains(k) for k in run.samples["key"])
    assert len(run.problem().linear_constraints) == len(cl.linear_constraints) > cl.k - 1
    assert run.settings["restrict"] == cl.digest
    res = run.solve(nb201.oracle)
    assert res is None or cl.contains(res.architecture)


@pytest.mark.parametrize("argv,match", [
    (["--score", "synflow"], "unknown score 'synflow'"),
    (["--k", "1"], "--k must be >= 2"),
    (["--k", "20000"], "more than the 15625 architectures"),
    (["--k", "four"], "is not an integer"),
    (["--fraction", "2"], "--fraction must be in"),
    (["--constraint", "params_M_c100"], "expected NAME=FILE:BUDGET or NAME=BUDGET"),
])
def test_reduce_bad_input(capsys, tmp_path, argv, match):
    out = tmp_path / "c.json"
    code, _, err = _run(capsys, "reduce", "--space", "nb201", "--out", out, *(
        argv if "--k" in argv else ["--k", "4", *argv]))
    assert code == 2 and match in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("out,match", [("missing/c.json", "does not exist"),
                                       (".", "is a folder"), ("c.txt", "must end in .json")])
def test_reduce_unwritable_out(capsys, tmp_path, monkeypatch, out, match):
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, "reduce", "--space", "nb201", "--k", "4", "--out", out)
    assert code == 2 and match in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_restrict_bad_files(files, capsys, tmp_path):
    wrong = tmp_path / "ofa.json"
    data = json.loads(files["cluster"].read_text())
    data["space"] = "mobilenet"
    wrong.write_text(json.dumps(data))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    for path, match in [(wrong, "is for space 'mobilenet', not 'nb201'"),
                        (broken, "not a cluster file"), (tmp_path / "none.json", "not found")]:
        for cmd in (["solve", "--space", "nb201", "--objective", files["acc"]],
                    ["sweep", "--space", "nb201", "--objective", files["acc"],
                     "--constraint", f"params={files['params']}", "--resource", "params",
                     "--budgets", "0.3,0.5"],
                    ["calibrate", "--space", "nb201", "--oracle", "nb201", "--objective",
                     "test_acc_c100", "--samples", "20", "--store", tmp_path / "x.db"]):
            code, _, err = _run(capsys, *cmd, "--restrict", path)
            assert code == 2 and match in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.db").exists()
    code, _, err = _run(capsys, "calibrate", "--space", "nb201", "--oracle", "nb201",
                        "--mode", "training-free", "--restrict", files["cluster"])
    assert code == 2 and "--restrict applies to --mode trained" in err


def test_other_space_file_for_solve(files, capsys, tmp_path):
    mob = iqnas.spaces.get("mobilenet")
    obj = iqnas.QuadraticForm(mob, 0.0, np.ones(mob.n_vars)).save(tmp_path / "m.json")
    code, _, err = _run(capsys, "solve", "--space", "mobilenet", "--objective", obj,
                        "--restrict", files["cluster"])
    assert code == 2 and "is for space 'nb201', not 'mobilenet'" in err
