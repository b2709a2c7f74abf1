"""Plots of forms, tables and search results (optional: ``pip install 'iqnas[plots]'``).

Nothing heavy is imported here; without matplotlib, each plotting function says how to install it.
Every figure is drawn from the renderer-free data of :mod:`iqnas.plotdata` (the same data as the
HTML report's figures); ``draw(data, path)`` writes any of them as PNG or SVG.
"""

from __future__ import annotations

from iqnas.plots.dispatch import draw
from iqnas.plots.pareto import plot_pareto

__all__ = ["draw", "plot_pareto"]
