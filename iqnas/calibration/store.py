"""Crash-safe SQLite store of measured samples, so an interrupted calibration run can resume.

Every ``add`` is its own transaction: after Ctrl-C or kill -9 the file holds exactly the samples
added so far. Samples are unique by canonical architecture key; re-adding a key with the same
metric values is a no-op, different values raise InputError. The ``meta`` table records the space,
seed and settings a store was created for, and the space's content hash; opening it for
another space (by name or, for spaces of the same name, by content) or other settings is
refused. The store has one list of metric names; values must be finite.

A sample may hold only some of the metrics (``add(..., partial=True)``): a resource-only
measurement (latency, memory: cheap) of a network that was not trained (its accuracy: expensive).
Each sample records its measurements (``measurements(arch)``: round, source and the metrics of
each); a later measurement of the same key that adds metrics (training a network whose latency
was looked up) extends the sample in place with the new round and source: it keeps its place
in the insertion order (``keys()``; so an interrupted store is a prefix of the uninterrupted
one), while ``samples()``, the rows the calibration rounds fit on, lists the samples in the
order of their latest measurement (each extending measurement takes the next value of the
samples' sequence as its place; stores of earlier versions, which moved the row instead,
read the same).
``samples()`` shows a metric a sample lacks as NaN; fitting uses only the rows where it is
finite.

A measurement that failed is kept apart, in the ``failures`` table (key, error text, attempts):
``samples()`` and everything fitted from it never see it, and a recorded failure is not measured
again unless asked (``measure_batch(..., retry_failed=True)``). Storing a sample for a key
removes its failure record. Schema version 2 added that table, version 3 the per-sample
``measured`` column (a JSON list of the sample's measurements); older stores are upgraded in
place when opened (their samples are unchanged: NULL means one measurement of every metric in
the row's round and source).
"""

from __future__ import annotations

import csv
import functools
import json
import logging
import math
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from iqnas import spaces
from iqnas._outputs import check_output_dir
from iqnas.errors import InputError
from iqnas.oracles.csv_oracle import read_measurements
from iqnas.space import Architecture, SearchSpace

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
#: older schema versions this iqnas upgrades in place when it opens a store
_UPGRADABLE = (1, 2)
RESERVED = ("key", "arch", "round", "source", "timestamp", "seq")
_PROTECTED_META = ("space", "space_hash", "schema_version")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    metrics TEXT NOT NULL,
    round INTEGER NOT NULL,
    source TEXT NOT NULL,
    created REAL NOT NULL,
    measured TEXT
);
CREATE TABLE IF NOT EXISTS failures (
    key TEXT PRIMARY KEY,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    round INTEGER NOT NULL,
    source TEXT NOT NULL,
    created REAL NOT NULL
);
"""


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _reads(method: _Method) -> _Method:
    """A read of the store: pages damaged after it was opened show only when they are read;
    they are a one-line InputError naming the file, not a raw sqlite3 error."""

    @functools.wraps(method)
    def read(self: SampleStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.DatabaseError, json.JSONDecodeError) as exc:
            raise self._unreadable(exc) from None

    return read  # type: ignore[return-value]


def default_store_path(run_dir: str | Path = "runs") -> Path:
    """A fresh ``<run_dir>/<YYYYmmdd-HHMMSS>/samples.db`` path (the directory is not created)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(run_dir) / stamp
    candidate, n = base, 1
    while candidate.exists():
        candidate = base.with_name(f"{stamp}-{n}")
        n += 1
    return candidate / "samples.db"


def stored_samples(path: str | Path) -> int:
    """How many samples the store at ``path`` holds (0 if there is none or it is no store);
    read-only."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return 0
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def stored_meta(path: str | Path, name: str, default: Any = None) -> Any:
    """One metadata entry of the store at ``path``, read-only (``default`` if there is no
    store, no such entry, or the file is no store)."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return default
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        finally:
            conn.close()
        return default if row is None else json.loads(row[0])
    except (sqlite3.Error, json.JSONDecodeError):
        return default


