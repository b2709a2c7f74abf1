"""Ctrl-C (SIGINT) stops a sweep, a solve and a calibration at once (exit 130), keeps what was
finished, marks nothing cut short as final, and says how to resume (issue 16, defect 1)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import iqnas
from iqnas.cli import main
from iqnas.solvers.backends import Scip
from iqnas.solvers.base import RawSolution
from iqnas.status import Status
from iqnas.sweeps.store import SweepStore
from iqnas.testing.instances import make

ROOT = Path(__file__).resolve().parents[2]
#: SCIP needs 9-15 s for one point of this problem: a SIGINT lands mid-solve
HARD = "dense-0.01"


@pytest.fixture(scope="module")
def hard_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("hard")
    p = make(HARD, 0, n_constraints=1)
    c = p.constraints[0]
    return {"obj": p.objective.save(d / "obj.npz"), "lat": c.form.save(d / "lat.npz"),
            "budget": c.budget}


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def _default_sigint() -> None:
    """In the child before exec: SIGINT handled and unblocked as in a terminal, whatever an
    earlier test left in the test process (an ignored or blocked SIGINT is inherited)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _start(argv: list[str], cwd: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "iqnas", *map(str, argv)], cwd=cwd,
                            env=_env(), stdout=subprocess.DEVNULL, stderr=open(log, "w"),
                            preexec_fn=_default_sigint)


def _interrupt(proc: subprocess.Popen) -> float:
    """SIGINT, then the seconds until the process has exited."""
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return time.monotonic() - t0


def _points(path: Path) -> list[dict]:
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert lines[0]["kind"] == "header"
    return lines[1:]


def test_sigint_stops_a_sweep_within_2s_and_the_file_resumes(hard_files, tmp_path):
    out = tmp_path / "sweep.jsonl"
    log = tmp_path / "stderr.txt"
    # two budgets below the smallest latency (infeasible, proven at once), then a hard point
    argv = ["sweep", "--space", "mobilenet", "--objective", hard_files["obj"], "--constraint",
            f"latency={hard_files['lat']}", "--resource", "latency", "--budgets",
            f"1,2,{hard_files['budget']:.6f}", "--no-reuse", "--out", out, "-q"]
    proc = _start(argv, tmp_path, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and len(out.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, log.read_text()
    time.sleep(1.5)  # SCIP is now inside the hard point
    took = _interrupt(proc)
    err = log.read_text()
    assert proc.returncode == 130, err
    assert took < 2.0, f"the sweep took {took:.2f} s to stop"
    assert "Traceback" not in err
    assert err.startswith("interrupted; 2 finished points are kept in ") and "sweep.jsonl" in err
    assert "to resume" in err and "iqnas sweep --space mobilenet" in err
    done = _points(out)
    assert sorted(p["point"] for p in done) == [0, 1]
    assert all(p["status"] == "infeasible" and p["raw_status"] != "userinterrupt" for p in done)


def test_sigint_stops_a_solve(hard_files, tmp_path):
    log = tmp_path / "stderr.txt"
    proc = _start(["solve", "--space", "mobilenet", "--objective", hard_files["obj"],
                   "--constraint", f"latency={hard_files['lat']}:{hard_files['budget']}"],
                  tmp_path, log)
    time.sleep(4.0)  # imports, the build and the local search: SCIP is running
    assert proc.poll() is None, log.read_text()
    took = _interrupt(proc)
    assert proc.returncode == 130, log.read_text()
    assert took < 2.0
    assert log.read_text().strip() == "interrupted; nothing was saved (a solve keeps no partial " \
                                      "answer)"


# ---- the same contract in process: a backend that reports a user interrupt ----------------------
def _interrupt_nth_solve(monkeypatch, n: int) -> None:
    """SCIP's n-th solve comes back as 'userinterrupt' with an incumbent (what Ctrl-C gives)."""
    real = Scip.solve
    calls = []

    def solve(self, problem, options):
        raw = real(self, problem, options)
        calls.append(1)
        if len(calls) == n:
            return RawSolution(Status.FEASIBLE, "userinterrupt", x=raw.x)
        return raw

    monkeypatch.setattr(Scip, "solve", solve)


def test_an_interrupted_point_is_never_saved_and_is_solved_on_resume(monkeypatch, tmp_path):
    problem = make("nb201-dense", 0, n_constraints=1)
    budgets = [3.0, 3.5, 4.0, 4.5]
    reference = iqnas.sweep(problem, "latency", budgets, reuse=False).to_dataframe()
    _interrupt_nth_solve(monkeypatch, 3)
    out = tmp_path / "s.jsonl"
    with pytest.raises(KeyboardInterrupt):
        iqnas.sweep(problem, "latency", budgets, out=out, reuse=False)
    assert [p["point"] for p in _points(out)] == [0, 1]
    monkeypatch.undo()
    again = iqnas.sweep(problem, "latency", budgets, out=out, reuse=False)
    assert again.resumed == 2
    cols = ["point", "status", "objective", "key"]
    assert again.to_dataframe()[cols].equals(reference[cols])


def test_solve_raises_keyboardinterrupt_on_a_user_interrupt(monkeypatch):
    _interrupt_nth_solve(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt, match="userinterrupt"):
        iqnas.solve(make("nb201-dense", 0, n_constraints=1))


def test_a_file_with_an_interrupted_point_resolves_it(tmp_path):
    """Files of older versions kept points cut short by Ctrl-C as final: they are solved again."""
    problem = make("nb201-dense", 0, n_constraints=1)
    budgets = [3.0, 4.0]
    out = tmp_path / "old.jsonl"
    full = iqnas.sweep(problem, "latency", budgets, out=out, reuse=False)
    lines = out.read_text().splitlines()
    row = json.loads(lines[2])
    row["raw_status"] = "userinterrupt"
    row["objective"] = -1.0
    out.write_text("\n".join([lines[0], lines[1], json.dumps(row)]) + "\n")
    points = {p.index: p for p in iqnas.sweeps.points.make_points(budgets, None)}
    header = json.loads(lines[0])
    store = SweepStore(out, {k: v for k, v in header.items()
                             if k not in ("kind", "format", "iqnas")}, points)
    assert sorted(store.rows) == [0]
    again = iqnas.sweep(problem, "latency", budgets, out=out, reuse=False)
    assert again.resumed == 1
    assert again.to_dataframe()["objective"].tolist() == full.to_dataframe()["objective"].tolist()


def test_ctrl_c_during_calibrate_names_the_store_and_the_resume_command(tmp_path, capsys,
                                                                         monkeypatch):
    from iqnas.oracles.nb201 import NB201Oracle

    calls = []
    real = NB201Oracle.measure

    def measure(self, arch):
        calls.append(arch)
        if len(calls) == 15:
            raise KeyboardInterrupt
        return real(self, arch)

    monkeypatch.setattr(NB201Oracle, "measure", measure)
    monkeypatch.chdir(tmp_path)
    argv = ["calibrate", "--space", "nb201", "--oracle", "nb201", "--objective",
            "test_acc_c100", "--samples", "30", "-q"]
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert err.startswith("interrupted; the 14 samples measured so far are in runs/")
    store = err.split(" are in ")[1].split(";")[0]
    assert f"run again: iqnas calibrate --space nb201 --oracle nb201 --objective " \
           f"test_acc_c100 --samples 30 -q --store {store}" in err
    monkeypatch.setattr(NB201Oracle, "measure", real)
    assert main([*argv[:-1], "--store", store, "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert f"resuming 14 samples from {store}" in captured.err
    assert json.loads(captured.out)["n_samples"] == 30
