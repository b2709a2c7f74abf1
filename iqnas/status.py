"""One status enum for every backend, with a total mapping of SCIP's status strings."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    OPTIMAL = "optimal"                        # proven optimal
    OPTIMAL_WITHIN_GAP = "optimal_within_gap"  # stopped at the requested gap
    FEASIBLE = "feasible"                      # a limit was hit; the incumbent is returned
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INF_OR_UNBD = "infeasible_or_unbounded"
    NO_SOLUTION = "no_solution"                # a limit was hit before any solution was found
    INTERRUPTED = "interrupted"
    ERROR = "error"
    UNKNOWN = "unknown"

    @property
    def has_solution(self) -> bool:
        return self in (Status.OPTIMAL, Status.OPTIMAL_WITHIN_GAP, Status.FEASIBLE)


#: every status string PySCIPOpt's Model.getStatus() can return, with or without an incumbent
SCIP_STATUS = {
    "optimal": (Status.OPTIMAL, Status.UNKNOWN),
    "gaplimit": (Status.OPTIMAL_WITHIN_GAP, Status.NO_SOLUTION),
    "timelimit": (Status.FEASIBLE, Status.NO_SOLUTION),
    "nodelimit": (Status.FEASIBLE, Status.NO_SOLUTION),
    "totalnodelimit": (Status.FEASIBLE, Status.NO_SOLUTION),
    "stallnodelimit": (Status.FEASIBLE, Status.NO_SOLUTION),
    "memlimit": (Status.FEASIBLE, Status.NO_SOLUTION),
    "sollimit": (Status.FEASIBLE, Status.NO_SOLUTION),
    "bestsollimit": (Status.FEASIBLE, Status.NO_SOLUTION),
    "restartlimit": (Status.FEASIBLE, Status.NO_SOLUTION),
    "primallimit": (Status.FEASIBLE, Status.NO_SOLUTION),
    "duallimit": (Status.FEASIBLE, Status.NO_SOLUTION),
    "userinterrupt": (Status.INTERRUPTED, Status.INTERRUPTED),
    "terminate": (Status.INTERRUPTED, Status.INTERRUPTED),
    "infeasible": (Status.INFEASIBLE, Status.INFEASIBLE),
    "unbounded": (Status.UNBOUNDED, Status.UNBOUNDED),
    "inforunbd": (Status.INF_OR_UNBD, Status.INF_OR_UNBD),
    "unknown": (Status.UNKNOWN, Status.UNKNOWN),
}


def from_scip(raw: str, has_solution: bool, gap: float | None = None,
              gap_tol: float = 1e-9) -> Status:
    """Map a SCIP status string; strings SCIP may add later give UNKNOWN.

    A limit (or a user interrupt) with an incumbent is FEASIBLE, or OPTIMAL when the gap closed.
    """
    with_sol, without = SCIP_STATUS.get(str(raw).lower(), (Status.UNKNOWN, Status.UNKNOWN))
    status = with_sol if has_solution else without
    if status is Status.FEASIBLE and gap is not None and gap <= gap_tol:
        return Status.OPTIMAL
    if status is Status.INTERRUPTED and has_solution:
        return Status.FEASIBLE
    return status
