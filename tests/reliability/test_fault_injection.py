"""Fault injection (issue 16): SCIP raising mid-solve, a measurement worker killed mid-batch, a
full disk while writing the store (simulated), and kill -9 at random moments of a calibration in
a subprocess. The store always reopens, nothing finished is lost or duplicated, and the run
resumes to what an uninterrupted run gives."""

from __future__ import annotations

import functools
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import measure_helpers as mh
import pytest

import iqnas
from iqnas.calibration import store as store_module
from iqnas.calibration.store import SampleStore
from iqnas.cli import main
from iqnas.errors import InputError, SolverError
from iqnas.executors import ProcessExecutor
from iqnas.oracles import FunctionOracle
from iqnas.solvers.backends import Scip
from iqnas.testing.instances import make

ROOT = Path(__file__).resolve().parents[2]
SPACE = iqnas.spaces.get("nb201")
CALIBRATE = ["calibrate", "--space", "nb201", "--oracle", "nb201", "--objective",
             "test_acc_c100", "--constraint", "params_M_c100=0.8", "--samples", "60", "-q"]


def _keys(path: Path) -> list[str]:
    with SampleStore(path, SPACE) as st:
        return st.keys()


def _check_store(path: Path) -> list[str]:
    """The store reopens, passes SQLite's integrity check and holds no key twice."""
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    keys = _keys(path)
    assert len(keys) == len(set(keys))
    return keys


@pytest.fixture(scope="module")
def reference_keys(tmp_path_factory):
    """The samples of an uninterrupted calibration, in the order they were stored."""
    path = tmp_path_factory.mktemp("ref") / "ref.db"
    assert main([*CALIBRATE, "--store", str(path)]) == 0
    return _keys(path)


