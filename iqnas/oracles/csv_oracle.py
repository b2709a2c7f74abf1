"""Users' own measurements as a CSV file: validated reading, and an oracle over it.

File format: one header row, then one row per architecture. One column (``key_column``, default
``arch``) holds the architecture key as ``space.parse_key`` reads it (for nb201 the official
string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``); every other column is a numeric metric unless
``metrics=`` names a subset. Units are not read from the file: pass ``units={"latency": "ms"}``.
Every problem is reported as ``<file>: line N, column 'c': <what is wrong>`` (N 1-based, the
header is line 1).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from iqnas import spaces
from iqnas.errors import InputError
from iqnas.oracles.oracle import Oracle, check_units, select_metrics
from iqnas.space import Architecture, SearchSpace

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class MeasurementTable:
    """A validated measurement file: unique canonical keys, finite metric values."""

    path: Path
    key_column: str
    keys: list[str]
    lines: list[int]                    # 1-based file line of each kept row
    metrics: list[str]
    units: dict[str, str]
    values: np.ndarray                  # (n_rows, n_metrics) float64
    extra: dict[str, list[str]] = field(default_factory=dict)  # raw text of extra columns

    def __len__(self) -> int:
        return len(self.keys)


def read_measurements(path: str | Path, space: SearchSpace | str, key_column: str = "arch",
                      units: Mapping[str, str] | None = None,
                      metrics: Sequence[str] | None = None,
                      extra_columns: Sequence[str] = ()) -> MeasurementTable:
    """Read and validate a whole measurement CSV; raise InputError at the first bad cell.

    ``extra_columns`` are optional non-metric columns kept as raw text (e.g. ``round``).
    Rows repeating an architecture with identical metric values are merged into the first.
    """
    space = spaces.get(space)
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise InputError(f"{where}: no such measurement file")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = _read_header(reader, where)
            cols = _layout(header, key_column, metrics, extra_columns, where)
            keys, lines, rows, extra = _read_rows(reader, header, cols, space, where)
    except UnicodeDecodeError as exc:
        raise InputError(f"{where}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at "
                         f"offset {exc.start}); save the file as UTF-8 CSV") from None
    except csv.Error as exc:
        raise InputError(f"{where}: not a readable CSV file ({exc})") from None
    if not keys:
        raise InputError(f"{where}: no measurements after the header; add one row per "
                         "architecture")
    metric_names = [header[j] for j in cols["metrics"]]
    return MeasurementTable(
        path=path, key_column=key_column, keys=keys, lines=lines, metrics=metric_names,
        units=check_units(units, metric_names, where),
        values=np.asarray(rows, dtype=np.float64).reshape(len(keys), len(metric_names)),
        extra=extra)


def _read_header(reader: Iterable[list[str]], where: str) -> list[str]:
    for header in reader:
        if any(h.strip() for h in header):
            break
    else:
        raise InputError(f"{where}: the file is empty; it needs a header row")
    header = [h.strip() for h in header]
    for j, name in enumerate(header):
        if not name:
            raise InputError(f"{where}: line 1, column {j + 1}: empty column name")
        if name in header[:j]:
            raise InputError(f"{where}: line 1, column {name!r}: duplicate column name")
    return header


def _layout(header: list[str], key_column: str, metrics: Sequence[str] | None,
            extra_columns: Sequence[str], where: str) -> dict:
    if key_column not in header:
        raise InputError(f"{where}: line 1: no key column {key_column!r}; columns are "
                         f"{', '.join(header)} (pass key_column= to pick another)")
    special = {key_column, *extra_columns}
    candidates = [h for h in header if h not in special]
    chosen = select_metrics(candidates, metrics, where) if candidates or metrics else []
    if not chosen:
        raise InputError(f"{where}: line 1: no metric columns besides {key_column!r}")
    return {"key": header.index(key_column), "metrics": [header.index(m) for m in chosen],
            "extra": {e: header.index(e) for e in extra_columns if e in header}}


def _read_rows(reader: Any, header: list[str], cols: dict, space: SearchSpace,
               where: str) -> tuple[list[str], list[int], list[list[float]], dict]:
    key_j, metric_js, extra_js = cols["key"], cols["metrics"], cols["extra"]
    keys: list[str] = []
    lines: list[int] = []
    rows: list[list[float]] = []
    extra: dict[str, list[str]] = {e: [] for e in extra_js}
    first: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if not any(f.strip() for f in record):
            continue  # blank line
        if len(record) != len(header):
            raise InputError(f"{where}: line {line}: expected {len(header)} fields like the "
                             f"header, got {len(record)}")
        key = _parse_key(record[key_j], space, where, line, header[key_j])
        values = [_parse_number(record[j], where, line, header[j]) for j in metric_js]
        for j, v in zip(metric_js, values):
            if v < 0 and is_cost(header[j]):
                raise InputError(f"{where}: line {line}, column {header[j]!r}: {v!r} is "
                                 "negative; a latency, energy, size or count cannot be: fix "
                                 "the measurement or drop the row")
        if key in first:
            _check_duplicate(key, values, rows[first[key]], lines[first[key]],
                             [header[j] for j in metric_js], where, line)
            continue
        first[key] = len(keys)
        keys.append(key)
        lines.append(line)
        rows.append(values)
        for e, j in extra_js.items():
            extra[e].append(record[j].strip())
    return keys, lines, rows, extra


#: parts of a metric name that make it a cost (never negative): latency, energy, sizes, counts
COST_WORDS = ("lat", "energy", "power", "param", "mem", "flop", "mac", "byte", "size", "time",
              "joule", "watt")


def is_cost(metric: str) -> bool:
    """Whether a metric's name says it is a latency, energy, size or count (>= 0)."""
    name = metric.lower()
    return any(w in name for w in COST_WORDS)


