"""What every plot shares: a new Agg figure (matplotlib checked first) and saving it by its
suffix."""

from __future__ import annotations

from pathlib import Path

from iqnas._optional import require
from iqnas.errors import InputError

FORMATS = (".png", ".svg")


def new_figure(path, figsize: tuple[float, float], dpi: float, ncols: int):
    require("matplotlib", "plotting")
    from matplotlib.figure import Figure

    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise InputError(f"plot file {path} must end in {' or '.join(FORMATS)}")
    if dpi <= 0 or min(figsize) <= 0:
        raise InputError(f"figsize {figsize} and dpi {dpi} must be positive")
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    return path, fig, fig.subplots(1, ncols, squeeze=False)[0]


def save_figure(fig, path: Path, dpi: float) -> Path:
    fig.savefig(path, dpi=dpi, format=path.suffix.lower()[1:])
    return path
