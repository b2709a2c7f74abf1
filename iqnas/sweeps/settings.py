"""Solver settings shared by every point of a sweep, checked once before anything runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from iqnas._validation import Boolean, check_value
from iqnas.solve import SOLVE_CONSTRAINTS, backend_for
from iqnas.solvers.base import Backend


@dataclass(frozen=True)
class SweepSettings:
    """How each point is solved; ``warm_start`` and ``reuse`` decide how neighbours help.

    * ``solver``: a backend name or a configured :class:`~iqnas.solvers.Backend`; ``backend``
      is the checked instance every point uses.
    * ``reuse``: points are visited from the largest budget down; a point whose budgets are
      covered by an already solved point takes that point's proven answer when it fits (the
      feasible set only shrinks, so it stays optimal) and a proven infeasibility likewise.
    * ``warm_start``: every solve gets the best answer known so far that fits its budgets as a
      MIP start (with ``reuse=False`` points are visited upwards, so that is the lower
      neighbour's answer); only for backends that take one.
    """

    solver: str | Backend = "scip"
    time_limit: float | None = None
    gap: float = 0.0
    seed: int | None = 0
    products: str = "linearize"
    warm_start: bool = True
    reuse: bool = True
    backend: Backend = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        owner = "sweep()"
        # unknown or unavailable backends and bad options fail here, before any work
        object.__setattr__(self, "backend", backend_for(self.solver, owner))
        for name in ("time_limit", "gap", "seed", "products"):
            object.__setattr__(self, name, check_value(getattr(self, name),
                                                       SOLVE_CONSTRAINTS[name], name, owner))
        for name in ("warm_start", "reuse"):
            object.__setattr__(self, name, check_value(getattr(self, name), [Boolean()], name,
                                                       owner))

    @property
    def warm_starts(self) -> bool:
        """Whether solves get warm starts (asked for, and the backend takes them)."""
        return self.warm_start and "warm_start" in self.backend.capabilities

    def solve_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``iqnas.solve`` (without the warm start)."""
        return {"time_limit": self.time_limit, "gap": self.gap, "seed": self.seed,
                "products": self.products}

    def identity(self) -> dict[str, Any]:
        """The settings that can change an answer (recorded in, and checked against, a sweep
        file): the backend's name and the options it was given; warm starts and reuse only
        change how fast answers come."""
        return {"solver": self.backend.name, "time_limit": self.time_limit, "gap": self.gap,
                "seed": self.seed, "products": self.products,
                "params": self.backend._recorded_params()}
