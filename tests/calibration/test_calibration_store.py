"""SampleStore: transactional adds, no duplicates, kill -9 resume, CSV round trips, metadata."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import iqnas
from iqnas import oracles
from iqnas.calibration.store import SampleStore, default_store_path

REPO = Path(__file__).resolve().parents[2]
SPACE = iqnas.spaces.get("nb201")
METRICS = ["test_acc_c100", "help_lat_fpga"]


@pytest.fixture(scope="module")
def nb() -> oracles.NB201Oracle:
    return oracles.nb201(metrics=METRICS)


def distinct(seed: int, n: int) -> list[iqnas.Architecture]:
    return list(dict.fromkeys(SPACE.sample(seed, n=n)))


def test_add_is_idempotent_and_refuses_conflicts(tmp_path: Path, nb) -> None:
    store = SampleStore(tmp_path / "s.db", "nb201")
    archs = distinct(0, 10)
    for i, a in enumerate(archs):
        assert store.add(a, nb.measure(a), round=i // 5, source="uniform")
        assert not store.add(a.key, nb.measure(a), round=9, source="other")  # no-op
    assert len(store) == len(archs) and store.keys() == [a.key for a in archs]
    assert store.metrics == METRICS and archs[3] in store and "garbage" not in store
    assert 5 not in store
    with pytest.raises(iqnas.InputError, match="already stored with help_lat_fpga"):
        store.add(archs[0], {**nb.measure(archs[0]), "help_lat_fpga": 1.0})
    assert store.get(archs[0]) == nb.measure(archs[0])
    other = next(a for a in SPACE.sample(1, n=50) if a not in store)
    with pytest.raises(iqnas.InputError, match="finite"):
        store.add(other, {"test_acc_c100": float("nan"), "help_lat_fpga": 1.0})
    with pytest.raises(iqnas.InputError, match="this store holds"):
        store.add(other, {"test_acc_c100": 50.0})
    with pytest.raises(iqnas.InputError, match="bad metric name"):
        store.add(other, {"round": 1.0})
    assert other not in store and store.get(other) is None and len(store) == len(archs)
    df = store.samples()
    assert list(df.columns) == ["key", *METRICS, "round", "source"]
    assert list(df["key"]) == [a.key for a in archs]
    assert list(df["round"]) == [i // 5 for i in range(len(archs))]
    assert set(df["source"]) == {"uniform"}
    for a, (_, row) in zip(archs, df.iterrows()):
        assert row[METRICS].to_dict() == nb.measure(a)
    assert "timestamp" in store.samples(timestamps=True).columns
    store.close()


def test_add_many_is_all_or_nothing(tmp_path: Path, nb) -> None:
    store = SampleStore(tmp_path / "s.db", "nb201")
    archs = distinct(2, 6)
    store.add(archs[0], nb.measure(archs[0]))
    bad = [(a, nb.measure(a)) for a in archs[1:]] + [(archs[0], {"test_acc_c100": 0.0,
                                                                "help_lat_fpga": 0.0})]
    with pytest.raises(iqnas.InputError, match="conflicting"):
        store.add_many(bad, source="batch")
    assert store.keys() == [archs[0].key]
    assert store.add_many([(a, nb.measure(a)) for a in archs], source="batch") == len(archs) - 1
    assert store.keys() == [a.key for a in archs]


def test_metadata_guards(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "x" / "s.db"
    settings = {"metrics": METRICS, "n_uniform": 50, "alpha": 0.1}
    store = SampleStore(path, "nb201", settings=settings, seed=3)
    store.set_meta("note", {"stage": "uniform"})
    store.close()
    with SampleStore(path, "nb201", settings=dict(reversed(settings.items())), seed=3) as again:
        assert again.meta["settings"] == settings and again.get_meta("seed") == 3
        assert again.get_meta("note") == {"stage": "uniform"} and again.get_meta("nope", 5) == 5
        with pytest.raises(iqnas.InputError, match="fixed"):
            again.set_meta("space", "mobilenet")
    with pytest.raises(iqnas.InputError, match="space 'nb201', not 'mobilenet'.*--store"):
        SampleStore(path, "mobilenet")
    with pytest.raises(iqnas.InputError, match=r"different settings \(n_uniform=50 \(now 60\)"):
        SampleStore(path, "nb201", settings={**settings, "n_uniform": 60})
    with pytest.raises(iqnas.InputError, match="different seed"):
        SampleStore(path, "nb201", seed=4)
    SampleStore(path, "nb201").close()  # no settings given: open without checking
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(iqnas.InputError, match="not a usable"):
        SampleStore(junk, "nb201")
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE people (name TEXT)")
    with pytest.raises(iqnas.InputError, match="not an iqnas sample store"):
        SampleStore(foreign, "nb201")
    with sqlite3.connect(foreign) as conn:  # left untouched
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert tables == {"people"}
    first = default_store_path(tmp_path / "runs")
    assert first.name == "samples.db" and first.parent.parent == tmp_path / "runs"
    first.parent.mkdir(parents=True)
    assert default_store_path(tmp_path / "runs") != first


@pytest.mark.parametrize("space_name", ["nb201", "mobilenet"])
def test_export_import_round_trip(tmp_path: Path, space_name: str) -> None:
    space = iqnas.spaces.get(space_name)
    src = SampleStore(tmp_path / "a.db", space)
    archs = list(dict.fromkeys(space.sample(5, n=25)))
    for i, a in enumerate(archs):
        src.add(a, {"acc": 60 + i / 7, "lat": 1e-3 * (i + 1) / 3}, round=i % 3,
                source="uniform" if i < 10 else "iterative")
    out = src.export_csv(tmp_path / "out" / "samples.csv")
    assert [p.name for p in out.parent.iterdir()] == ["samples.csv"]  # no temp file left
    dst = SampleStore(tmp_path / "b.db", space)
    assert dst.import_csv(out, units={"lat": "ms"}) == len(archs)
    assert dst.samples().equals(src.samples()) and dst.units == {"lat": "ms"}
    assert dst.import_csv(out) == 0  # identical re-import is a no-op
    oracle = oracles.csv_oracle(out, space, metrics=["acc", "lat"])
    assert oracle.measure(archs[4]) == src.get(archs[4])
    src.add(space.sample(99), {"acc": 1.0, "lat": 2.0})
    src.export_csv(out)  # replaces the file
    assert len(oracles.csv_oracle(out, space, metrics=["acc", "lat"])) == len(archs) + 1


def test_bad_import_writes_nothing(tmp_path: Path, nb) -> None:
    store = SampleStore(tmp_path / "s.db", "nb201")
    archs = distinct(3, 4)
    store.add(archs[0], nb.measure(archs[0]), round=0, source="uniform")
    before = store.samples()
    header = "arch,test_acc_c100,help_lat_fpga,round\n"
    good = "".join(f"{a.key},{nb.measure(a)['test_acc_c100']!r},"
                   f"{nb.measure(a)['help_lat_fpga']!r},1\n" for a in archs[1:])
    a0 = archs[0].key
    bad_rows = {
        "nan metric": (f"{archs[0].key},nan,1,1\n", "column 'test_acc_c100'"),
        "unknown op": (f"|bogus_{a0[1:]},1,1,1\n", "column 'arch'"),
        "wrong edge count": ("|none~0|+|none~0|+|none~0|none~1|none~2|,1,1,1\n", "column 'arch'"),
        "conflict in file": (f"{archs[1].key},1,1,1\n", "column 'test_acc_c100'"),
        "conflict with store": (f"{a0},1,{nb.measure(a0)['help_lat_fpga']!r},1\n",
                                "column 'test_acc_c100'"),
        "bad round": (f"{archs[0].key},{nb.measure(a0)['test_acc_c100']!r},"
                      f"{nb.measure(a0)['help_lat_fpga']!r},first\n", "column 'round'"),
    }
    for case, (row, column) in bad_rows.items():
        path = tmp_path / f"{case.replace(' ', '_')}.csv"
        path.write_text(header + good + row)
        with pytest.raises(iqnas.InputError) as info:
            store.import_csv(path, units={"help_lat_fpga": "ms"})
        msg = str(info.value)
        assert f"line {len(archs) + 1}" in msg and column in msg, (case, msg)
        assert store.samples().equals(before) and store.units == {}, case
    (tmp_path / "nokey.csv").write_text("key,test_acc_c100\nx,1\n")
    with pytest.raises(iqnas.InputError, match="line 1: no key column 'arch'"):
        store.import_csv(tmp_path / "nokey.csv")
    (tmp_path / "ok.csv").write_text(header + good)
    assert store.import_csv(tmp_path / "ok.csv") == len(archs) - 1
    assert store.keys() == [a.key for a in archs] and list(store.samples()["round"]) == [0, 1, 1, 1]


WRITER = textwrap.dedent("""
    import sys, time
    import iqnas
    from iqnas import oracles
    from iqnas.calibration.store import SampleStore
    space = iqnas.spaces.get("nb201")
    oracle = oracles.nb201(metrics=["test_acc_c100", "help_lat_fpga"])
    archs = list(dict.fromkeys(space.sample(11, n=int(sys.argv[2]))))
    store = SampleStore(sys.argv[1], space, settings={"n": int(sys.argv[2])}, seed=11)
    for i, a in enumerate(archs):
        if a in store:
            continue
        store.add(a, oracle.measure(a), round=i // 50, source="uniform")
        print(i, flush=True)
        time.sleep(float(sys.argv[3]))
    print("done", flush=True)
""")


def _start(script: Path, db: Path, n: int, pause: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(script), str(db), str(n), str(pause)],
                            stdout=subprocess.PIPE, text=True, cwd=REPO)


N_WRITER = 400


def _check_prefix(db: Path, expected: list[str], nb) -> int:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = SampleStore(db, "nb201", settings={"n": N_WRITER}, seed=11)
    keys = store.keys()
    assert keys == expected[:len(keys)]  # no loss, no duplicate, no reordering
    df = store.samples()
    for key, acc in zip(df["key"], df["test_acc_c100"]):
        assert acc == nb.measure(key)["test_acc_c100"]
    store.close()
    return len(keys)


def test_resume_after_sigkill(tmp_path: Path, nb) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    db = tmp_path / "run" / "samples.db"
    expected = [a.key for a in dict.fromkeys(SPACE.sample(11, n=N_WRITER))]
    counts = []
    for stop_after, pause in ((15, 0.003), (40, 0.001)):
        proc = _start(script, db, N_WRITER, pause)
        seen = 0
        deadline = time.monotonic() + 60
        while seen < stop_after and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line and line != "done\n", "writer finished before it could be killed"
            seen += 1
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL
        counts.append(_check_prefix(db, expected, nb))
    assert 15 <= counts[0] < counts[1] < len(expected)
    proc = _start(script, db, N_WRITER, 0.0)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0 and out.strip().endswith("done")
    assert len(out.split()) - 1 == len(expected) - counts[1]  # only the missing ones were added
    assert _check_prefix(db, expected, nb) == len(expected)


def test_a_store_path_that_cannot_be_created_is_an_input_error(tmp_path):
    """/proc was sqlite's OperationalError ("unable to open database file"), a file on the way
    mkdir's FileExistsError."""
    (tmp_path / "f").write_text("x")
    for path, match in (("/proc/iqnas-test.db", "the folder /proc is not writable"),
                        (tmp_path / "f" / "s.db", "f: is a file, not a folder")):
        with pytest.raises(iqnas.InputError, match=match):
            SampleStore(path, "nb201")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_calibrate_refuses_a_bad_store_path_or_too_few_samples_before_any_work(tmp_path):
    """A file on the store's way was mkdir's FileExistsError, a folder as the store sqlite's
    error; method='regression' with fewer than 5 samples failed after the run (its 5-fold
    cross-validation) and left a store behind."""
    (tmp_path / "f").write_text("x")
    oracle = iqnas.oracles.nb201()
    for kwargs, match in (({"store": tmp_path / "f" / "s.db"}, "f: is a file, not a folder"),
                          ({"store": tmp_path}, "is a folder; give a file path"),
                          ({"store": tmp_path / "r.db", "n_samples": 4,
                            "method": "regression"}, "at least 5 trained samples")):
        args = {"n_samples": 10, **kwargs}
        with pytest.raises(iqnas.InputError, match=match):
            iqnas.calibrate("nb201", oracle, "test_acc_c100", None, progress=False, **args)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]
