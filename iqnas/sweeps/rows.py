"""SweepRow: one sweep point's record, from a verified Result or from a covering point's proven
answer, and its JSON form (one line of the sweep file)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from iqnas.errors import InputError
from iqnas.problem import Problem
from iqnas.result import Result
from iqnas.solve import explain_infeasible
from iqnas.space import Architecture
from iqnas.status import Status
from iqnas.sweeps.points import SweepPoint

#: how a point's answer was obtained
COLD, WARM, REUSED = "cold", "warm", "reused"
#: statuses whose answer (or infeasibility) carries over to every point a solved point covers
PROVEN = frozenset({Status.OPTIMAL, Status.OPTIMAL_WITHIN_GAP})
PROVEN_INFEASIBLE = frozenset({Status.INFEASIBLE, Status.INF_OR_UNBD})


@dataclass(frozen=True)
class SweepRow:
    """The verified record of one sweep point.

    ``objective``, ``key``, ``choices`` and ``resources`` describe the point's answer (None and
    empty without one); ``source`` says how it was obtained (``cold``/``warm`` solve, or
    ``reused`` from the covering point ``from_point``); ``time`` is the point's wall time.
    """

    point: int
    budget: float
    grid_budget: float | None
    status: Status
    raw_status: str
    feasible: bool
    objective: float | None = None
    key: str | None = None
    choices: tuple[int, ...] | None = None
    resources: dict[str, float] = field(default_factory=dict)
    gap: float | None = None
    dual_bound: float | None = None
    time: float = 0.0
    nodes: int | None = None
    source: str = COLD
    from_point: int | None = None
    message: str = ""

    @classmethod
    def from_result(cls, point: SweepPoint, res: Result, seconds: float, source: str = COLD,
                    from_point: int | None = None) -> SweepRow:
        """The record of a solved point; every number comes from the verified ``res``."""
        arch = res.architecture if res.feasible else None
        return cls(
            point=point.index, budget=point.budget, grid_budget=point.grid_budget,
            status=res.status, raw_status=res.raw_status, feasible=res.feasible,
            objective=_num(res.objective) if arch is not None else None,
            key=None if arch is None else arch.key,
            choices=None if arch is None else tuple(int(c) for c in arch.choices),
            resources={} if arch is None else {k: float(v) for k, v in res.resources.items()},
            gap=_num(res.gap), dual_bound=_num(res.dual_bound), time=float(seconds),
            nodes=res.nodes, source=source, from_point=from_point, message=res.message)

    def architecture(self, problem: Problem) -> Architecture | None:
        """The answer as an architecture of ``problem``'s space (None without one)."""
        return None if self.choices is None else problem.space.arch(self.choices)

    def belongs_to(self, point: SweepPoint) -> bool:
        """Whether this record is of ``point`` (same index and budgets)."""
        return (self.point == point.index and self.budget == point.budget
                and self.grid_budget == point.grid_budget)

    def sweep_point(self) -> SweepPoint:
        return SweepPoint(self.point, self.budget, self.grid_budget)

    # ---- the sweep file ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON form (the keys of a sweep file's point line)."""
        d = asdict(self)
        d["status"] = self.status.value
        d["choices"] = None if self.choices is None else list(self.choices)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SweepRow:
        """A record from its JSON form (InputError naming the field that is wrong)."""
        names = {f.name for f in fields(cls)}
        required = ("point", "budget", "status")
        missing = [k for k in required if k not in d]
        if missing:
            raise InputError(f"a sweep point record lacks {', '.join(missing)}")
        try:
            status = Status(d["status"])
        except ValueError:
            raise InputError(f"unknown status {d['status']!r} in a sweep point record") from None
        try:
            kw = {k: v for k, v in d.items() if k in names}
            kw.update(
                point=int(d["point"]), budget=float(d["budget"]), status=status,
                grid_budget=None if d.get("grid_budget") is None else float(d["grid_budget"]),
                raw_status=str(d.get("raw_status", status.value)),
                feasible=bool(d.get("feasible", False)),
                objective=_opt_float(d.get("objective")),
                choices=None if d.get("choices") is None
                else tuple(int(c) for c in d["choices"]),
                resources={str(k): float(v) for k, v in (d.get("resources") or {}).items()},
                gap=_opt_float(d.get("gap")), dual_bound=_opt_float(d.get("dual_bound")),
                time=float(d.get("time", 0.0)),
                nodes=None if d.get("nodes") is None else int(d["nodes"]),
                from_point=None if d.get("from_point") is None else int(d["from_point"]),
                message=str(d.get("message", "")))
        except (TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"a sweep point record has a bad value ({exc})") from None
        return cls(**kw)


def reused_row(problem: Problem, point: SweepPoint, src: SweepRow,
               seconds: float) -> SweepRow | None:
    """``src``'s answer at ``point`` when ``src`` covers it, or None if it does not fit.

    The answer is re-verified from the architecture against this point's own budgets; the
    objective, status and dual bound carry over (the feasible set only shrank).
    """
    blank = SweepRow(point.index, point.budget, point.grid_budget, src.status, src.raw_status,
                     False, nodes=0, time=seconds, source=REUSED, from_point=src.point)
    if src.status in PROVEN_INFEASIBLE:
        return replace(blank, message=explain_infeasible(problem))
    if src.status not in PROVEN or src.choices is None:
        return None
    arch = problem.space.arch(src.choices)
    if problem.violations(arch):
        return None
    x = problem.space.encode(arch)
    objective = problem.objective(x)  # the same form and architecture: src's objective and gap
    return replace(blank, feasible=True, objective=float(objective), key=arch.key,
                   choices=tuple(int(c) for c in arch.choices),
                   resources={c.name: float(c.form(x)) for c in problem.constraints}, gap=src.gap,
                   dual_bound=src.dual_bound)


def _num(v) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return float(v)


def _opt_float(v) -> float | None:
    return None if v is None else float(v)
