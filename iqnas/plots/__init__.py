"""Plots of forms, tables and search results (optional: ``pip install 'iqnas[plots]'``).

Nothing heavy is imported here; without matplotlib, each plotting function says how to install it.
"""

from __future__ import annotations

from iqnas.plots.pareto import plot_pareto

__all__ = ["plot_pareto"]
