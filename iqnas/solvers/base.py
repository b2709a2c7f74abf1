"""What a solver backend is: options in, a raw solution out (decoding and checks happen above)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from iqnas.space import Architecture
from iqnas.status import Status


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float | None = None
    gap: float = 0.0
    seed: int | None = 0
    warm_start: Architecture | None = None
    products: str = "linearize"
    verbose: bool = False
    log_file: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class RawSolution:
    """A backend's answer: a one-hot vector (or None) and what the backend says about it.

    ``dual_bound`` is in the problem's own sense (an upper bound on the objective when
    maximising).
    """

    status: Status
    raw_status: str
    x: np.ndarray | None = None
    dual_bound: float | None = None
    gap: float | None = None
    nodes: int | None = None
    build_time: float = 0.0
    solve_time: float = 0.0
    trace: list = field(default_factory=list)
    message: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    #: the formulation solved (``products="auto"`` resolved); "" = the requested one
    formulation: str = ""


@dataclass(frozen=True)
class BackendInfo:
    """A registry entry: enough to list a backend and its capabilities without importing it."""

    name: str
    module: str
    cls: str
    required_modules: tuple[str, ...]
    capabilities: frozenset[str]
    description: str

    def available(self) -> bool:
        return all(importlib.util.find_spec(m) is not None for m in self.required_modules)


class Backend:
    """Subclass, set ``name``, implement ``solve``; register with ``iqnas.solvers.register``."""

    name = "base"

    def solve(self, problem, options: SolveOptions) -> RawSolution:  # pragma: no cover
        raise NotImplementedError
