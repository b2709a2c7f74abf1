"""The Oracle interface: measures metrics (accuracy, latency, ...) of architectures."""

from __future__ import annotations

import difflib
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from iqnas.errors import InputError
from iqnas.space import Architecture, SearchSpace

if TYPE_CHECKING:
    import pandas as pd


class Oracle(ABC):
    """Measures named metrics of the architectures of one search space.

    Subclasses set ``space``, ``metrics`` and ``units`` and implement ``measure``. Oracles that
    can list every architecture of their space (benchmark tables) also implement ``table``.

    ``measure(arch, metrics=[...])`` measures only those metrics: a resource-only measurement
    (latency, memory) is cheap where a trained accuracy is not, and it reveals nothing else
    (the table oracles return exactly the metrics asked for).
    """

    name: str = "oracle"
    space: SearchSpace

    @property
    @abstractmethod
    def metrics(self) -> list[str]:
        """Metric names, in a fixed order."""

    @property
    def units(self) -> dict[str, str]:
        """Unit string per metric ("" for unitless scores)."""
        return {m: "" for m in self.metrics}

    @abstractmethod
    def measure(self, arch: Architecture | str,
                metrics: Sequence[str] | None = None) -> dict[str, float]:
        """The metrics of one architecture (an Architecture or its key): all of them, or only
        the subset ``metrics``."""

    def measure_many(self, archs: Iterable[Architecture | str] | np.ndarray,
                     metrics: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per architecture, indexed by key, one column per metric (all, or the subset
        ``metrics``; loops ``measure``)."""
        import pandas as pd

        wanted = self.wanted(metrics)
        arch_list = self.as_archs(archs)
        rows = [self.measure(a, metrics=wanted) for a in arch_list]
        index = pd.Index([a.key for a in arch_list], name="key")
        return pd.DataFrame(rows, index=index, columns=wanted, dtype=float)

    def table(self) -> pd.DataFrame:
        """Every architecture the oracle knows, indexed by key, one column per metric."""
        raise NotImplementedError(f"oracle {self.name!r} cannot list its architectures")

    @property
    def exhaustive(self) -> bool:
        """True when ``table()`` covers every architecture of the space."""
        return False

    def candidates(self) -> np.ndarray | None:
        """The choices (one row per architecture) of the only architectures this oracle can
        measure, or None when it measures any architecture of its space."""
        return None

    @property
    def measures_subsets(self) -> bool:
        """Whether ``measure(arch, metrics=[...])`` measures only those metrics (cheaper than all
        of them); calibrate's resource-only look-ups need it."""
        return True

    # ---- helpers shared by subclasses ------------------------------------------------------
    def wanted(self, metrics: Sequence[str] | None) -> list[str]:
        """The metrics a measurement asks for: all (None) or a validated subset."""
        return select_metrics(self.metrics, metrics, self.name)

    def check_metric(self, metric: str) -> str:
        """Return ``metric`` if the oracle has it, else raise InputError naming close matches."""
        if metric in self.metrics:
            return metric
        raise InputError(unknown_name_message("metric", metric, self.metrics, self.name))

    def unit(self, metric: str) -> str:
        return self.units[self.check_metric(metric)]

    def as_archs(self, archs: Iterable[Architecture | str] | np.ndarray) -> list[Architecture]:
        """Coerce keys, Architectures or an (n, n_groups) choices array to Architectures."""
        if isinstance(archs, (str, Architecture)):
            raise InputError("measure_many needs a list of architectures; use measure() for one")
        if isinstance(archs, np.ndarray) and archs.ndim == 2:
            return [self.space.arch(row) for row in archs.tolist()]
        return [self.space.to_arch(a) for a in archs]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.name!r}, space={self.space.name!r}, "
                f"metrics={len(self.metrics)})")


def unknown_name_message(kind: str, name: Any, options: Sequence[str], owner: str) -> str:
    """One-line 'unknown X' message with the closest options (all of them if few)."""
    close = difflib.get_close_matches(str(name), list(options), n=5, cutoff=0.5)
    if len(options) <= 12:
        hint = f"available: {', '.join(options)}"
    elif close:
        hint = f"did you mean {', '.join(close)}? ({len(options)} available)"
    else:
        hint = f"{len(options)} available, e.g. {', '.join(list(options)[:6])}"
    return f"unknown {kind} {name!r} for {owner}; {hint}"


def select_metrics(available: Sequence[str], wanted: Sequence[str] | None,
                   owner: str) -> list[str]:
    """Validate a user's metric subset against ``available`` (None keeps them all)."""
    if wanted is None:
        return list(available)
    if isinstance(wanted, str):
        wanted = [wanted]
    out = []
    for m in wanted:
        if m not in available:
            raise InputError(unknown_name_message("metric", m, available, owner))
        if m not in out:
            out.append(m)
    if not out:
        raise InputError(f"{owner}: metrics must name at least one metric")
    return out


def check_units(units: Mapping[str, str] | None, metrics: Sequence[str],
                owner: str) -> dict[str, str]:
    """Unit per metric from a user mapping; names must be metrics, missing ones get ''."""
    units = dict(units or {})
    for name, unit in units.items():
        if name not in metrics:
            raise InputError(f"units names {name!r}, which is not a metric of {owner}; metrics "
                             f"are {', '.join(metrics)}")
        if not isinstance(unit, str):
            raise InputError(f"unit of {name!r} must be a string, got {unit!r}")
        if unit and unit not in KNOWN_UNITS:
            warnings.warn(f"unit {unit!r} of {name!r} ({owner}) is not one iqnas knows "
                          f"({', '.join(KNOWN_UNITS)}); it is kept as given", UserWarning,
                          stacklevel=3)
    return {m: units.get(m, "") for m in metrics}


#: units iqnas knows (others are kept with a warning: a typo such as 'msec' is likely)
KNOWN_UNITS = ("ms", "s", "us", "ns", "mJ", "J", "uJ", "mW", "W", "B", "bytes", "KB", "kB",
               "MB", "GB", "KiB", "MiB", "GiB", "M", "K", "G", "%", "FLOPs", "MFLOPs", "GFLOPs",
               "MACs", "MMACs", "GMACs", "params", "fps", "1")
