"""Solver settings shared by every point of a sweep, checked once before anything runs."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from iqnas import solvers
from iqnas.errors import InputError
from iqnas.formulations import MODES


@dataclass(frozen=True)
class SweepSettings:
    """How each point is solved; ``warm_start`` and ``reuse`` decide how neighbours help.

    * ``reuse``: points are visited from the largest budget down; a point whose budgets are
      covered by an already solved point takes that point's proven answer when it fits (the
      feasible set only shrinks, so it stays optimal) and a proven infeasibility likewise.
    * ``warm_start``: every solve gets the best answer known so far that fits its budgets as a
      MIP start (with ``reuse=False`` points are visited upwards, so that is the lower
      neighbour's answer).
    """

    solver: str = "scip"
    time_limit: float | None = None
    gap: float = 0.0
    seed: int | None = 0
    products: str = "linearize"
    params: Mapping[str, Any] = field(default_factory=dict)
    warm_start: bool = True
    reuse: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.solver, str):
            raise InputError(f"solver must be a backend name, got {type(self.solver).__name__}")
        solvers.get(self.solver)  # unknown or unavailable backends fail here, before any work
        if self.time_limit is not None and (not _real(self.time_limit)
                                            or not 0 < self.time_limit < math.inf):
            raise InputError(f"time_limit must be a positive number of seconds, got "
                             f"{self.time_limit!r}")
        if not _real(self.gap) or not 0 <= self.gap < math.inf:
            raise InputError(f"gap must be a number >= 0 (relative), got {self.gap!r}")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(
                self.seed, numbers.Integral) or self.seed < 0):
            raise InputError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.products not in MODES:
            raise InputError(f"products must be one of {', '.join(MODES)}, got "
                             f"{self.products!r}")
        if not isinstance(self.params, Mapping):
            raise InputError(f"params must be a dict of solver parameters, got "
                             f"{type(self.params).__name__}")
        object.__setattr__(self, "params", dict(self.params))
        object.__setattr__(self, "warm_start", bool(self.warm_start))
        object.__setattr__(self, "reuse", bool(self.reuse))

    def solve_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``iqnas.solve`` (without the warm start)."""
        return {"time_limit": self.time_limit, "gap": float(self.gap), "seed": self.seed,
                "products": self.products, "params": dict(self.params)}

    def identity(self) -> dict[str, Any]:
        """The settings that can change an answer (recorded in, and checked against, a sweep
        file); warm starts and reuse only change how fast answers come."""
        return {"solver": self.solver, "time_limit": self.time_limit, "gap": float(self.gap),
                "seed": self.seed, "products": self.products,
                "params": {k: _plain(v) for k, v in sorted(self.params.items())}}


def _real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _plain(v):
    return v if isinstance(v, (bool, int, float, str)) or v is None else repr(v)
