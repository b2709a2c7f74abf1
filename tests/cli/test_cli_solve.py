"""The CLI: exit codes 0 solved / 1 infeasible / 2 bad input, table and JSON output."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import iqnas
from iqnas.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("forms")
    space = iqnas.spaces.get("nb201")
    rng = np.random.default_rng(0)
    obj = iqnas.QuadraticForm(space, 0, rng.normal(size=30), rng.normal(size=(30, 30)))
    lat = iqnas.QuadraticForm(space, 1.0, np.abs(rng.normal(size=30)), units="ms")
    mem = iqnas.QuadraticForm(space, 0.0, np.abs(rng.normal(size=30)), units="MB")
    return {"obj": obj.save(d / "obj.json"), "lat": lat.save(d / "lat.npz"),
            "mem": mem.save(d / "mem.json"), "dir": d, "forms": (obj, lat, mem)}


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_solve_json_matches_exhaustive(files, capsys):
    obj, lat, mem = files["forms"]
    code, out, _ = _run(capsys, "solve", "--space", "nb201", "--objective", files["obj"],
                        "--constraint", f"latency_ms={files['lat']}:4.0",
                        "--constraint", f"mem_mb={files['mem']}:3.0", "--format", "json")
    assert code == 0
    d = json.loads(out)
    p = iqnas.Problem(iqnas.spaces.get("nb201"), obj, {"latency_ms": (lat, 4.0),
                                                        "mem_mb": (mem, 3.0)})
    ref = iqnas.solve(p, "exhaustive")
    assert d["status"] == "optimal" and d["objective"] == pytest.approx(ref.objective)
    assert d["resources"]["latency_ms"]["units"] == "ms"
    assert d["resources"]["latency_ms"]["value"] <= 4.0


def test_solve_table_and_solver_log(files, capsys, tmp_path):
    log = tmp_path / "scip.log"
    code, out, _ = _run(capsys, "solve", "--space", "nb201", "--objective", files["obj"],
                        "--constraint", f"latency_ms={files['lat']}:4.0", "--solver-log", log)
    assert code == 0 and "architecture" in out and "optimal" in out
    assert log.exists() and "SCIP" in log.read_text()


def test_infeasible_exit_1_with_message(files, capsys):
    _, lat, _ = files["forms"]
    smallest = lat.evaluate(choices=iqnas.spaces.get("nb201").enumerate_choices()).min()
    code, out, _ = _run(capsys, "solve", "--space", "nb201", "--objective", files["obj"],
                        "--constraint", f"latency_ms={files['lat']}:0.5")
    assert code == 1
    assert f"latency_ms <= 0.5 is infeasible: the smallest achievable latency_ms is " \
           f"{smallest:.6g}" in out


@pytest.mark.parametrize("args, match", [
    (["--space", "nope"], "unknown space"),
    (["--constraint", "latency_ms={lat}:-1"], "negative"),
    (["--constraint", "latency_ms={lat}:abc"], "not a number"),
    (["--constraint", "latency_ms={dir}/missing.json:1"], "not found"),
    (["--solver", "nosuch"], "unknown solver"),
    (["--time-limit", "-3"], "time_limit"),
])
def test_bad_input_exit_2(files, capsys, args, match):
    base = {"--space": "nb201", "--objective": str(files["obj"])}
    argv = ["solve"]
    for k, v in base.items():
        if k not in args:
            argv += [k, v]
    argv += [a.format(lat=files["lat"], dir=files["dir"]) for a in args]
    code, _, err = _run(capsys, *argv)
    assert code == 2 and match in err and "Traceback" not in err


def test_malformed_objective_file_exit_2(files, capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"linear": [1, 2')
    code, _, err = _run(capsys, "solve", "--space", "nb201", "--objective", bad)
    assert code == 2 and "malformed" in err


def test_entry_point_lists_spaces_and_solvers():
    out = subprocess.run([sys.executable, "-m", "iqnas", "spaces", "--format", "json"],
                         capture_output=True, text=True, check=True).stdout
    names = {r["name"]: r for r in json.loads(out)}
    assert names["nb201"]["architectures"] == 15625 and names["mobilenet"]["variables"] == 255
    out = subprocess.run([sys.executable, "-m", "iqnas", "solvers", "--format", "json"],
                         capture_output=True, text=True, check=True).stdout
    solvers = {r["name"]: r for r in json.loads(out)}
    assert {"scip", "cvxpy", "exhaustive"} <= set(solvers)
    assert "warm_start" in solvers["scip"]["capabilities"]


def _problem(files, budget: float = 4.0) -> iqnas.Problem:
    obj, lat, _ = files["forms"]
    return iqnas.Problem(iqnas.spaces.get("nb201"), obj, {"latency_ms": (lat, budget)})


def test_solver_options_and_scip_params_configure_the_backend(files, capsys):
    base = ["solve", "--space", "nb201", "--objective", files["obj"],
            "--constraint", f"latency_ms={files['lat']}:4.0", "--format", "json"]
    code, out, _ = _run(capsys, *base, "--solver", "scip", "--scip-param", "limits/nodes=1",
                        "--solver-option", "local_search=false")
    d = json.loads(out)
    assert code == 0 and d["nodes"] == 1 and d["raw_status"] in ("nodelimit", "optimal")
    assert d["options"]["scip_params"] == {"limits/nodes": 1}
    assert d["options"]["local_search"] is False
    code, out, _ = _run(capsys, *base, "--solver", "evolution", "--solver-option", "mode=rea",
                        "--solver-option", "cycles=300", "--seed", "3")
    d = json.loads(out)
    api = iqnas.solve(_problem(files), iqnas.solvers.Evolution(mode="rea", cycles=300), seed=3)
    assert code == 0 and d["options"]["mode"] == "rea" and d["options"]["cycles"] == 300
    assert d["key"] == api.key and d["nodes"] == api.nodes


@pytest.mark.parametrize("args, match", [
    (["--solver", "evolution", "--solver-option", "mod=rea"],
     "--solver-option mod: solver 'evolution' has no option 'mod'; its options are mode, "
     "population, "),
    (["--solver", "evolution", "--solver-option", "population=0"],
     "The 'population' parameter of Evolution must be an int in the range [1, inf). Got 0 "
     "instead."),
    (["--solver", "evolution", "--solver-option", "population"], "expected KEY=VALUE"),
    (["--solver", "random", "--solver-option", "n_samples=5", "--solver-option", "n_samples=6"],
     "given twice"),
    (["--solver", "scip", "--scip-param", "limits/node=1"],
     "close matches: 'limits/nodes'"),
    (["--solver", "scip", "--scip-param", "display/verblevel=9"],
     "The 'display/verblevel' parameter of Scip(scip_params=...) must be an int in the range "
     "[0, 5]. Got 9 instead."),
    (["--solver", "exhaustive", "--scip-param", "limits/nodes=1"],
     "--scip-param applies to --solver scip"),
])
def test_bad_solver_options_exit_2_with_one_line(files, capsys, args, match):
    code, out, err = _run(capsys, "solve", "--space", "nb201", "--objective", files["obj"], *args)
    assert code == 2 and out == "" and match in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_sweep_and_calibrate_take_solver_options(files, capsys, tmp_path):
    code, out, _ = _run(capsys, "sweep", "--space", "nb201", "--objective", files["obj"],
                        "--constraint", f"latency_ms={files['lat']}", "--resource",
                        "latency_ms", "--budgets", "3,4", "--solver", "scip", "--solver-option",
                        "triangle_cuts=true", "--scip-param", "limits/gap=0.0", "--format",
                        "json", "-q")
    d = json.loads(out)
    assert code == 0 and d["settings"]["params"] == {"scip_params": {"limits/gap": 0.0},
                                                     "triangle_cuts": True}
    assert len(d["points"]) == 2
    for row in d["points"]:
        exact = iqnas.solve(_problem(files, row["budget"]), "exhaustive")
        assert row["objective"] == pytest.approx(exact.objective, abs=1e-7)
    code, _, err = _run(capsys, "calibrate", "--space", "nb201", "--oracle", "nb201",
                        "--objective", "test_acc_c100", "--samples", "20", "--solver-option",
                        "limit=10", "--store", tmp_path / "s.db")
    assert code == 2 and "need an explicit --solver (not auto)" in err
    code, _, err = _run(capsys, "calibrate", "--space", "nb201", "--oracle", "nb201",
                        "--objective", "test_acc_c100", "--samples", "20", "--solver",
                        "exhaustive", "--solver-option", "limit=10", "--store", tmp_path / "s.db")
    assert code == 2 and "space 'nb201' has 1.56e+04 architectures" in err
