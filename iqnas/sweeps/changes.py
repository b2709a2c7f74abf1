"""Which choices change between neighbouring points of a sweep."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from iqnas.space import Architecture

if TYPE_CHECKING:
    from iqnas.sweeps.rows import SweepRow


def diff(a: Architecture, b: Architecture) -> list[tuple[str, str | None, str | None]]:
    """(group, option in a, option in b) for every group whose option differs; a group that is
    inactive in one of them (a conditional block) shows None there."""
    da, db = a.active(), b.active()
    groups = [g.name for g in a.space.groups if g.name in da or g.name in db]
    return [(g, da.get(g), db.get(g)) for g in groups if da.get(g) != db.get(g)]


def change_rows(pairs: Sequence[tuple[SweepRow, SweepRow]],
                archs: dict[int, Architecture]) -> list[dict[str, Any]]:
    """One record (a DataFrame row) per changed group of each neighbouring pair of feasible
    points."""
    out = []
    for a, b in pairs:
        if a.point not in archs or b.point not in archs:
            continue
        for group, before, after in diff(archs[a.point], archs[b.point]):
            out.append({"point_from": a.point, "point_to": b.point,
                        "budget_from": a.budget, "budget_to": b.budget,
                        "grid_budget": a.grid_budget, "group": group,
                        "option_from": before, "option_to": after})
    return out


def summary(changes: Sequence[tuple[str, str | None, str | None]]) -> str:
    """``"e12: none->nor_conv_3x3; e23: ..."`` (inactive groups read ``-``)."""
    return "; ".join(f"{g}: {a or '-'}->{b or '-'}" for g, a, b in changes)