def open_store(path: str | Path) -> SampleStore:
    """An existing store, for its space as recorded in the file (InputError if ``path`` is
    missing or is not an iqnas sample store; nothing is created)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"store file not found: {path}")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE name = 'space'").fetchone()
        finally:
            conn.close()
        space = None if row is None else json.loads(row[0])
    except (sqlite3.DatabaseError, json.JSONDecodeError):
        space = None
    if not isinstance(space, str):
        raise InputError(f"{path} is not an iqnas sample store (no space recorded); give the "
                         "--store file of a calibration run")
    return SampleStore(path, space)


class SampleStore:
    """Measured samples of one search space in a SQLite file (see module docstring).

    ``settings`` (a JSON-able dict) and ``seed`` are recorded when the store is created and
    compared when it is reopened; pass None to open an existing store without checking them.
    """

    def __init__(self, path: str | Path, space: SearchSpace | str,
                 settings: Mapping[str, Any] | None = None, seed: int | None = None) -> None:
        self.space = spaces.get(space)
        self.path = Path(path)
        if self.path.is_dir():
            raise InputError(f"store path {self.path} is a directory; give a file like "
                             f"{self.path / 'samples.db'}")
        if seed is not None and (isinstance(seed, bool) or int(seed) != seed):
            raise InputError(f"seed must be an integer, got {seed!r}")
        seed = None if seed is None else int(seed)
        check_output_dir(self.path.parent, "store")  # a file on the way, or not writable
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._opened = False
        try:
            self._conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise InputError(f"store {self.path}: cannot open it ({exc}); pick another --store "
                             "path") from None
        try:
            # a foreign or mismatched file is refused before anything (WAL mode included) is
            # written to it
            with self._transaction() as cur:
                self._check_foreign(cur)
                for stmt in filter(str.strip, _SCHEMA.split(";")):
                    cur.execute(stmt)
                self._init_meta(cur, settings, seed)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._opened = True
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise InputError(f"{self.path} is not a usable iqnas sample store ({exc}); pick "
                             "another --store path") from None
        except BaseException:
            self._conn.close()
            raise

    # ---- plumbing -------------------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        """One transaction: all or nothing. A write that fails (a full disk, a read-only file,
        damaged pages) is rolled back and is a one-line InputError: what was committed
        before stays, and a rerun resumes from it."""
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
            cur.execute("COMMIT")
        except BaseException as exc:
            try:
                cur.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # nothing left to roll back (SQLite ended the transaction itself)
            if isinstance(exc, sqlite3.OperationalError) and self._opened:
                raise InputError(f"writing the store {self.path} failed ({exc}); the samples "
                                 "stored before are kept: free some space (or fix the file's "
                                 "permissions) and run again to resume") from None
            if isinstance(exc, (sqlite3.DatabaseError, json.JSONDecodeError)) and self._opened:
                raise self._unreadable(exc) from None
            raise

    def _unreadable(self, exc: Exception) -> InputError:
        """The one-line error of a store whose pages (or stored JSON) are damaged."""
        what = f"({exc})" if isinstance(exc, sqlite3.Error) else f"(a stored value: {exc})"
        return InputError(f"the store {self.path} is damaged {what}; check it with "
                          f"`iqnas doctor --store {self.path}`, then restore a copy or pick "
                          "another --store path")

    def _check_foreign(self, cur: sqlite3.Cursor) -> None:
        """Refuse to add tables to a SQLite file that is not an iqnas store."""
        tables = {r[0] for r in cur.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        tables.discard("sqlite_sequence")
        if tables and not {"meta", "samples"} <= tables:
            raise InputError(f"{self.path} is a SQLite file but not an iqnas sample store "
                             f"(tables {', '.join(sorted(tables))}); pick another --store path")

    def _init_meta(self, cur: sqlite3.Cursor, settings: Mapping[str, Any] | None,
                   seed: int | None) -> None:
        try:
            stored = {n: json.loads(v) for n, v in cur.execute("SELECT name, value FROM meta")}
        except json.JSONDecodeError:
            stored = {"space": None}
        if not stored:
            self._put(cur, "schema_version", SCHEMA_VERSION)
            self._put(cur, "space", self.space.name)
            self._put(cur, "space_hash", self.space.content_hash())
            self._put(cur, "created", datetime.now().isoformat(timespec="seconds"))
        elif "space" not in stored or stored["space"] is None:
            raise InputError(f"{self.path} is not an iqnas sample store (no space recorded); "
                             "pick another --store path")
        elif stored["space"] != self.space.name:
            raise InputError(f"store {self.path} holds samples of space {stored['space']!r}, "
                             f"not {self.space.name!r}; pick another --store path")
        elif stored.get("space_hash", self.space.content_hash()) != self.space.content_hash():
            raise InputError(f"store {self.path} holds samples of another space named "
                             f"{self.space.name!r} (its groups or options differ); pick another "
                             "--store path or the space file it was measured with")
        elif stored.get("schema_version") in _UPGRADABLE:
            log.info("upgrading store %s from schema version %s to %s", self.path,
                     stored["schema_version"], SCHEMA_VERSION)
            columns = {r[1] for r in cur.execute("PRAGMA table_info(samples)")}
            if "measured" not in columns:  # NULL: one measurement of the row's metrics
                cur.execute("ALTER TABLE samples ADD COLUMN measured TEXT")
            self._put(cur, "schema_version", SCHEMA_VERSION)
        elif stored.get("schema_version") != SCHEMA_VERSION:
            raise InputError(f"store {self.path} has schema version "
                             f"{stored.get('schema_version')}, this iqnas writes "
                             f"{SCHEMA_VERSION}; pick another --store path")
        if stored and "space_hash" not in stored:
            self._put(cur, "space_hash", self.space.content_hash())
        for name, value in (("settings", _jsonable(settings, "settings")), ("seed", seed)):
            if value is None:
                continue
            if stored.get(name) is None:
                self._put(cur, name, value)
            elif _canonical(stored[name]) != _canonical(value):
                raise InputError(f"store {self.path} was created with a different {name} "
                                 f"({_differences(stored[name], value)}); pick another --store "
                                 "path or rerun with the same " + name)

    @staticmethod
    def _put(cur: sqlite3.Cursor, name: str, value: Any) -> None:
        cur.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                    (name, json.dumps(value, allow_nan=False)))

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SampleStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- metadata -------------------------------------------------------------------------
    @property
    @_reads
    def meta(self) -> dict[str, Any]:
        """Every metadata entry (space, schema_version, created, settings, seed, metrics, ...)."""
        rows = self._conn.execute("SELECT name, value FROM meta ORDER BY name")
        return {n: json.loads(v) for n, v in rows}

    @_reads
    def get_meta(self, name: str, default: Any = None) -> Any:
        row = self._conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_meta(self, name: str, value: Any) -> None:
        """Record a JSON-able value under ``name`` (its own transaction)."""
        if name in _PROTECTED_META:
            raise InputError(f"meta {name!r} is fixed when the store is created")
        _jsonable(value, f"meta {name!r}")
        with self._transaction() as cur:
            self._put(cur, name, value)

    @property
    def metrics(self) -> list[str]:
        """Metric names of the samples (empty until the first sample)."""
        return list(self.get_meta("metrics", []))

    @property
    def units(self) -> dict[str, str]:
        return dict(self.get_meta("units", {}))

    def declare_metrics(self, names: Iterable[str]) -> None:
        """Fix the store's metric names before its first sample (so that the first sample may
        be partial); a store that has them must have the same set."""
        names = [str(n) for n in names]
        self._clean(dict.fromkeys(names, 0.0), "the store")
        with self._transaction() as cur:
            row = cur.execute("SELECT value FROM meta WHERE name = 'metrics'").fetchone()
            if row is None:
                self._put(cur, "metrics", names)
            elif set(json.loads(row[0])) != set(names):
                raise InputError(f"store {self.path} holds metrics "
                                 f"{', '.join(sorted(json.loads(row[0])))}, not "
                                 f"{', '.join(sorted(names))}; pick another --store path")

    # ---- reading --------------------------------------------------------------------------
    @_reads
    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0])

    @_reads
    def keys(self) -> list[str]:
        """Architecture keys in insertion order (an extended sample keeps its place)."""
        return [r[0] for r in self._conn.execute("SELECT key FROM samples ORDER BY seq")]

    def _key(self, arch: Architecture | str) -> str:
        return self.space.to_arch(arch).key

    def __contains__(self, arch: object) -> bool:
        try:
            key = self._key(arch)  # type: ignore[arg-type]
        except (InputError, TypeError, ValueError):
            return False
        return self._fetch(key) is not None

    @_reads
    def _fetch(self, key: str) -> dict[str, float] | None:
        row = self._conn.execute("SELECT metrics FROM samples WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def get(self, arch: Architecture | str) -> dict[str, float] | None:
        """Stored metrics of one architecture (those measured), or None if it has none."""
        return self._fetch(self._key(arch))

    @_reads
    def measurements(self, arch: Architecture | str) -> list[dict[str, Any]] | None:
        """The measurements of one architecture, oldest first: ``{"round", "source",
        "metrics"}`` each (the metric names it measured); None when it is not stored."""
        row = self._conn.execute("SELECT metrics, round, source, measured FROM samples "
                                 "WHERE key = ?", (self._key(arch),)).fetchone()
        return None if row is None else [_public(e) for e in _events(*row)]

    @_reads
    def all_measurements(self) -> list[tuple[str, dict[str, Any]]]:
        """(key, measurement) of every measurement of every sample, samples in insertion
        order, each sample's measurements oldest first."""
        rows = self._conn.execute("SELECT key, metrics, round, source, measured FROM samples "
                                  "ORDER BY seq").fetchall()
        return [(r[0], _public(e)) for r in rows for e in _events(*r[1:])]

    @_reads
    def samples(self, timestamps: bool = False,
                before_round: int | None = None) -> pd.DataFrame:
        """Columns key, every metric (NaN where a sample lacks it), round, source (and
        timestamp), in the order of each sample's latest measurement (the insertion order
        when no sample was extended; the calibration rounds fit on the rows in this order).

        ``before_round=r``: the store as it was when round ``r`` started: values measured in
        round ``r`` or later are NaN and samples left with none are dropped (a sample's round
        is then that of its last measurement before ``r``, its place that of that
        measurement)."""
        import pandas as pd

        metrics = self.metrics
        rows = self._conn.execute("SELECT key, metrics, round, source, created, measured, seq "
                                  "FROM samples ORDER BY seq").fetchall()
        keep, values, rounds, places = [], [], [], []
        for i, r in enumerate(rows):
            d = json.loads(r[1])
            events = _events(r[1], r[2], r[3], r[5])
            when = _rounds_of(events)
            if before_round is not None:
                d = {m: v for m, v in d.items() if when[m] < before_round}
                if not d:
                    continue
                rounds.append(max(when[m] for m in d))
                events = [e for e in events if int(e["round"]) < before_round]
            else:
                rounds.append(int(r[2]))
            places.append(max(int(e.get("order", r[6])) for e in events))
            keep.append(i)
            values.append(d)
        by_place = sorted(range(len(keep)), key=places.__getitem__)
        keep, values, rounds = ([seq[j] for j in by_place] for seq in (keep, values, rounds))
        data: dict[str, list] = {"key": [rows[i][0] for i in keep]}
        for m in metrics:
            data[m] = [float(d.get(m, math.nan)) for d in values]
        data["round"] = rounds
        data["source"] = [rows[i][3] for i in keep]
        if timestamps:
            data["timestamp"] = [rows[i][4] for i in keep]
        frame = pd.DataFrame(data)
        for m in metrics:
            frame[m] = frame[m].astype(float)
        frame["round"] = frame["round"].astype("int64")
        return frame

    # ---- writing --------------------------------------------------------------------------
    def add(self, arch: Architecture | str, metrics: Mapping[str, float], round: int = 0,
            source: str = "", partial: bool = False) -> bool:
        """Store one sample in its own transaction; False if it was already stored with these
        metrics. ``partial``: ``metrics`` may be a subset of the store's metrics (declared by
        ``declare_metrics`` or by an earlier sample); otherwise it must be all of them."""
        return self.add_many([(arch, metrics)], round=round, source=source,
                             partial=partial) == 1

    def add_many(self, records: Iterable[tuple[Architecture | str, Mapping[str, float]]],
                 round: int = 0, source: str = "", partial: bool = False) -> int:
        """Store many samples in one transaction (all or nothing); returns how many were new
        or gained metrics."""
        rows = [(self._key(a), self._clean(m, a), round, source) for a, m in records]
        return self._write(rows, where=None, partial=partial)

    def _clean(self, metrics: Mapping[str, float], arch: object) -> dict[str, float]:
        if not isinstance(metrics, Mapping) or not metrics:
            raise InputError(f"metrics of {arch} must be a non-empty mapping name -> value")
        out = {}
        for name, value in metrics.items():
            if not isinstance(name, str) or not name or name in RESERVED:
                raise InputError(f"bad metric name {name!r}; names must be non-empty strings "
                                 f"other than {', '.join(RESERVED)}")
            try:
                out[name] = float(value)
            except (TypeError, ValueError):
                raise InputError(f"metric {name!r} of {arch} is {value!r}, not a "
                                 "number") from None
            if not math.isfinite(out[name]):
                raise InputError(f"metric {name!r} of {arch} is {value!r}; the store keeps "
                                 "finite measurements only (skip this architecture)")
        return out

    def _write(self, rows: list[tuple[str, dict[str, float], int, str]],
               where: list[str] | None, units: Mapping[str, str] | None = None,
               partial: bool = False) -> int:
        """Insert rows in one transaction; ``where`` names each row's origin for errors. A row
        whose key is stored with fewer metrics extends that sample."""
        for _, _, rnd, src in rows:
            if not isinstance(rnd, int) or isinstance(rnd, bool) or not isinstance(src, str):
                raise InputError(f"round must be an int and source a str, got {rnd!r}, {src!r}")
        added = 0
        now = time.time()
        with self._transaction() as cur:
            names = self._check_names(cur, rows, where, partial)
            if units:
                self._merge_units(cur, units)
            for i, (key, metrics, rnd, src) in enumerate(rows):
                old = cur.execute("SELECT metrics, round, source, measured FROM samples "
                                  "WHERE key = ?", (key,)).fetchone()
                events: list[dict[str, Any]] = []
                if old is not None:
                    stored = json.loads(old[0])
                    self._check_same(key, stored, metrics, where[i] if where else "")
                    if set(metrics) <= set(stored):
                        continue
                    events = _events(*old)
                    merged = {**metrics, **stored}
                    metrics = {m: merged[m] for m in names if m in merged}
                    new = [m for m in metrics if m not in stored]
                else:
                    new = list(metrics)
                event: dict[str, Any] = {"round": rnd, "source": src, "metrics": new}
                if old is not None:
                    event["order"] = _next_order(cur)
                events.append(event)
                values = (json.dumps(metrics, allow_nan=False), rnd, src, now, json.dumps(events))
                if old is None:
                    cur.execute("INSERT INTO samples (metrics, round, source, created, measured, "
                                "key) VALUES (?, ?, ?, ?, ?, ?)", (*values, key))
                else:  # extended in place: the sample keeps its position
                    cur.execute("UPDATE samples SET metrics = ?, round = ?, source = ?, "
                                "created = ?, measured = ? WHERE key = ?", (*values, key))
                cur.execute("DELETE FROM failures WHERE key = ?", (key,))
                added += 1
        return added

    def _check_names(self, cur: sqlite3.Cursor, rows: list, where: list[str] | None,
                     partial: bool = False) -> list[str]:
        row = cur.execute("SELECT value FROM meta WHERE name = 'metrics'").fetchone()
        names = json.loads(row[0]) if row else None
        if partial and names is None and rows:
            raise InputError(f"store {self.path} does not know its metrics yet: declare them "
                             "(declare_metrics) or store a complete sample before a partial one")
        for i, (key, metrics, _, _) in enumerate(rows):
            if names is None:
                names = list(metrics)
                self._put(cur, "metrics", names)
            prefix = f"{where[i]}: " if where else ""
            if partial and not set(metrics) <= set(names):
                raise InputError(f"{prefix}sample {key} has metrics {sorted(metrics)}, not all "
                                 f"of them metrics of this store ({sorted(names)})")
            if not partial and set(metrics) != set(names):
                raise InputError(f"{prefix}sample {key} has metrics {sorted(metrics)}, this store "
                                 f"holds {sorted(names)}; pick another --store path")
        return names or []

    @staticmethod
    def _check_same(key: str, old: dict[str, float], new: dict[str, float],
                    where: str) -> None:
        for m in (m for m in new if m in old):
            if old[m] != new[m]:
                prefix = f"{where}, column {m!r}: " if where else ""
                raise InputError(f"{prefix}architecture {key} is already stored with {m} = "
                                 f"{old[m]!r}, not {new[m]!r}; conflicting measurements")

    # ---- failed measurements --------------------------------------------------------------
    def add_failure(self, arch: Architecture | str, error: str, round: int = 0,
                    source: str = "", attempts: int = 1) -> bool:
        """Record that measuring ``arch`` failed with ``error`` (its own transaction).

        A key already recorded as failed keeps one row: the error is replaced and the attempts
        add up. Returns False (nothing recorded) when the key already has a sample."""
        key = self._key(arch)
        if not isinstance(error, str) or not error.strip():
            raise InputError(f"the failure of {key} needs a non-empty error text")
        if (not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1
                or not isinstance(round, int) or isinstance(round, bool)
                or not isinstance(source, str)):
            raise InputError(f"attempts must be an int >= 1, round an int and source a str, got "
                             f"{attempts!r}, {round!r}, {source!r}")
        with self._transaction() as cur:
            if cur.execute("SELECT 1 FROM samples WHERE key = ?", (key,)).fetchone():
                return False
            cur.execute("INSERT INTO failures (key, error, attempts, round, source, created) "
                        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                        "error = excluded.error, attempts = attempts + excluded.attempts, "
                        "round = excluded.round, source = excluded.source, "
                        "created = excluded.created",
                        (key, error.strip(), attempts, round, source, time.time()))
        return True

    @_reads
    def failure(self, arch: Architecture | str) -> dict[str, Any] | None:
        """``{"error", "attempts", "round", "source"}`` of a recorded failure, or None."""
        row = self._conn.execute("SELECT error, attempts, round, source FROM failures "
                                 "WHERE key = ?", (self._key(arch),)).fetchone()
        if row is None:
            return None
        return {"error": row[0], "attempts": int(row[1]), "round": int(row[2]),
                "source": row[3]}

    @_reads
    def failed_keys(self) -> list[str]:
        """Keys of the recorded failures, oldest first."""
        return [r[0] for r in self._conn.execute("SELECT key FROM failures ORDER BY created")]

    @_reads
    def failures(self) -> pd.DataFrame:
        """Columns key, error, attempts, round, source of the recorded failures."""
        import pandas as pd

        rows = self._conn.execute("SELECT key, error, attempts, round, source FROM failures "
                                  "ORDER BY created").fetchall()
        return pd.DataFrame(rows, columns=["key", "error", "attempts", "round", "source"])

    # ---- CSV ------------------------------------------------------------------------------
    @_reads
    def export_csv(self, path: str | Path) -> Path:
        """Write columns arch, metrics..., round, source atomically (temp file + rename); a
        metric a sample lacks is an empty cell."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        metrics = self.metrics
        rows = self._conn.execute(
            "SELECT key, metrics, round, source FROM samples ORDER BY seq").fetchall()
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh, lineterminator="\n")
                writer.writerow(["arch", *metrics, "round", "source"])
                for key, blob, rnd, src in rows:
                    values = json.loads(blob)
                    writer.writerow([key, *(repr(float(values[m])) if m in values else ""
                                            for m in metrics), rnd, src])
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        log.info("exported %d samples to %s", len(rows), path)
        return path

    def import_csv(self, path: str | Path, units: Mapping[str, str] | None = None,
                   key_column: str = "arch", source: str = "import") -> int:
        """Validate a whole CSV (as the CSV oracle does), then add every row in one transaction.

        Optional ``round``/``source`` columns are kept; otherwise round 0 and ``source``.
        Nothing is written if any row is bad. Returns how many samples were new.
        """
        table = read_measurements(path, self.space, key_column=key_column, units=units,
                                  extra_columns=("round", "source"))
        where = [f"{table.path}: line {ln}" for ln in table.lines]
        rounds = self._rounds(table.extra.get("round"), where)
        sources = table.extra.get("source") or [source] * len(table)
        rows = [(k, dict(zip(table.metrics, v.tolist())), r, s)
                for k, v, r, s in zip(table.keys, table.values, rounds, sources)]
        for _, m, _, _ in rows[:1]:
            self._clean(m, table.path)  # reserved metric names
        added = self._write(rows, where, units=table.units if units else None)
        log.info("imported %d new samples (%d rows) from %s", added, len(rows), table.path)
        return added

    @staticmethod
    def _rounds(texts: list[str] | None, where: list[str]) -> list[int]:
        if texts is None:
            return [0] * len(where)
        out = []
        for text, w in zip(texts, where):
            try:
                out.append(int(text))
            except ValueError:
                raise InputError(f"{w}, column 'round': {text!r} is not an integer") from None
        return out

    def _merge_units(self, cur: sqlite3.Cursor, units: Mapping[str, str]) -> None:
        row = cur.execute("SELECT value FROM meta WHERE name = 'units'").fetchone()
        current = json.loads(row[0]) if row else {}
        for name, unit in units.items():
            if unit and current.get(name, unit) != unit:
                raise InputError(f"unit of {name!r} is {current[name]!r} in store {self.path}, "
                                 f"not {unit!r}")
        self._put(cur, "units", {**current, **{n: u for n, u in units.items() if u}})

    def __repr__(self) -> str:
        try:
            n: int | str = len(self)
        except InputError:
            n = "? (damaged)"
        return f"SampleStore({str(self.path)!r}, space={self.space.name!r}, n={n})"


def _events(blob: str, round: int, source: str, measured: str | None) -> list[dict[str, Any]]:
    """The measurements of one stored row (rows from before schema 3: one of every metric, in
    the row's round and source)."""
    if measured is not None:
        return json.loads(measured)
    return [{"round": int(round), "source": source, "metrics": list(json.loads(blob))}]


def _public(event: dict[str, Any]) -> dict[str, Any]:
    """A measurement as ``measurements()`` shows it (its place in ``samples()`` left out)."""
    return {k: v for k, v in event.items() if k != "order"}


def _next_order(cur: sqlite3.Cursor) -> int:
    """The place of a measurement that extends a stored sample in the order of ``samples()``:
    the next value of the samples' sequence, which it takes (so later samples come after it),
    as if the sample were stored anew; the sample itself keeps its ``seq``."""
    cur.execute("UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'samples'")
    if cur.rowcount == 0:  # its sequence row was removed: after the last sample
        cur.execute("INSERT INTO sqlite_sequence (name, seq) "
                    "SELECT 'samples', COALESCE(MAX(seq), 0) + 1 FROM samples")
    return int(cur.execute("SELECT seq FROM sqlite_sequence WHERE name = 'samples'")
               .fetchone()[0])


def _rounds_of(events: list[dict[str, Any]]) -> dict[str, int]:
    """Metric -> the round it was measured in."""
    return {m: int(e["round"]) for e in events for m in e["metrics"]}


def _jsonable(value: Any, what: str) -> Any:
    if value is None:
        return None
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} must be JSON-serialisable: {exc}") from None
    return json.loads(json.dumps(value))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _differences(old: Any, new: Any) -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        diff = [k for k in sorted(set(old) | set(new), key=str) if old.get(k) != new.get(k)]
        shown = ", ".join(f"{k}={old.get(k)!r} (now {new.get(k)!r})" for k in diff[:4])
        return shown
    return f"{old!r}, now {new!r}"
