"""Pareto front plot of a sweep: the predicted front, the measured answers and the true front.

Writes PNG or SVG by the file suffix (matplotlib's Agg renderer, no pyplot state) and returns
the path; the default size is 8 x 5 in at 100 dpi (800 x 500 px, 576 x 360 pt in SVG). The
points come from :func:`iqnas.plotdata.pareto_data`, as in the HTML report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from iqnas.plotdata.pareto import ParetoData, pareto_data
from iqnas.plots.figure import FORMATS, new_figure, save_figure

if TYPE_CHECKING:
    from pathlib import Path

    from iqnas.sweeps import Sweep

__all__ = ["FORMATS", "draw_pareto", "plot_pareto"]

#: matplotlib style per series kind: colour, marker, line style of a staircase
STYLE = {"front": ("C0", "o", "-"), "other": ("0.6", ".", ""), "measured": ("C1", "^", ""),
         "broken": ("C3", "x", ""), "true": ("k", "s", "--")}


def plot_pareto(sweep: Sweep, path, resource: str | None = None, true_front: bool = True, *,
                figsize: tuple[float, float] = (8, 5), dpi: float = 100,
                title: str | None = None, xlabel: str | None = None,
                ylabel: str | None = None) -> Path:
    """Objective against ``resource`` (default the swept one) for every feasible answer, with
    the predicted Pareto front as a staircase. With an oracle the measured values of the answers
    are added, and with ``true_front`` and an enumerable oracle the exact constrained optimum of
    its table at each point's budgets (the true front). Axis titles carry the units of the forms
    (``title``, ``xlabel``, ``ylabel`` replace the defaults); the swept budgets are the thin
    vertical lines."""
    data = pareto_data(sweep, resource, true_front, title=title, xlabel=xlabel, ylabel=ylabel)
    return draw_pareto(data, path, figsize=figsize, dpi=dpi)


def draw_pareto(data: ParetoData, path, *, figsize: tuple[float, float] = (8, 5),
                dpi: float = 100) -> Path:
    """Draw :class:`~iqnas.plotdata.ParetoData` to ``path`` (PNG or SVG)."""
    path, fig, axes = new_figure(path, figsize, dpi, 1)
    ax = axes[0]
    for k, b in enumerate(data.budgets):
        ax.axvline(b, color="0.85", linewidth=0.8, zorder=1,
                   label=f"budgets ({data.budget_units})" if k == 0 and data.budget_units
                   else ("budgets" if k == 0 else None))
    if data.note:
        ax.text(0.5, 0.5, data.note, ha="center", va="center", transform=ax.transAxes)
    for s in data.series:
        color, marker, style = STYLE.get(s.kind, ("C2", "o", ""))
        if s.step:
            order = np.argsort(s.x, kind="stable")
            ax.step(s.x[order], s.y[order], where="post", color=color, linestyle=style,
                    marker=marker, markersize=4, label=s.name, zorder=3)
        else:
            ax.scatter(s.x, s.y, color=color, marker=marker, label=s.name, zorder=3)
    ax.set_xlabel(data.xlabel)
    ax.set_ylabel(data.ylabel)
    ax.set_title(data.title, fontsize="medium")
    ax.grid(True, color="0.9")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small", loc="lower right" if data.maximize else "upper right")
    return save_figure(fig, path, dpi)