def _parse_key(text: str, space: SearchSpace, where: str, line: int, column: str) -> str:
    text = text.strip()
    if not text:
        raise InputError(f"{where}: line {line}, column {column!r}: empty architecture key")
    try:
        return space.parse_key(text).key
    except InputError as exc:
        raise InputError(f"{where}: line {line}, column {column!r}: {exc}") from None


def _parse_number(text: str, where: str, line: int, column: str) -> float:
    text = text.strip()
    if not text:
        raise InputError(f"{where}: line {line}, column {column!r}: empty value; every metric "
                         "needs a number")
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{where}: line {line}, column {column!r}: {text!r} is not a "
                         "number") from None
    if not math.isfinite(value):
        raise InputError(f"{where}: line {line}, column {column!r}: {text!r} is not a finite "
                         "number; drop the row or measure it again")
    return value


def _check_duplicate(key: str, values: list[float], earlier: list[float], earlier_line: int,
                     names: list[str], where: str, line: int) -> None:
    for name, new, old in zip(names, values, earlier):
        if new != old:
            raise InputError(f"{where}: line {line}, column {name!r}: architecture {key} "
                             f"repeats line {earlier_line} with a different value ({new!r} vs "
                             f"{old!r}); keep one row per architecture")


class CsvOracle(Oracle):
    """An oracle that looks measurements up in a validated CSV file (see module docstring)."""

    def __init__(self, path: str | Path, space: SearchSpace | str, key_column: str = "arch",
                 units: Mapping[str, str] | None = None,
                 metrics: Sequence[str] | None = None) -> None:
        self.space = spaces.get(space)
        self.data = read_measurements(path, self.space, key_column=key_column, units=units,
                                      metrics=metrics)
        self.name = self.data.path.name
        self._row_of_key = {k: i for i, k in enumerate(self.data.keys)}
        self._keys = np.array(self.data.keys, dtype=object)

    @property
    def metrics(self) -> list[str]:
        return list(self.data.metrics)

    @property
    def units(self) -> dict[str, str]:
        return dict(self.data.units)

    @property
    def exhaustive(self) -> bool:
        return len(self.data) == self.space.size

    def keys(self) -> list[str]:
        return list(self.data.keys)

    def candidates(self) -> np.ndarray | None:
        """The measured architectures' choices (None if the file covers the whole space)."""
        if self.exhaustive:
            return None
        return np.array([self.space.parse_key(k).choices for k in self.data.keys],
                        dtype=np.int64).reshape(len(self.data), len(self.space.groups))

    def __len__(self) -> int:
        return len(self.data)

    def __contains__(self, arch: object) -> bool:
        try:
            self.row(arch)  # type: ignore[arg-type]
        except (InputError, TypeError, ValueError):
            return False
        return True

    def row(self, arch: Architecture | str) -> int:
        hit = self._row_of_key.get(arch) if isinstance(arch, str) else None
        if hit is not None:
            return hit
        key = self.space.to_arch(arch).key
        hit = self._row_of_key.get(key)
        if hit is None:
            raise InputError(f"architecture {key} is not measured in {self.data.path} "
                             f"({len(self.data)} architectures); measure it and add a row")
        return hit

    def measure(self, arch: Architecture | str,
                metrics: Sequence[str] | None = None) -> dict[str, float]:
        row = self.data.values[self.row(arch)]
        if metrics is None:
            return dict(zip(self.data.metrics, row.tolist()))
        return {m: float(row[self.data.metrics.index(m)]) for m in self.wanted(metrics)}

    def measure_many(self, archs: Iterable[Architecture | str] | np.ndarray,
                     metrics: Sequence[str] | None = None) -> pd.DataFrame:
        if isinstance(archs, np.ndarray) and archs.ndim == 2:
            archs = self.as_archs(archs)
        elif isinstance(archs, (str, Architecture)):
            archs = self.as_archs(archs)  # raises a clear error
        frame = self._frame(np.fromiter((self.row(a) for a in archs), dtype=np.int64))
        return frame if metrics is None else frame[self.wanted(metrics)]

    def table(self) -> pd.DataFrame:
        """The measured architectures (all of the space only if ``exhaustive``)."""
        return self._frame(np.arange(len(self.data)))

    def _frame(self, rows: np.ndarray) -> pd.DataFrame:
        import pandas as pd

        index = pd.Index(self._keys[rows], name="key")
        return pd.DataFrame(self.data.values[rows], index=index, columns=self.data.metrics)


def csv_oracle(path: str | Path, space: SearchSpace | str, key_column: str = "arch",
               units: Mapping[str, str] | None = None,
               metrics: Sequence[str] | None = None) -> CsvOracle:
    """An oracle over a CSV of measurements (validated on load; see :class:`CsvOracle`)."""
    return CsvOracle(path, space, key_column=key_column, units=units, metrics=metrics)
