"""The points of a sweep: one budget (1-D) or a pair of budgets (2-D grid), in a fixed order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SweepPoint:
    """Point ``index`` of a sweep: ``budget`` of the swept resource, ``grid_budget`` of the
    second resource of a grid (None for a 1-D sweep)."""

    index: int
    budget: float
    grid_budget: float | None = None

    @property
    def order_key(self) -> tuple[float, float]:
        """Sort key: grid budget first, then budget (the order of points in a sweep)."""
        return (-1.0 if self.grid_budget is None else self.grid_budget, self.budget)

    def budgets(self, resource: str, grid_resource: str | None) -> dict[str, float]:
        out = {resource: self.budget}
        if grid_resource is not None:
            out[grid_resource] = float(self.grid_budget)
        return out

    def covers(self, other: SweepPoint) -> bool:
        """Every budget of ``self`` is at least the matching budget of ``other``: the feasible
        set of ``other`` is contained in the feasible set of ``self``."""
        if self.budget < other.budget:
            return False
        return self.grid_budget is None or self.grid_budget >= other.grid_budget


def make_points(budgets: Sequence[float], grid_budgets: Sequence[float] | None) -> list[SweepPoint]:
    """Points in sweep order: ascending budget, inside ascending grid budget for a grid."""
    if grid_budgets is None:
        return [SweepPoint(i, float(b)) for i, b in enumerate(budgets)]
    return [SweepPoint(i * len(budgets) + j, float(b), float(g))
            for i, g in enumerate(grid_budgets) for j, b in enumerate(budgets)]


def neighbours(points: Sequence[SweepPoint]) -> list[tuple[SweepPoint, SweepPoint]]:
    """Consecutive pairs along the swept resource (inside one grid row for a grid)."""
    ordered = sorted(points, key=lambda p: p.order_key)
    return [(a, b) for a, b in zip(ordered, ordered[1:]) if a.grid_budget == b.grid_budget]