# ---- SCIP raising mid-solve ---------------------------------------------------------------------
def test_scip_raising_mid_sweep_is_one_line_and_the_sweep_resumes(monkeypatch, tmp_path,
                                                                  capsys):
    problem = make("nb201-dense", 0, n_constraints=1)
    budgets = [3.0, 3.5, 4.0, 4.5, 5.0]
    reference = iqnas.sweep(problem, "latency", budgets, reuse=False).to_dataframe()
    real = Scip.solve
    calls = []

    def explode(self, p, options):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("SCIP: LP solver error\nmore detail")
        return real(self, p, options)

    monkeypatch.setattr(Scip, "solve", explode)
    out = tmp_path / "s.jsonl"
    with pytest.raises(SolverError, match=r"^solver 'scip' failed: RuntimeError: SCIP: LP "
                                          r"solver error$"):
        iqnas.sweep(problem, "latency", budgets, out=out, reuse=False)
    lines = out.read_text().splitlines()
    assert [json.loads(x)["point"] for x in lines[1:]] == [0, 1]
    calls.clear()
    monkeypatch.setattr(Scip, "solve", explode)
    # the CLI: one line, exit 1, the resume command
    acc = problem.objective.save(tmp_path / "acc.npz")
    lat = problem.constraints[0].form.save(tmp_path / "lat.npz")
    cli_out = tmp_path / "cli.jsonl"
    code = main(["sweep", "--space", "nb201", "--objective", str(acc), "--constraint",
                 f"latency={lat}", "--resource", "latency", "--budgets", "3,3.5,4,4.5,5",
                 "--no-reuse", "--out", str(cli_out), "-q"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("solver error: solver 'scip' failed: RuntimeError: SCIP: LP solver "
                          "error; 2 finished points are kept in ")
    monkeypatch.setattr(Scip, "solve", real)
    again = iqnas.sweep(problem, "latency", budgets, out=out, reuse=False)
    assert again.resumed == 2
    cols = ["point", "status", "objective", "key"]
    assert again.to_dataframe()[cols].equals(reference[cols])


# ---- a measurement worker killed mid-batch -------------------------------------------------------
def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(tmp_path):
    serial = iqnas.calibrate(SPACE, FunctionOracle(mh.score, ["score"], SPACE), "score",
                             n_samples=30, store=tmp_path / "serial.db", progress=False)
    victim = serial.samples["key"].iloc[12]
    fn = functools.partial(mh.kill_once, marker=str(tmp_path / "killed"), victim=victim)
    with ProcessExecutor(2) as ex:
        run = iqnas.calibrate(SPACE, FunctionOracle(fn, ["score"], SPACE), "score",
                              n_samples=30, store=tmp_path / "pool.db", progress=False,
                              executor=ex)
    assert (tmp_path / "killed").exists()  # the worker did die
    keys = _check_store(tmp_path / "pool.db")
    assert keys == serial.samples["key"].tolist()
    assert run.samples["score"].tolist() == serial.samples["score"].tolist()


# ---- a full disk while writing the store ---------------------------------------------------------
class _FullDisk:
    """A sqlite3 connection whose n-th sample INSERT fails as a full disk does."""

    def __init__(self, conn, fail_at: int, counter: list) -> None:
        self._conn, self._fail_at, self._counter = conn, fail_at, counter

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def execute(self, sql, *args):
        return self._conn.execute(sql, *args)

    def cursor(self):
        return _FullDiskCursor(self._conn.cursor(), self._fail_at, self._counter)


class _FullDiskCursor:
    def __init__(self, cur, fail_at: int, counter: list) -> None:
        self._cur, self._fail_at, self._counter = cur, fail_at, counter

    def __getattr__(self, name):
        return getattr(self._cur, name)

    def __iter__(self):
        return iter(self._cur)

    def execute(self, sql, *args):
        if sql.startswith("INSERT INTO samples"):
            self._counter.append(1)
            if len(self._counter) == self._fail_at:
                raise sqlite3.OperationalError("database or disk is full")
        return self._cur.execute(sql, *args)


def test_a_full_disk_keeps_what_was_stored_and_the_run_resumes(monkeypatch, tmp_path, capsys,
                                                               reference_keys):
    real_connect = sqlite3.connect
    counter: list = []

    def connect(*args, **kw):
        conn = real_connect(*args, **kw)
        return conn if kw.get("uri") else _FullDisk(conn, 25, counter)

    monkeypatch.setattr(store_module.sqlite3, "connect", connect)
    path = tmp_path / "full.db"
    code = main([*CALIBRATE, "--store", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err == (f"error: writing the store {path} failed (database or disk is full); the "
                   "samples stored before are kept: free some space (or fix the file's "
                   "permissions) and run again to resume\n")
    monkeypatch.setattr(store_module.sqlite3, "connect", real_connect)
    # nothing lost: the samples stored before the disk filled, in the reference run's order
    # (a sample trained after its resource-only look-up keeps its place)
    assert _check_store(path) == reference_keys[:24]
    assert main([*CALIBRATE, "--store", str(path)]) == 0
    capsys.readouterr()
    assert _check_store(path) == reference_keys


def test_a_full_disk_during_a_failure_record_is_one_line(monkeypatch, tmp_path):
    with SampleStore(tmp_path / "s.db", SPACE) as st:
        st.add(SPACE.arch([0] * 6), {"m": 1.0})
        st._opened = True
        st._conn = _FullDisk(st._conn, 1, [])
        with pytest.raises(InputError, match="database or disk is full"):
            st.add(SPACE.arch([1] * 6), {"m": 2.0})
        assert len(st) == 1


# ---- kill -9 at random moments -------------------------------------------------------------------
def _kill_and_resume(path: Path, kills: int, seed: int, duration: float, log: Path,
                     reference: list[str]) -> int:
    """Run the calibration and kill -9 it after a random delay, ``kills`` times, each run
    resuming the store the killed one left; a run that finished before its kill must hold the
    reference samples, and the next one starts a fresh store. Then finish the run. Returns how
    many runs were started."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    argv = [sys.executable, "-m", "iqnas", *CALIBRATE, "--store", str(path)]
    rng = random.Random(seed)
    hits = runs = 0
    while hits < kills:
        runs += 1
        assert runs <= 3 * kills, f"only {hits} of {runs} kills landed in a running calibration"
        with open(log, "a") as err:
            proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err)
        time.sleep(rng.uniform(0.3, duration))
        hit = proc.poll() is None
        if hit:
            proc.send_signal(signal.SIGKILL)
            hits += 1
        code = proc.wait(timeout=120)
        if path.exists():
            keys = _check_store(path)  # reopens after every kill, nothing duplicated
            assert keys == reference[:len(keys)]  # nothing lost: a prefix of the reference
        if not hit:
            assert code == 0, log.read_text()
            assert _check_store(path) == reference
            for p in path.parent.glob(path.name + "*"):
                p.unlink()
    with open(log, "a") as err:
        assert subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=err,
                              timeout=300).returncode == 0, log.read_text()
    return runs


def _duration(tmp_path: Path) -> float:
    """Seconds of one whole calibration in a subprocess (imports included)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "iqnas", *CALIBRATE, "--store",
                    str(tmp_path / "timing.db")], env=env, check=True,
                   stdout=subprocess.DEVNULL, timeout=300)
    return time.monotonic() - t0


def test_kill_9_at_3_random_moments_resumes_exactly(tmp_path, reference_keys):
    path = tmp_path / "killed.db"
    _kill_and_resume(path, 3, 7, _duration(tmp_path), tmp_path / "log.txt", reference_keys)
    assert _check_store(path) == reference_keys


@pytest.mark.slow
def test_kill_9_at_20_random_moments_resumes_exactly(tmp_path, reference_keys):
    path = tmp_path / "killed.db"
    _kill_and_resume(path, 20, 16, _duration(tmp_path), tmp_path / "log.txt", reference_keys)
    assert _check_store(path) == reference_keys
