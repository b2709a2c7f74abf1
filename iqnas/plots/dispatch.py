"""``draw(data, path)``: a PNG or SVG of any figure data of :mod:`iqnas.plotdata`."""

from __future__ import annotations

from pathlib import Path

from iqnas.errors import InputError


def draw(data, path, *, figsize: tuple[float, float] = (8, 5), dpi: float = 100) -> Path:
    """Write ``data`` (ParetoData, ProgressData, EffectsData, MatrixData, BarData or a list of
    BarData, QualityData) with the matching matplotlib drawing; returns the path."""
    from iqnas.plotdata import (
        BarData,
        EffectsData,
        MatrixData,
        ParetoData,
        ProgressData,
        QualityData,
    )
    from iqnas.plots.coefficients import draw_bars, draw_effects, draw_matrix
    from iqnas.plots.pareto import draw_pareto
    from iqnas.plots.progress import draw_progress
    from iqnas.plots.quality import draw_quality

    kinds = ((ParetoData, draw_pareto), (ProgressData, draw_progress),
             (EffectsData, draw_effects), (MatrixData, draw_matrix), (BarData, draw_bars),
             (QualityData, draw_quality))
    if isinstance(data, (list, tuple)) and data and all(isinstance(d, BarData) for d in data):
        return draw_bars(data, path, figsize=figsize, dpi=dpi)
    for cls, fn in kinds:
        if isinstance(data, cls):
            return fn(data, path, figsize=figsize, dpi=dpi)
    raise InputError(f"draw() needs figure data from iqnas.plotdata, got {type(data).__name__}")
