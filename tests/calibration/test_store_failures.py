"""Failed measurements in the sample store: recorded apart from samples, never fitted, not
retried unless asked; version-1 stores are upgraded in place and stay readable."""

from __future__ import annotations

import functools
import json
import sqlite3
import time

import measure_helpers as mh
import pytest

import iqnas
from iqnas.calibration import measure_batch
from iqnas.calibration.store import SCHEMA_VERSION, SampleStore
from iqnas.errors import InputError
from iqnas.oracles import FunctionOracle

SPACE = iqnas.spaces.get("nb201")


def archs(n: int, seed: int = 0) -> list[iqnas.Architecture]:
    return list(dict.fromkeys(SPACE.sample(seed, n=n)))


def test_failures_are_kept_apart_and_accumulate(tmp_path):
    a, b = archs(2)
    with SampleStore(tmp_path / "s.db", SPACE) as st:
        st.add(a, {"score": 1.0})
        assert st.add_failure(b, "boom", round=2, source="measure")
        assert st.add_failure(b.key, "boom again")
        assert not st.add_failure(a, "ignored: a has a sample")
        assert st.failure(b) == {"error": "boom again", "attempts": 2, "round": 0, "source": ""}
        assert st.failure(a) is None and st.failed_keys() == [b.key]
        assert list(st.samples()["key"]) == [a.key] and len(st) == 1 and b not in st
        assert st.failures().to_dict("records") == [
            {"key": b.key, "error": "boom again", "attempts": 2, "round": 0, "source": ""}]
        st.add(b, {"score": 2.0})  # a later success clears the failure
        assert st.failure(b) is None and st.failed_keys() == [] and len(st) == 2
        with pytest.raises(InputError, match="non-empty error"):
            st.add_failure(a, "  ")


def test_a_version_1_store_is_upgraded_and_keeps_its_samples(tmp_path):
    path = tmp_path / "v1.db"
    a = archs(1)[0]
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE samples (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE,
            metrics TEXT NOT NULL, round INTEGER NOT NULL, source TEXT NOT NULL,
            created REAL NOT NULL);
    """)
    for name, value in (("schema_version", 1), ("space", "nb201"), ("metrics", ["score"])):
        con.execute("INSERT INTO meta VALUES (?, ?)", (name, json.dumps(value)))
    con.execute("INSERT INTO samples (key, metrics, round, source, created) VALUES (?,?,?,?,?)",
                (a.key, json.dumps({"score": 3.5}), 1, "uniform", time.time()))
    con.commit()
    con.close()
    with SampleStore(path, SPACE) as st:
        assert st.get_meta("schema_version") == SCHEMA_VERSION == 3
        assert st.samples()[["key", "score", "round"]].values.tolist() == [[a.key, 3.5, 1]]
        assert st.failed_keys() == []


def test_a_batch_records_failures_and_a_rerun_does_not_retry_them(tmp_path):
    batch = archs(6, seed=1)
    victim = batch[2]
    oracle = FunctionOracle(functools.partial(mh.nan_for, victim=victim.key), ["score"], SPACE)
    with SampleStore(tmp_path / "s.db", SPACE) as st:
        rep = measure_batch(oracle, batch, st, round=3,
                            source={batch[0].key: "iqp", victim.key: "explore"})
        assert rep.failed == {victim.key: st.failure(victim)["error"]}
        assert st.failure(victim)["source"] == "explore" and st.failure(victim)["round"] == 3
        sources = dict(zip(st.samples()["key"], st.samples()["source"]))
        assert sources[batch[0].key] == "iqp" and sources[batch[1].key] == "measure"
        assert "score = nan" in rep.failed[victim.key]
        assert sorted(rep.measured) == sorted(a.key for a in batch if a != victim)
        assert victim.key not in set(st.samples()["key"])
        for a in batch:
            if a != victim:
                assert st.get(a) == mh.score(a)
        again = measure_batch(oracle, batch, st)
        assert again.measured == [] and again.skipped_failed == [victim.key]
        assert st.failure(victim)["attempts"] == 1
        fixed = FunctionOracle(mh.score, ["score"], SPACE)
        retry = measure_batch(fixed, batch, st, retry_failed=True)
        assert retry.measured == [victim.key] and st.get(victim) == mh.score(victim)
        assert st.failed_keys() == []


def test_a_batch_refuses_other_metrics_than_the_store_holds(tmp_path):
    with SampleStore(tmp_path / "s.db", SPACE) as st:
        measure_batch(FunctionOracle(mh.score, ["score"], SPACE), archs(2), st)
        with pytest.raises(InputError, match="holds metrics score"):
            measure_batch(FunctionOracle(mh.noisy, ["draw", "seed"], SPACE), archs(2), st)
        with pytest.raises(InputError, match="measures space 'mobilenet'"):
            measure_batch(FunctionOracle(mh.score, ["score"], "mobilenet"), archs(2), st)
