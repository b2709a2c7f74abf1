"""What a solver backend is: a configured object (its options are its constructor's keyword
arguments) whose ``solve`` takes a problem and the solve options and returns a raw solution
(decoding and checks happen above, in :mod:`iqnas.solve`)."""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from iqnas._validation import Parameterized
from iqnas.space import Architecture
from iqnas.status import Status

#: what a backend can do (``Backend.capabilities``): ``mip`` exact integer solve, ``products``
#: the ``products`` option chooses its formulation, ``native_quadratic`` it can keep products
#: as quadratic terms (``products="native"``), ``warm_start``, ``time_limit``, ``gap``,
#: ``log_file``, ``trace`` (primal/dual trace), ``proof`` (proves optimality), ``enumerative``
#: (limited to small spaces)
CAPABILITIES = ("mip", "products", "native_quadratic", "warm_start", "time_limit", "gap",
                "log_file", "trace", "proof", "enumerative")


@dataclass(frozen=True)
class SolveOptions:
    """The options of one solve, the same for every backend (a backend's own options are its
    constructor's keyword arguments)."""

    time_limit: float | None = None
    gap: float = 0.0
    seed: int | None = 0
    warm_start: Architecture | None = None
    products: str = "linearize"
    verbose: bool = False
    log_file: str | None = None


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


@dataclass(frozen=True)
class BackendInfo:
    """A registry entry: enough to list a backend and its capabilities without importing its
    solver library."""

    name: str
    cls: type[Backend]
    required_modules: tuple[str, ...]
    capabilities: frozenset[str]
    description: str

    def available(self) -> bool:
        return all(importlib.util.find_spec(m) is not None for m in self.required_modules)


class Backend(Parameterized, ABC):
    """A solver backend: subclass it, set ``name`` and ``capabilities``, take your options as
    keyword arguments of ``__init__`` (stored unchanged, declared in ``_parameter_constraints``)
    and implement ``solve``. Pass an instance as ``solver=`` or register it with
    :func:`iqnas.solvers.register`.

    ``iqnas.solve`` checks the parameters (``_validate_params``) before any work and warns
    (:class:`~iqnas.errors.CapabilityWarning`) when asked for something not in
    ``capabilities`` (see :data:`CAPABILITIES`).
    """

    name: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[str]] = frozenset()
    #: modules the backend needs at solve time (checked by ``iqnas.solvers.get``)
    requires: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def solve(self, problem, options: SolveOptions) -> RawSolution:
        """Solve ``problem`` (an :class:`iqnas.Problem`) under ``options``."""
