"""Under ``--format json`` stdout carries the JSON result alone, also with ``-v``: a solver's
own log (SCIP's C code writes to file descriptor 1) and every progress line go to stderr."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import iqnas
from iqnas.cli import main
from iqnas.solvers.c_output import c_stdout_redirected


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    d = tmp_path_factory.mktemp("json_stdout")
    space = iqnas.spaces.get("nb201")
    rng = np.random.default_rng(0)
    obj = iqnas.QuadraticForm(space, 0, rng.normal(size=30), rng.normal(size=(30, 30)))
    lat = iqnas.QuadraticForm(space, 1.0, np.abs(rng.normal(size=30)), units="ms")
    return {"obj": obj.save(d / "obj.json"), "lat": lat.save(d / "lat.json"), "dir": d}


def _solve_args(forms, *extra):
    return ["solve", "--space", "nb201", "--objective", forms["obj"], "--constraint",
            f"latency_ms={forms['lat']}:4.0", *extra]


def _json_run(capfd, argv):
    """Run the CLI with ``--format json -v``; (exit code, parsed stdout, stderr)."""
    code = main([str(a) for a in [*argv, "--format", "json", "-v"]])
    out, err = capfd.readouterr()
    try:
        data = json.loads(out)
    except ValueError:
        pytest.fail(f"stdout is not JSON alone: {out[:300]!r}")
    return code, data, err


def test_verbose_scip_log_goes_to_stderr_not_into_the_json(forms, capfd):
    code, data, err = _json_run(capfd, _solve_args(forms))
    assert code == 0 and data["status"] == "optimal"
    assert "presolving" in err and "SCIP Status" in err  # the log is still shown


def test_verbose_top_k_json_is_clean(forms, capfd):
    code, data, err = _json_run(capfd, _solve_args(forms, "--top-k", "2"))
    assert code == 0 and len(data) == 2 and data[0]["objective"] >= data[1]["objective"]
    assert err.count("SCIP Status") >= 2


def test_verbose_cvxpy_solver_output_goes_to_stderr(forms):
    """In a fresh process: cvxpy binds its log handler to the sys.stderr of its import."""
    pytest.importorskip("cvxpy")
    argv = [str(a) for a in _solve_args(forms, "--solver", "cvxpy", "--format", "json", "-v")]
    proc = subprocess.run([sys.executable, "-m", "iqnas", *argv], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "optimal"
    assert "CVXPY" in proc.stderr


def test_space_save_prints_json_under_format_json(forms, capfd):
    out = forms["dir"] / "space.json"
    code, data, _ = _json_run(capfd, ["space", "save", "nb201", out])
    space = iqnas.spaces.get("nb201")
    assert code == 0 and out.is_file()
    assert data == {"out": str(out), "space": "nb201", "size": 15625,
                    "content_hash": space.content_hash()}


@pytest.mark.parametrize("argv", [
    ["spaces"], ["solvers"], ["doctor"], ["space", "show", "nb201"],
    ["sweep", "--space", "nb201", "--objective", "{obj}", "--constraint",
     "latency_ms={lat}:4.0", "--resource", "latency_ms", "--budgets", "3,4"],
    ["explain", "{obj}", "--space", "nb201", "--top", "3"],
], ids=lambda a: " ".join(a[:2]))
def test_other_commands_print_json_alone_with_verbose(argv, forms, capfd):
    code, _, _ = _json_run(capfd, [a.format(**forms) for a in argv])
    assert code == 0


def test_redirect_restores_stdout_and_keeps_earlier_output(capfd):
    import os

    os.write(1, b"before\n")
    with c_stdout_redirected("stderr"):
        os.write(1, b"inside\n")
    with c_stdout_redirected("null"):
        os.write(1, b"dropped\n")
    os.write(1, b"after\n")
    out, err = capfd.readouterr()
    assert out == "before\nafter\n" and err == "inside\n"
    with pytest.raises(ValueError, match="stderr"):
        with c_stdout_redirected("stdout"):
            pass
