"""`iqnas doctor`, -v / -q on every command, errors as JSON under --format json, resume notices
and extending a calibration to more samples (issue 16)."""

from __future__ import annotations

import json
import shutil

import pytest

import iqnas
from iqnas.cli import build_parser, doctor_cmd, main


def _cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ---- doctor --------------------------------------------------------------------------------------
def test_doctor_reports_versions_solvers_and_data(capsys):
    code, out, _ = _cli(capsys, "doctor", "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["ok"] is True
    assert report["versions"]["iqnas"] == iqnas.__version__
    assert report["versions"]["scip"] and report["versions"]["numpy"]
    assert {r["name"] for r in report["solvers"]} == set(iqnas.solvers.names())
    assert next(r for r in report["solvers"] if r["name"] == "scip")["available"] is True
    assert [r["file"] for r in report["data"]] == list(doctor_cmd.EMBEDDED_SHA256)
    assert all(r["ok"] and r["actual"] == r["expected"] for r in report["data"])
    code, out, _ = _cli(capsys, "doctor")
    assert code == 0 and out.rstrip().endswith("all checks passed")


def test_doctor_finds_a_damaged_data_file(capsys, tmp_path, monkeypatch):
    for name in doctor_cmd.EMBEDDED_SHA256:
        shutil.copy(doctor_cmd.DATA_DIR / name, tmp_path / name)
    (tmp_path / "ofa_note10_lut.json").write_text("{}")
    monkeypatch.setattr(doctor_cmd, "DATA_DIR", tmp_path)
    code, out, _ = _cli(capsys, "doctor", "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False
    assert [r["file"] for r in report["data"] if not r["ok"]] == ["ofa_note10_lut.json"]


def test_doctor_checks_a_store(capsys, tmp_path):
    store = tmp_path / "s.db"
    assert _cli(capsys, "calibrate", "--space", "nb201", "--oracle", "nb201", "--objective",
                "test_acc_c100", "--samples", "20", "--store", store, "-q")[0] == 0
    code, out, _ = _cli(capsys, "doctor", "--store", store, "--format", "json")
    assert code == 0
    assert json.loads(out)["store"] == {"path": str(store), "integrity": "ok", "samples": 20,
                                        "failures": 0, "space": "nb201", "ok": True}
    code, out, _ = _cli(capsys, "doctor", "--store", store, "-q")
    assert code == 0 and out == "all checks passed\n"
    code, _, err = _cli(capsys, "doctor", "--store", tmp_path / "none.db")
    assert code == 2 and "--store file not found" in err


# ---- -v / -q everywhere, JSON errors -------------------------------------------------------------
def _commands():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    out = {}
    for name, p in sub.choices.items():
        nested = [a for a in p._actions if getattr(a, "dest", "") == "space_command"]
        if nested:
            out.update({f"{name} {n}": q for n, q in nested[0].choices.items()})
        else:
            out[name] = p
    return out


def test_every_command_takes_verbose_and_quiet():
    commands = _commands()
    assert {"solve", "sweep", "calibrate", "explain", "doctor", "space show"} <= set(commands)
    for name, p in commands.items():
        assert {"-v", "--verbose", "-q", "--quiet"} <= set(p._option_string_actions), name


def test_verbose_shows_the_solver_and_the_rounds(capsys, tmp_path):
    from iqnas.calibration.store import SampleStore  # noqa: F401 (the store exists)

    code, out, err = _cli(capsys, "calibrate", "--space", "nb201", "--oracle", "nb201",
                          "--objective", "test_acc_c100", "--samples", "20", "--store",
                          tmp_path / "v.db", "-v")
    assert code == 0
    assert "round 0: " in err and "round 1: " in err and "samples in all" in err


def test_quiet_prints_only_the_result(capsys, tmp_path):
    code, out, err = _cli(capsys, "calibrate", "--space", "nb201", "--oracle", "nb201",
                          "--objective", "test_acc_c100", "--samples", "20", "--store",
                          tmp_path / "q.db", "-q")
    assert code == 0 and err == ""
    assert "model quality" not in out and "best truly feasible measured network" in out


@pytest.mark.parametrize("argv, kind, fragment", [
    (["solve", "--space", "nope", "--objective", "x.json", "--format", "json"], "InputError",
     "nope"),
    (["sweep", "--space", "nb201", "--objective", "x.json", "--resource", "r", "--budgets",
      "1,2", "--format", "json"], "InputError", "objective file not found: x.json"),
    (["calibrate", "--space", "nb201", "--oracle", "nb201", "--objective", "nope",
      "--format", "json"], "InputError", "unknown metric 'nope'"),
    (["space", "show", "nope.json", "--format", "json"], "InputError", "nope.json"),
])
def test_errors_are_json_under_format_json(argv, kind, fragment, capsys, tmp_path,
                                           monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = _cli(capsys, *argv)
    assert code == 2 and out == ""
    error = json.loads(err)["error"]
    assert error["type"] == kind and error["exit_code"] == 2 and fragment in error["message"]


# ---- resume notices and --samples extension -----------------------------------------------------
def test_calibrate_resumes_and_extends_to_more_samples(capsys, tmp_path):
    """40 samples (4 rounds of 10; runs of fewer than 40 have a short-run schedule) extended
    to 60: two more rounds of 10, the same store as running 60 from the start."""
    store = tmp_path / "s.db"
    base = ["calibrate", "--space", "nb201", "--oracle", "nb201", "--objective",
            "test_acc_c100", "--store", store, "--format", "json"]
    code, out, err = _cli(capsys, *base, "--samples", "40")
    assert code == 0 and "resuming" not in err and json.loads(out)["n_samples"] == 40
    code, out, err = _cli(capsys, *base, "--samples", "60")
    assert code == 0
    assert err == f"resuming 40 samples from {store} (extending the run of 40 to 60)\n"
    history = json.loads(out)["history"]
    assert json.loads(out)["n_samples"] == 60
    assert [(h["round"], h["measured"]) for h in history if h["measured"]] == [(4, 10), (5, 10)]
    # the extension is the same as running 60 samples from the start, for its first 40
    with iqnas.calibration.SampleStore(store, "nb201") as st:
        rounds = st.samples()["round"].tolist()
    assert rounds == [r for r in range(6) for _ in range(10)]
    code, out, err = _cli(capsys, *base, "--samples", "60")
    assert code == 0 and json.loads(out)["n_samples"] == 60
    assert err.startswith("resuming 60 samples from")
    code, _, err = _cli(capsys, *base, "--samples", "50")
    assert code == 2 and "extended to 60 samples; give n_samples (--samples) 60 or more" in err
    code, _, err = _cli(capsys, *base, "--samples", "60", "--seed", "1")
    assert code == 2 and "different settings" in err and "seed=0 (now 1)" in err


def test_sweep_says_it_resumes(capsys, tmp_path):
    rng = __import__("numpy").random.default_rng(0)
    space = iqnas.spaces.get("nb201")
    acc = iqnas.QuadraticForm(space, 0.0, rng.normal(size=space.n_vars)).save(tmp_path / "a.json")
    lat = iqnas.QuadraticForm(space, 0.0, rng.uniform(size=space.n_vars)).save(
        tmp_path / "l.json")
    out = tmp_path / "s.jsonl"
    argv = ["sweep", "--space", "nb201", "--objective", acc, "--constraint", f"lat={lat}",
            "--resource", "lat", "--budgets", "2,3,4", "--out", out, "--format", "json"]
    assert _cli(capsys, *argv, "--budgets", "2,3,4")[0] == 0
    code, _, err = _cli(capsys, *argv)
    assert code == 0 and err == f"resuming 3 finished points (of 3) from {out}\n"
    code, _, err = _cli(capsys, *argv, "-q")
    assert code == 0 and err == ""


def test_usage_errors_are_json_under_format_json(capsys):
    with pytest.raises(SystemExit) as info:
        main(["solve", "--space", "nb201", "--format", "json", "--top-kk", "2"])
    assert info.value.code == 2
    error = json.loads(capsys.readouterr().err)["error"]
    assert error["type"] == "UsageError" and error["exit_code"] == 2
    assert "--top-kk; did you mean '--top-k'?" in error["message"]
