"""NAS-Bench-201 table oracle over the embedded data file iqnas/data/nb201.csv.gz (see DATA.md).

The table is read on first use (about 0.1 s) and cached for the process; importing this module
does not read it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from iqnas import spaces
from iqnas.errors import InputError
from iqnas.oracles.oracle import Oracle, select_metrics
from iqnas.space import Architecture
from iqnas.spaces.nb201 import EDGE_NAMES, OPS

if TYPE_CHECKING:
    import pandas as pd

DATA_FILE = "nb201.csv.gz"
KEY_COLUMN = "arch_str"
INDEX_COLUMN = "index"
DATASETS = {"cifar10": "c10", "cifar100": "c100", "ImageNet16-120": "in16"}
_ALIASES = {"c10": "cifar10", "c100": "cifar100", "in16": "ImageNet16-120",
            "imagenet16-120": "ImageNet16-120", "imagenet16": "ImageNet16-120"}
# column-name prefix -> unit, first match wins (see DATA.md)
_UNIT_PREFIXES = (
    ("test_acc_", "%"), ("c10valid_valid_acc", "%"), ("c10valid_test_acc", "%"),
    ("naslib_val_acc_", "%"), ("params_M_", "M params"), ("c10valid_train_time_s", "s"),
    ("help_lat_", "ms"), ("latbench_ms_", "ms"), ("hw360_lat_ms_", "ms"),
    ("hw360_energy_mj_", "mJ"),
    ("synflow_", ""), ("logsynflow_", ""), ("naswot_", ""), ("nregions_", ""), ("zen_", ""),
)
_N_OPS = len(OPS)
_POWERS = _N_OPS ** np.arange(len(EDGE_NAMES) - 1, -1, -1)  # choices -> base-5 code


def metric_unit(column: str) -> str:
    """Unit of a column of the embedded table, from its name."""
    for prefix, unit in _UNIT_PREFIXES:
        if column.startswith(prefix):
            return unit
    raise InputError(f"no unit known for NB201 column {column!r}")


@dataclass(frozen=True)
class NB201Table:
    """The embedded table as arrays, rows in official NB201 index order."""

    keys: np.ndarray          # (15625,) official arch strings
    nb201_index: np.ndarray   # (15625,) official NB201 / NATS tss index
    choices: np.ndarray       # (15625, 6) option index per edge, in space group order
    metrics: tuple[str, ...]
    values: np.ndarray        # (15625, n_metrics) float64, read-only
    row_of_code: np.ndarray   # (5**6,) row of each base-5 choices code
    row_of_key: dict[str, int]


_LOCK = threading.Lock()
_TABLE: NB201Table | None = None


def load_table() -> NB201Table:
    """Read and cache the embedded table (thread-safe, once per process)."""
    global _TABLE
    with _LOCK:
        if _TABLE is None:
            _TABLE = _read_table()
        return _TABLE


def _read_table() -> NB201Table:
    import pandas as pd

    ref = resources.files("iqnas").joinpath("data", DATA_FILE)
    with ref.open("rb") as fh:
        df = pd.read_csv(fh, compression="gzip")
    op_index = {op: i for i, op in enumerate(OPS)}
    choices = np.stack([df[e].map(op_index).to_numpy() for e in EDGE_NAMES], axis=1)
    if np.isnan(choices.astype(float)).any():
        raise RuntimeError(f"{DATA_FILE} has an unknown op in its edge columns; rebuild it")
    choices = choices.astype(np.int16)
    codes = choices.astype(np.int64) @ _POWERS
    row_of_code = np.full(_N_OPS ** len(EDGE_NAMES), -1, dtype=np.int64)
    row_of_code[codes] = np.arange(len(df))
    if (row_of_code < 0).any():
        raise RuntimeError(f"{DATA_FILE} does not cover every NB201 cell; rebuild it")
    skip = {INDEX_COLUMN, KEY_COLUMN, *EDGE_NAMES}
    metrics = tuple(c for c in df.columns if c not in skip)
    values = df[list(metrics)].to_numpy(dtype=np.float64)
    values.setflags(write=False)
    choices.setflags(write=False)
    keys = df[KEY_COLUMN].to_numpy(dtype=object)
    return NB201Table(keys=keys, nb201_index=df[INDEX_COLUMN].to_numpy(), choices=choices,
                      metrics=metrics, values=values, row_of_code=row_of_code,
                      row_of_key={k: i for i, k in enumerate(keys)})


def resolve_dataset(dataset: str) -> str:
    """Canonical dataset name; case-insensitive, also accepts c10, c100 and in16."""
    lookup = {n.lower(): n for n in DATASETS} | _ALIASES
    name = lookup.get(dataset.lower()) if isinstance(dataset, str) else None
    if name is None:
        raise InputError(f"unknown NB201 dataset {dataset!r}; use one of "
                         f"{', '.join(DATASETS)} (or c10, c100, in16)")
    return name


class NB201Oracle(Oracle):
    """Every NB201 cell with its accuracies, proxies, latencies and energies (table lookup).

    ``metrics`` are the column names of the embedded table (e.g. ``test_acc_c100``,
    ``help_lat_fpga``, ``params_M_c100``). ``dataset`` only picks ``accuracy_metric`` and
    ``params_metric``. LatBench columns are NaN for the 341 cells with no path from input to
    output (and a few more on some devices, see DATA.md); ``measure`` returns NaN there.
    """

    def __init__(self, dataset: str = "cifar100", metrics: Sequence[str] | None = None) -> None:
        self.space = spaces.get("nb201")
        self.dataset = resolve_dataset(dataset)
        suffix = DATASETS[self.dataset]
        self.accuracy_metric = f"test_acc_{suffix}"
        self.params_metric = f"params_M_{suffix}"
        self.name = f"nb201-{self.dataset}"
        self._table = load_table()
        self._metrics = select_metrics(self._table.metrics, metrics, "the nb201 oracle")
        if len(self._metrics) == len(self._table.metrics):
            self._values = self._table.values
        else:
            pos = {m: i for i, m in enumerate(self._table.metrics)}
            self._values = self._table.values[:, [pos[m] for m in self._metrics]]
            self._values.setflags(write=False)
        self._units = {m: metric_unit(m) for m in self._metrics}

    @property
    def metrics(self) -> list[str]:
        return list(self._metrics)

    @property
    def units(self) -> dict[str, str]:
        return dict(self._units)

    @property
    def exhaustive(self) -> bool:
        return True

    @property
    def choices(self) -> np.ndarray:
        """(15625, 6) option indices of every cell, in ``table()`` row order (read-only)."""
        return self._table.choices

    # ---- lookups --------------------------------------------------------------------------
    def row(self, arch: Architecture | str) -> int:
        """Table row of one architecture (its official NB201 index)."""
        if isinstance(arch, str):
            hit = self._table.row_of_key.get(arch)
            if hit is not None:
                return hit
        a = self.space.to_arch(arch)
        return int(self._table.row_of_code[int(np.dot(a.choices, _POWERS))])

    def rows(self, archs: Iterable[Architecture | str] | np.ndarray) -> np.ndarray:
        """Table rows of many architectures: keys, Architectures or an (n, 6) choices array."""
        if isinstance(archs, (str, Architecture)):
            raise InputError("rows() needs a list of architectures; use row() for one")
        if isinstance(archs, np.ndarray) and archs.ndim == 2:
            c = np.asarray(archs)
            if c.shape[1] != len(EDGE_NAMES) or c.dtype.kind not in "iu":
                raise InputError(f"choices array must be integer with shape (n, "
                                 f"{len(EDGE_NAMES)}), got {c.dtype} {c.shape}")
            if c.size and (c.min() < 0 or c.max() >= _N_OPS):
                raise InputError(f"choices array values must be in 0..{_N_OPS - 1}")
            return self._table.row_of_code[c.astype(np.int64) @ _POWERS]
        return np.fromiter((self.row(a) for a in archs), dtype=np.int64)

    def nb201_index(self, arch: Architecture | str) -> int:
        """Official NB201 / NATS-Bench tss index of an architecture."""
        return int(self._table.nb201_index[self.row(arch)])

    def measure(self, arch: Architecture | str,
                metrics: Sequence[str] | None = None) -> dict[str, float]:
        row = self._values[self.row(arch)]
        if metrics is None:
            return dict(zip(self._metrics, row.tolist()))
        return {m: float(row[self._metrics.index(m)]) for m in self.wanted(metrics)}

    def values(self, archs: Iterable[Architecture | str] | np.ndarray, metric: str) -> np.ndarray:
        """One metric for many architectures, as a float array."""
        col = self._metrics.index(self.check_metric(metric))
        return self._values[self.rows(archs), col]

    def measure_many(self, archs: Iterable[Architecture | str] | np.ndarray,
                     metrics: Sequence[str] | None = None) -> pd.DataFrame:
        return self._frame(self.rows(archs), metrics)

    def table(self) -> pd.DataFrame:
        return self._frame(np.arange(len(self._table.keys)))

    def _frame(self, rows: np.ndarray, metrics: Sequence[str] | None = None) -> pd.DataFrame:
        import pandas as pd

        index = pd.Index(self._table.keys[rows], name="key")
        if metrics is None:
            return pd.DataFrame(self._values[rows], index=index, columns=self._metrics,
                                copy=True)
        wanted = self.wanted(metrics)
        cols = [self._metrics.index(m) for m in wanted]
        return pd.DataFrame(self._values[np.ix_(rows, cols)], index=index, columns=wanted)


def nb201(dataset: str = "cifar100", metrics: Sequence[str] | None = None) -> NB201Oracle:
    """The NB201 table oracle; ``dataset`` picks ``accuracy_metric`` (all datasets' columns stay
    available); ``metrics`` optionally keeps only some columns."""
    return NB201Oracle(dataset=dataset, metrics=metrics)


__all__ = ["NB201Oracle", "NB201Table", "load_table", "metric_unit", "nb201", "resolve_dataset"]
