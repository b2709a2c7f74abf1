"""Progress of a calibration run: the best truly feasible objective against the number of
measured networks, beside random search on a table oracle (data: iqnas.plotdata.progress_data).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from iqnas.plotdata.progress import ProgressData
from iqnas.plots.figure import new_figure, save_figure

if TYPE_CHECKING:
    from pathlib import Path


def draw_progress(data: ProgressData, path, *, figsize: tuple[float, float] = (8, 5),
                  dpi: float = 100) -> Path:
    """Draw :class:`~iqnas.plotdata.ProgressData` to ``path`` (PNG or SVG): each scenario's
    best-so-far staircase, the random-search expectation with its 10-90 % band, and dotted
    lines where each round ended."""
    path, fig, axes = new_figure(path, figsize, dpi, 1)
    ax = axes[0]
    for k, r in enumerate(data.rounds):
        ax.axvline(r + 0.5, color="0.8", linestyle=":", linewidth=0.8,
                   label="end of a round" if k == 0 else None)
    colors = iter(f"C{i}" for i in range(10))
    color = "C0"
    for s in data.series:
        if s.kind == "run":
            color = next(colors)
            ax.step(s.x, s.y, where="post", color=color, label=s.name, zorder=3)
            imp = s.extra.get("improvements", np.array([], dtype=int))
            ax.scatter(s.x[imp], s.y[imp], color=color, s=12, zorder=4)
        else:
            ax.plot(s.x, s.y, color=color, linestyle="--", label=s.name, zorder=2)
            if s.band is not None:
                ax.fill_between(s.x, s.band[0], s.band[1], color=color, alpha=0.15,
                                linewidth=0, label="random search, 10-90 %")
    if data.note:
        ax.text(0.02, 0.02, data.note, transform=ax.transAxes, fontsize="small", color="0.3")
    ax.set_xlabel(data.xlabel)
    ax.set_ylabel(data.ylabel)
    ax.set_title(data.title, fontsize="medium")
    ax.grid(True, color="0.9")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small", loc="lower right")
    return save_figure(fig, path, dpi)


__all__ = ["draw_progress"]
