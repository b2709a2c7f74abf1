"""The sweep file: written as points finish, resumed after an interruption, refused when it
belongs to another sweep."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from sweep_helpers import HERE, RES, load_problem

import iqnas
from iqnas.errors import InputError
from iqnas.sweeps import budget_range

COLUMNS = ["point", "budget", "status", "feasible", "objective", "key", RES]
BUDGETS = budget_range(1.0, 8.7, 10)


@pytest.fixture(scope="module")
def forms(tmp_path_factory, linear_accuracy, fpga_form):
    d = tmp_path_factory.mktemp("forms")
    return {"acc": linear_accuracy.save(d / "acc.npz"), "lat": fpga_form.save(d / "lat.npz")}


@pytest.fixture(scope="module")
def reference(forms):
    return iqnas.sweep(load_problem(forms), RES, BUDGETS).to_dataframe()[COLUMNS]


def _points_on_file(path):
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert lines[0]["kind"] == "header"
    return [x["point"] for x in lines[1:]]


def test_file_is_written_as_points_finish(forms, reference, tmp_path):
    out = tmp_path / "s.jsonl"
    seen = []

    def check(row):  # each point is on file before the next one starts
        seen.append(row.point)
        assert sorted(_points_on_file(out)) == sorted(seen)

    sweep = iqnas.sweep(load_problem(forms), RES, BUDGETS, out=out, progress=check)
    assert sweep.to_dataframe()[COLUMNS].equals(reference)
    assert sorted(_points_on_file(out)) == list(range(10)) and sweep.resumed == 0
    again = iqnas.sweep(load_problem(forms), RES, BUDGETS, out=out, progress=seen.append)
    assert again.resumed == 10 and len(seen) == 10  # nothing left to solve
    assert again.to_dataframe()[COLUMNS].equals(reference)


def test_resume_after_truncation_mid_line(forms, reference, tmp_path):
    full = tmp_path / "full.jsonl"
    iqnas.sweep(load_problem(forms), RES, BUDGETS, out=full)
    lines = full.read_text().splitlines(keepends=True)
    part = tmp_path / "part.jsonl"
    part.write_text("".join(lines[:5]) + lines[5][:40])  # header, 4 points, half a line
    sweep = iqnas.sweep(load_problem(forms), RES, BUDGETS, out=part)
    assert sweep.resumed == 4
    assert sweep.to_dataframe()[COLUMNS].equals(reference)
    points = _points_on_file(part)
    assert sorted(points) == list(range(10)) and len(points) == len(set(points))


def test_resume_after_the_process_is_killed(forms, reference, tmp_path):
    out = tmp_path / "killed.jsonl"
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(HERE)!r})
        from sweep_helpers import RES, load_problem
        import iqnas
        from iqnas.sweeps import budget_range
        n = []
        def die(row):
            n.append(row)
            if len(n) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
        iqnas.sweep(load_problem({{"acc": {str(forms['acc'])!r}, "lat": {str(forms['lat'])!r}}}),
                    RES, budget_range(1.0, 8.7, 10), out={str(out)!r}, progress=die, jobs=2)
    """)
    log = tmp_path / "stderr.txt"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL,
                                stderr=err, start_new_session=True)
        try:
            assert proc.wait(timeout=120) == -signal.SIGKILL, log.read_text()
            deadline = time.monotonic() + 10  # its workers notice and exit too
            while _alive(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not _alive(proc.pid), "worker processes outlived the killed sweep"
        finally:
            if _alive(proc.pid):
                os.killpg(proc.pid, signal.SIGKILL)
    done = _points_on_file(out)
    assert 3 <= len(done) < 10
    sweep = iqnas.sweep(load_problem(forms), RES, BUDGETS, out=out)
    assert sweep.resumed == len(done)
    assert sweep.to_dataframe()[COLUMNS].equals(reference)
    points = _points_on_file(out)
    assert sorted(points) == list(range(10)) and len(points) == 10


def test_an_exception_mid_sweep_keeps_the_finished_points(forms, reference, tmp_path):
    out = tmp_path / "stopped.jsonl"
    seen = []

    def stop(row):
        seen.append(row.point)
        if len(seen) == 2:
            raise KeyboardInterrupt

    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        iqnas.sweep(load_problem(forms), RES, BUDGETS, out=out, progress=stop, jobs=2)
    assert time.monotonic() - t0 < 60
    assert sorted(_points_on_file(out)) == sorted(seen)
    sweep = iqnas.sweep(load_problem(forms), RES, BUDGETS, out=out)
    assert sweep.resumed == 2 and sweep.to_dataframe()[COLUMNS].equals(reference)


def _alive(group: int) -> bool:
    """Whether any process of the process group ``group`` is still running."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_file_of_another_sweep_is_refused(forms, tmp_path, linear_accuracy):
    out = tmp_path / "s.jsonl"
    iqnas.sweep(load_problem(forms), RES, BUDGETS[:3], out=out)
    before = out.read_bytes()
    with pytest.raises(InputError, match=r"different sweep \(budgets differ\)"):
        iqnas.sweep(load_problem(forms), RES, BUDGETS[:4], out=out)
    other = load_problem(forms).replace(objective=linear_accuracy * 2.0)
    with pytest.raises(InputError, match=r"different sweep \(problem differ\)"):
        iqnas.sweep(other, RES, BUDGETS[:3], out=out)
    with pytest.raises(InputError, match=r"different sweep \(settings differ\)"):
        iqnas.sweep(load_problem(forms), RES, BUDGETS[:3], out=out, gap=0.01)
    assert out.read_bytes() == before
    # warm starts, reuse and jobs change only the speed: the file resumes
    iqnas.sweep(load_problem(forms), RES, BUDGETS[:3], out=out, reuse=False, warm_start=False)
    assert out.read_bytes() == before
    junk = tmp_path / "junk.jsonl"
    junk.write_text("hello\nworld\n")
    with pytest.raises(InputError, match="not an iqnas sweep file"):
        iqnas.sweep(load_problem(forms), RES, BUDGETS[:3], out=junk)
    damaged = tmp_path / "damaged.jsonl"
    lines = before.decode().splitlines(keepends=True)
    damaged.write_text(lines[0] + "{oops\n" + "".join(lines[1:]))
    with pytest.raises(InputError, match="line 2 is not valid JSON"):
        iqnas.sweep(load_problem(forms), RES, BUDGETS[:3], out=damaged)


def test_nothing_is_written_when_the_sweep_fails_early(forms, tmp_path):
    out = tmp_path / "none.jsonl"
    with pytest.raises(InputError, match="SCIP parameter names to values. Got 'no/such' instead"):
        iqnas.sweep(load_problem(forms), RES, BUDGETS[:3], out=out,
                    solver=iqnas.solvers.Scip(scip_params={"no/such": 1}))
    assert not out.exists()


def test_an_out_path_that_cannot_be_written_is_refused_before_any_point(forms, tmp_path):
    """It was the FileNotFoundError of the first point's write, after that point was solved."""
    seen = []
    for out, match in ((tmp_path / "nodir" / "s.jsonl", "the folder .*nodir does not exist"),
                       (forms["acc"] / "s.jsonl", ".*acc.npz is a file, not a folder")):
        with pytest.raises(InputError, match=f"^sweep file {out}: {match}"):
            iqnas.sweep(load_problem(forms), RES, BUDGETS, out=out, progress=seen.append)
    assert seen == [] and not (tmp_path / "nodir").exists()
