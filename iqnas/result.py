"""Result: a frozen, verified record of one solve."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from iqnas._suggest import did_you_mean
from iqnas.errors import UnknownNameError
from iqnas.space import Architecture
from iqnas.status import Status


@dataclass(frozen=True)
class ResourceValue:
    """A resource's value for the returned architecture against its budget."""

    value: float
    budget: float
    units: str = ""

    @property
    def slack(self) -> float:
        return self.budget - self.value

    def __float__(self) -> float:
        return float(self.value)

    def to_dict(self) -> dict:
        return {"value": self.value, "budget": self.budget, "slack": self.slack,
                "units": self.units}


@dataclass(frozen=True)
class TracePoint:
    time: float
    primal: float
    dual: float
    gap: float


class NamedValues(Mapping):
    """A read-only mapping of named values (resources) whose missing names are a one-line
    :class:`~iqnas.errors.UnknownNameError` naming the known ones."""

    __slots__ = ("_data", "_what")

    def __init__(self, data: Mapping | None = None, what: str = "resource") -> None:
        self._data = dict(data or {})
        self._what = what

    def __getitem__(self, name):
        try:
            return self._data[name]
        except KeyError:
            known = ", ".join(map(str, self._data)) or "(none: the problem has no constraints)"
            raise UnknownNameError(f"unknown {self._what} {name!r}{did_you_mean(name, self._data)}"
                                   f"; known: {known}") from None

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return repr(self._data)


@dataclass(frozen=True)
class Result:
    """What ``iqnas.solve`` returns. Values are recomputed from the decoded architecture.

    ``resources[name]`` is a float (the value); ``resource_details[name]`` adds budget, slack and
    units. ``objective`` is the objective form evaluated on ``architecture``; ``dual_bound`` and
    ``gap`` come from the backend.
    """

    status: Status
    architecture: Architecture | None
    objective: float | None
    resources: Mapping
    resource_details: Mapping
    raw_status: str
    gap: float | None
    dual_bound: float | None
    build_time: float
    solve_time: float
    nodes: int | None
    backend: str
    seed: int | None
    versions: MappingProxyType
    message: str = ""
    formulation: str = ""
    trace: tuple[TracePoint, ...] = ()
    verified: bool = False
    options: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    @property
    def key(self) -> str | None:
        return None if self.architecture is None else self.architecture.key

    @property
    def feasible(self) -> bool:
        return self.status.has_solution and self.verified

    def to_dict(self) -> dict[str, Any]:
        arch = self.architecture
        return {
            "status": self.status.value,
            "raw_status": self.raw_status,
            "message": self.message,
            "space": None if arch is None else arch.space.name,
            "key": None if arch is None else arch.key,
            "choices": None if arch is None else arch.active(),
            **({} if arch is None else arch.split_choices()),
            "objective": _num(self.objective),
            "resources": {k: v.to_dict() for k, v in self.resource_details.items()},
            "gap": _num(self.gap),
            "dual_bound": _num(self.dual_bound),
            "build_time": self.build_time,
            "solve_time": self.solve_time,
            "nodes": self.nodes,
            "backend": self.backend,
            "formulation": self.formulation,
            "seed": self.seed,
            "verified": self.verified,
            "versions": dict(self.versions),
            "options": dict(self.options),
            "trace": [tp.__dict__ for tp in self.trace],
        }

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), **kw)

    def __repr__(self) -> str:
        obj = "None" if self.objective is None else f"{self.objective:.6g}"
        return f"Result(status={self.status.value}, objective={obj}, key={self.key!r})"


def _num(v: float | None) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return float(v)
