"""One sweep point's record (a plain JSON-able dict), from a verified Result or from a covering
point's proven answer."""

from __future__ import annotations

import math
from typing import Any

from iqnas.problem import Problem
from iqnas.result import Result
from iqnas.solve import explain_infeasible
from iqnas.space import Architecture
from iqnas.status import Status
from iqnas.sweeps.points import SweepPoint

#: how a point's answer was obtained
COLD, WARM, REUSED = "cold", "warm", "reused"
#: statuses whose answer (or infeasibility) carries over to every point a solved point covers
PROVEN = frozenset({Status.OPTIMAL.value, Status.OPTIMAL_WITHIN_GAP.value})
PROVEN_INFEASIBLE = frozenset({Status.INFEASIBLE.value, Status.INF_OR_UNBD.value})


def row_from_result(point: SweepPoint, res: Result, seconds: float, source: str = COLD,
                    from_point: int | None = None) -> dict[str, Any]:
    """The record of a solved point; every number comes from the verified ``res``."""
    arch = res.architecture if res.feasible else None
    return {
        "point": point.index, "budget": point.budget, "grid_budget": point.grid_budget,
        "status": res.status.value, "raw_status": res.raw_status, "feasible": res.feasible,
        "objective": _num(res.objective) if arch is not None else None,
        "key": None if arch is None else arch.key,
        "choices": None if arch is None else [int(c) for c in arch.choices],
        "resources": {} if arch is None else {k: float(v) for k, v in res.resources.items()},
        "gap": _num(res.gap), "dual_bound": _num(res.dual_bound), "time": float(seconds),
        "nodes": res.nodes, "source": source, "from_point": from_point, "message": res.message,
    }


def reused_row(problem: Problem, point: SweepPoint, src: dict[str, Any],
               seconds: float) -> dict[str, Any] | None:
    """``src``'s answer at ``point`` when ``src`` covers it, or None if it does not fit.

    The answer is re-verified from the architecture against this point's own budgets; the
    objective, status and dual bound carry over (the feasible set only shrank).
    """
    if src["status"] in PROVEN_INFEASIBLE:
        return {**_blank(point, src), "status": src["status"], "raw_status": src["raw_status"],
                "feasible": False, "message": explain_infeasible(problem), "time": seconds}
    if src["status"] not in PROVEN or src["choices"] is None:
        return None
    arch = problem.space.arch(src["choices"])
    if problem.violations(arch):
        return None
    x = problem.space.encode(arch)
    objective = problem.objective(x)  # the same form and architecture: src's objective and gap
    gap = src["gap"]
    return {**_blank(point, src), "status": src["status"], "raw_status": src["raw_status"],
            "feasible": True, "objective": objective, "key": arch.key,
            "choices": [int(c) for c in arch.choices],
            "resources": {c.name: c.form(x) for c in problem.constraints}, "gap": gap,
            "dual_bound": src["dual_bound"], "time": seconds}


def architecture(problem: Problem, row: dict[str, Any]) -> Architecture | None:
    return None if row.get("choices") is None else problem.space.arch(row["choices"])


def _blank(point: SweepPoint, src: dict[str, Any]) -> dict[str, Any]:
    return {"point": point.index, "budget": point.budget, "grid_budget": point.grid_budget,
            "objective": None, "key": None, "choices": None, "resources": {}, "gap": None,
            "dual_bound": None, "nodes": 0, "source": REUSED, "from_point": src["point"],
            "message": ""}


def _num(v) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return float(v)
