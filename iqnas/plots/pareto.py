"""Pareto front plot of a sweep: the predicted front, the measured answers and the true front.

Writes PNG or SVG by the file suffix (matplotlib's Agg renderer, no pyplot state) and returns
the path; the default size is 8 x 5 in at 100 dpi (800 x 500 px, 576 x 360 pt in SVG).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from iqnas.errors import InputError
from iqnas.plots.figure import FORMATS, new_figure, save_figure
from iqnas.sweeps.front import staircase

if TYPE_CHECKING:
    from iqnas.sweeps import Sweep

__all__ = ["FORMATS", "plot_pareto"]


def plot_pareto(sweep: Sweep, path, resource: str | None = None, true_front: bool = True, *,
                figsize: tuple[float, float] = (8, 5), dpi: float = 100,
                title: str | None = None) -> Path:
    """Objective against ``resource`` (default the swept one) for every feasible answer, with
    the predicted Pareto front as a staircase. With an oracle the measured values of the answers
    are added, and with ``true_front`` and an enumerable oracle the exact constrained optimum of
    its table at each point's budgets (the true front)."""
    from iqnas.sweeps import Sweep

    if not isinstance(sweep, Sweep):
        raise InputError(f"plot_pareto needs an iqnas Sweep, got {type(sweep).__name__}")
    resource = sweep.resource if resource is None else resource
    sweep.problem.constraint(resource)
    path, fig, axes = new_figure(path, figsize, dpi, 1)
    ax = axes[0]
    df = sweep.to_dataframe()
    maximize = sweep.problem.sense == "maximize"
    feasible = df[df["feasible"]].drop_duplicates("key")
    if feasible.empty:
        ax.text(0.5, 0.5, "no feasible point", ha="center", va="center",
                transform=ax.transAxes)
    else:
        x, y = feasible[resource].to_numpy(float), feasible["objective"].to_numpy(float)
        on = staircase(x, y, maximize)
        _steps(ax, x[on], y[on], "C0", "-", "o", "predicted front")
        off = np.setdiff1d(np.arange(len(x)), on)
        if off.size:
            ax.scatter(x[off], y[off], color="0.6", marker=".", label="other answers", zorder=2)
    measured = sweep.truth is not None and resource in sweep.truth.metrics
    if measured and not feasible.empty:
        m = feasible[feasible["true_feasible"].eq(True)]
        ax.scatter(m[f"true_{resource}"], m["true_objective"], color="C1", marker="^",
                   label="answers, measured", zorder=3)
    if true_front and sweep.has_true_front and resource == sweep.resource:
        tf = sweep.true_front().dropna(subset=["key"]).drop_duplicates("key")
        if not tf.empty:
            tx, ty = tf[f"true_{resource}"].to_numpy(float), tf["true_objective"].to_numpy(float)
            on = staircase(tx, ty, maximize)
            _steps(ax, tx[on], ty[on], "k", "--", "s", "true front (table optimum)")
    units = sweep.problem.constraint(resource).units
    ax.set_xlabel(f"{resource}{f' ({units})' if units else ''}")
    name = sweep.problem.objective.name or "objective"
    if sweep.truth is not None:
        name += f" / measured {sweep.truth.objective_metric}"
    ax.set_ylabel(name)
    ax.set_title(title or f"Pareto front - {resource}", fontsize="medium")
    ax.grid(True, color="0.9")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small", loc="lower right" if maximize else "upper right")
    return save_figure(fig, path, dpi)


def _steps(ax, x: np.ndarray, y: np.ndarray, color: str, style: str, marker: str,
           label: str) -> None:
    order = np.argsort(x, kind="stable")
    ax.step(x[order], y[order], where="post", color=color, linestyle=style, marker=marker,
            markersize=4, label=label, zorder=3)
