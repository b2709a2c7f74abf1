"""MeasuredResult: an architecture with an oracle's measurements of it, checked against the true
budgets (what calibration reports, next to the solver's :class:`~iqnas.result.Result`)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from iqnas.problem import within_budget
from iqnas.result import NamedValues, ResourceValue, Result
from iqnas.space import Architecture


def meets_budgets(values: Mapping[str, Any], budgets: Mapping[str, float]):
    """Whether measured ``values`` meet every budget: finite and within it (BUDGET_RTOL).

    ``values[m]`` may be a number (gives a bool) or an array / column (gives a boolean array).
    """
    ok: Any = True
    for m, b in budgets.items():
        v = np.asarray(values[m], dtype=float)
        ok = ok & np.isfinite(v) & within_budget(v, b)
    return bool(ok) if np.ndim(ok) == 0 else np.asarray(ok, dtype=bool)


def feasible_rows(table, budgets: Mapping[str, float]) -> np.ndarray:
    """Which rows of a table of measurements (columns per metric) meet every budget."""
    if not budgets:
        return np.ones(len(table), dtype=bool)
    return np.asarray(meets_budgets(table, budgets), dtype=bool)


@dataclass(frozen=True)
class MeasuredResult:
    """One architecture and the oracle's values for it (``measured``), checked against the true
    ``budgets``.

    ``predicted_objective`` is the fitted objective model's value; ``result`` the verified IQP
    answer the architecture came from (None when it was picked among measured samples);
    ``rejected`` the IQP answers measured before it and cut off for breaking a true budget.
    """

    architecture: Architecture
    measured: Mapping[str, float]
    objective_metric: str
    budgets: Mapping[str, float]
    predicted_objective: float | None = None
    result: Result | None = None
    rejected: tuple[Architecture, ...] = ()
    units: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "measured", MappingProxyType(
            {str(k): float(v) for k, v in self.measured.items()}))
        object.__setattr__(self, "budgets", MappingProxyType(
            {str(k): float(v) for k, v in self.budgets.items()}))
        object.__setattr__(self, "units", MappingProxyType(dict(self.units)))
        object.__setattr__(self, "rejected", tuple(self.rejected))

    @classmethod
    def from_solve(cls, result: Result, measured: Mapping[str, float], objective_metric: str,
                   budgets: Mapping[str, float], rejected=(), units=None) -> MeasuredResult:
        """A verified solver ``result`` with the oracle's values of its architecture."""
        return cls(result.architecture, measured, objective_metric, budgets, result.objective,
                   result, tuple(rejected), units or {})

    @property
    def key(self) -> str:
        return self.architecture.key

    @property
    def truly_feasible(self) -> bool:
        """Every budgeted metric is measured (finite) and within its budget."""
        return meets_budgets(self.measured, self.budgets)

    @property
    def true_objective(self) -> float:
        """The measured value of the objective metric."""
        return self.measured[self.objective_metric]

    @property
    def resources(self) -> Mapping[str, float]:
        """The measured value of each budgeted metric."""
        return NamedValues({m: self.measured[m] for m in self.budgets}, "budgeted metric")

    @property
    def resource_details(self) -> Mapping[str, ResourceValue]:
        """Each budgeted metric's measured value with its budget, slack and units."""
        return NamedValues({m: ResourceValue(self.measured[m], b, self.units.get(m, ""))
                            for m, b in self.budgets.items()}, "budgeted metric")

    def to_dict(self) -> dict[str, Any]:
        arch = self.architecture
        return {
            "space": arch.space.name, "key": arch.key, "choices": arch.active(),
            **arch.split_choices(),
            "objective_metric": self.objective_metric,
            "true_objective": _num(self.true_objective),
            "predicted_objective": _num(self.predicted_objective),
            "truly_feasible": self.truly_feasible,
            "measured": {k: _num(v) for k, v in self.measured.items()},
            "resources": {m: v.to_dict() for m, v in self.resource_details.items()},
            "rejected": [a.key for a in self.rejected],
            "result": None if self.result is None else self.result.to_dict(),
        }

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), **kw)

    def __repr__(self) -> str:
        return (f"MeasuredResult({self.objective_metric}={self.true_objective:.6g}, "
                f"truly_feasible={self.truly_feasible}, key={self.key!r})")


def _num(v: float | None) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return float(v)
