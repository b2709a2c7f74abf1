"""Plots of forms, tables and search results (optional: ``pip install 'iqnas[plots]'``).

Nothing heavy is imported here; each plotting function calls :func:`require_matplotlib` first.
"""

from __future__ import annotations

from iqnas.plots.figure import require_matplotlib
from iqnas.plots.pareto import plot_pareto

__all__ = ["plot_pareto", "require_matplotlib"]
