"""Model quality: out-of-fold predictions against the measured values, one panel per metric
(data: iqnas.plotdata.quality_data)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from iqnas.plotdata.quality import QualityData
from iqnas.plots.figure import new_figure, save_figure

if TYPE_CHECKING:
    from pathlib import Path


def draw_quality(data: QualityData, path, *, figsize: tuple[float, float] = (8, 5),
                 dpi: float = 100) -> Path:
    """Draw :class:`~iqnas.plotdata.QualityData` to ``path`` (PNG or SVG), with the identity
    line and each metric's Kendall tau and RMSE in its panel title."""
    path, fig, axes = new_figure(path, figsize, dpi, max(1, len(data.panels)))
    for ax, (m, s) in zip(axes, data.panels.items()):
        ok = np.isfinite(s.x) & np.isfinite(s.y)
        ax.scatter(s.x[ok], s.y[ok], s=10, color="C0")
        if ok.any():
            lo, hi = float(min(s.x[ok].min(), s.y[ok].min())), float(max(s.x[ok].max(),
                                                                          s.y[ok].max()))
            ax.plot([lo, hi], [lo, hi], color="0.5", linewidth=0.8)
        row = data.table.loc[m]
        ax.set_title(f"{m}: tau {row['kendall_tau']:.3f}, RMSE {row['rmse']:.3g}",
                     fontsize="small")
        xl, yl = data.labels[m]
        ax.set_xlabel(xl, fontsize="small")
        ax.set_ylabel(yl, fontsize="small")
        ax.grid(True, color="0.9")
    fig.suptitle(data.title, fontsize="medium")
    return save_figure(fig, path, dpi)


__all__ = ["draw_quality"]
