"""A calibration subprocess killed with SIGKILL and resumed ends with exactly the samples of an
uninterrupted run with the same seed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import iqnas

SCRIPT = """
import sys, time
import iqnas
from iqnas.calibration import calibrate

class SlowOracle:
    def __init__(self):
        self.inner = iqnas.oracles.nb201("cifar100")
        self.space, self.metrics, self.units = self.inner.space, self.inner.metrics, self.inner.units
    def measure(self, arch):
        time.sleep(float(sys.argv[2]))
        return self.inner.measure(arch)

calibrate("nb201", SlowOracle(), "test_acc_c100", {"help_lat_fpga": 3.0}, 60, seed=3,
          store=sys.argv[1], rounds=3, progress=False)
"""


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as con:
            return con.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
    except sqlite3.Error:
        return 0


def _rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT key, metrics, round, source FROM samples ORDER BY seq").fetchall()


def test_killed_run_resumes_to_identical_samples(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(Path(iqnas.__file__).parents[1])}
    ref = tmp_path / "ref.db"
    subprocess.run([sys.executable, script, ref, "0"], check=True, env=env, timeout=600)
    db = tmp_path / "killed.db"
    for kill_at in (12, 35):    # once in the first round, once in the middle of round 2
        proc = subprocess.Popen([sys.executable, script, db, "0.05"], env=env)
        deadline = time.time() + 300
        while _count(db) < kill_at and time.time() < deadline and proc.poll() is None:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert 0 < _count(db) < 60
    subprocess.run([sys.executable, script, db, "0"], check=True, env=env, timeout=600)
    assert _rows(db) == _rows(ref)
    assert len(_rows(ref)) == 60
