"""``iqnas sweep``: table, JSON and CSV output, exit codes 0 / 1 / 2, resume and plot files."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from sweep_helpers import brute_force_optimum

import iqnas
from iqnas.cli import main

RES = "help_lat_fpga"


@pytest.fixture(scope="module")
def files(tmp_path_factory, linear_accuracy, fpga_form, params_form):
    d = tmp_path_factory.mktemp("cli")
    return {"obj": linear_accuracy.save(d / "obj.json"), "lat": fpga_form.save(d / "lat.npz"),
            "par": params_form.save(d / "par.json"),
            "forms": (linear_accuracy, fpga_form, params_form)}


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _base(files, budgets="2:8:4"):
    return ["sweep", "--space", "nb201", "--objective", files["obj"], "--constraint",
            f"{RES}={files['lat']}", "--resource", RES, f"--budgets={budgets}", "-q"]


def test_json_matches_brute_force(files, capsys):
    code, out, _ = _run(capsys, *_base(files), "--format", "json")
    assert code == 0
    d = json.loads(out)
    acc, lat, _ = files["forms"]
    problem = iqnas.Problem(iqnas.spaces.get("nb201"), acc, {RES: (lat, 1.0)})
    assert [p["budget"] for p in d["points"]] == [2.0, 4.0, 6.0, 8.0]
    for p in d["points"]:
        best = np.nanmax(brute_force_optimum(problem.with_budget(RES, p["budget"])))
        assert p["status"] == "optimal" and p["objective"] == pytest.approx(best, abs=1e-6)
        assert p[RES] <= p["budget"]
    assert d["pareto_front"] == [0, 1, 2, 3]
    assert {c["group"] for c in d["changes"]} <= {g.name for g in problem.space.groups}


def test_table_and_csv(files, capsys):
    code, out, _ = _run(capsys, *_base(files), "--format", "table")
    assert code == 0 and "Pareto front: 4 architectures" in out
    assert out.count(f"{RES} 2 -> 4: ") == 1 and "changes between neighbouring points" in out
    keys = [line.split()[-1] for line in out.splitlines() if "|+|" in line]
    assert len(keys) == 4 and all(k.startswith("|") and k.endswith("|") for k in keys)
    code, out, _ = _run(capsys, *_base(files), "--format", "csv")
    df = pd.read_csv(io.StringIO(out))
    assert code == 0 and list(df["budget"]) == [2.0, 4.0, 6.0, 8.0]
    assert {"status", "objective", "key", RES, "source", "changes"} <= set(df.columns)
    assert list(df["key"]) == keys


def test_grid_oracle_and_plot(files, capsys, tmp_path):
    plot = tmp_path / "front.png"
    code, out, _ = _run(capsys, *_base(files, "3,6"), "--constraint",
                        f"params_M_c100={files['par']}", "--grid", "params_M_c100=0.5:1.5:2",
                        "--oracle", "nb201", "--true-metric", "test_acc_c100", "--plot", plot,
                        "--format", "json")
    assert code == 0 and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    d = json.loads(out)
    assert [(p["budget"], p["grid_budget"]) for p in d["points"]] == [
        (3.0, 0.5), (6.0, 0.5), (3.0, 1.5), (6.0, 1.5)]
    table = iqnas.oracles.nb201("cifar100").table()
    for p, t in zip(d["points"], d["true_front"]):
        assert p["true_objective"] == table.loc[p["key"], "test_acc_c100"]
        assert p["true_params_M_c100"] == table.loc[p["key"], "params_M_c100"]
        assert t["true_objective"] >= p["true_objective"] or not p["true_feasible"]


def test_all_infeasible_exits_1(files, capsys):
    code, out, _ = _run(capsys, *_base(files, "0.1,0.2"))
    assert code == 1 and "infeasible" in out and "smallest achievable" in out


def test_resume_with_out(files, capsys, tmp_path):
    out_file = tmp_path / "s.jsonl"
    code, first, _ = _run(capsys, *_base(files), "--out", out_file, "--format", "csv")
    assert code == 0 and len(out_file.read_text().splitlines()) == 5
    code, again, _ = _run(capsys, *_base(files), "--out", out_file, "--format", "csv")
    cols = ["budget", "status", "objective", "key"]
    assert code == 0 and pd.read_csv(io.StringIO(again))[cols].equals(
        pd.read_csv(io.StringIO(first))[cols])
    before = out_file.read_bytes()
    code, _, err = _run(capsys, *_base(files, "1:8:5"), "--out", out_file)
    assert code == 2 and "different sweep (budgets differ)" in err
    assert out_file.read_bytes() == before


@pytest.mark.parametrize("budgets, extra, match", [
    ("a,b", [], "'a' is not a number"),
    ("1:2", [], "lo:hi:n"),
    ("-1,2", [], "negative"),
    ("2,3", ["--resource", "latency"], f"'{RES}=.*give its budget as NAME=FILE:BUDGET"),
    ("2,3", ["--grid", "mem=1,2"], "swept resource 'mem' has no --constraint"),
    ("2,3", ["--grid", "mem"], "--grid 'mem'"),
    ("2,3", ["--grid", f"{RES}=1,2"], "is the swept resource"),
    ("2,3", ["--plot", "front.jpg"], r"\.png or \.svg"),
    ("2,3", ["--plot", "no/such/dir/front.png"], "does not exist"),
    ("2,3", ["--jobs", "0"], r"The 'jobs' parameter of sweep\(\) must be an int in the range "
                             r"\[1, inf\)\. Got 0 instead"),
    ("2,3", ["--title", "front"], "set the --plot figure; add --plot FILE"),
    ("2,3", ["--dataset", "cifar10"], "need --oracle"),
    ("2,3", ["--oracle", "nb201", "--true-metric", "acc"], "unknown metric 'acc'"),
    ("2,3", ["--solver", "gurobi"], "unknown solver 'gurobi'"),
])
def test_bad_input_exits_2_and_writes_nothing(files, capsys, tmp_path, budgets, extra, match):
    out_file = tmp_path / "s.jsonl"
    code, out, err = _run(capsys, *_base(files, budgets), *extra, "--out", out_file)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and re.search(match, err), err
    assert not out_file.exists() and not (tmp_path / "front.jpg").exists()


def test_plot_titles_and_labels_from_the_command_line(files, capsys, tmp_path):
    plot = tmp_path / "front.svg"
    code, _, err = _run(capsys, *_base(files), "--plot", plot, "--title", "FPGA front",
                        "--xlabel", "latency on the FPGA [ms]", "--ylabel", "accuracy [%]")
    assert code == 0, err
    svg = plot.read_text()
    assert all(t in svg for t in ("FPGA front", "latency on the FPGA [ms]", "accuracy [%]"))
    code, _, err = _run(capsys, *_base(files), "--plot", tmp_path / "default.svg")
    svg = (tmp_path / "default.svg").read_text()
    assert code == 0 and f"{RES} (ms)" in svg and "acc (%)" in svg  # units from the forms
