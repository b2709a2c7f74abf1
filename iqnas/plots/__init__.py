"""Plots of forms, tables and search results (optional: ``pip install 'iqnas[plots]'``).

Nothing heavy is imported here; each plotting function calls :func:`require_matplotlib` first.
"""

from __future__ import annotations

from iqnas.errors import InputError


def require_matplotlib():
    """The ``matplotlib`` module, or an InputError saying how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise InputError("plots need matplotlib: pip install 'iqnas[plots]'") from None
    return matplotlib


from iqnas.plots.pareto import plot_pareto  # noqa: E402

__all__ = ["plot_pareto", "require_matplotlib"]
