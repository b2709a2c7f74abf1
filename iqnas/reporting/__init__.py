"""The HTML report of a run: ``iqnas.report(store=..., models=..., sweep=..., out=...)`` and
``iqnas report`` (optional: ``pip install 'iqnas[report]'``, plotly).

One self-contained file: the run's settings and what was measured, progress over rounds beside
random search, the Pareto front of a sweep, the coefficient tables as figures, model quality, a
sortable samples table and the chosen networks with their export command. plotly.js and every
figure are inline, so the page opens with no network. The package is named ``reporting`` so
that it never shadows the function ``iqnas.report``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from iqnas._optional import require
from iqnas.errors import InputError

log = logging.getLogger(__name__)


def report(store, models=None, sweep=None, out="report.html", *, title: str | None = None,
           xlabel: str | None = None, ylabel: str | None = None, n_bootstrap: int = 50,
           seed: int = 0, figures: str | Path | None = None,
           figure_format: str = "png") -> Path:
    """Write the HTML report of a calibration run to ``out`` and return its path.

    ``store`` is the run's SQLite sample store (or a :class:`~iqnas.calibration.CalibrationRun`);
    ``models`` the ``--save-models`` directory of the run (or a dict metric -> QuadraticForm;
    None refits the models from the samples as the run did); ``sweep`` a sweep file
    (``iqnas sweep --out FILE.jsonl``) solved with those models, or a :class:`~iqnas.Sweep`.
    ``title`` names the page, ``xlabel``/``ylabel`` replace the Pareto front's axis titles;
    ``n_bootstrap`` refits give the coefficients' intervals (0: none). ``figures`` is a folder
    that also gets every figure as a PNG or SVG (``figure_format``) drawn by matplotlib from
    the same data. Every input is checked before any work; the file is written to a temporary
    name and renamed, so ``out`` is never half-written.
    """
    from iqnas._outputs import write_text_atomic
    from iqnas.reporting.build import Report, write_figures
    from iqnas.reporting.inputs import load_inputs

    require("plotly", "the HTML report")
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or n_bootstrap < 0 \
            or n_bootstrap == 1:
        raise InputError(f"n_bootstrap must be 0 (no intervals) or an integer >= 2 (refits for "
                         f"the 95% intervals), got {n_bootstrap!r}")
    if figure_format not in ("png", "svg"):
        raise InputError(f"figure_format must be 'png' or 'svg', got {figure_format!r}")
    if figures is not None:
        require("matplotlib", "figures=")
        if Path(figures).exists() and not Path(figures).is_dir():
            raise InputError(f"figures={figures} is a file; give a folder")
    inputs = load_inputs(store, models, sweep, out)
    builder = Report(inputs, title=title, xlabel=xlabel, ylabel=ylabel, n_bootstrap=n_bootstrap,
                     seed=seed)
    from plotly.offline import get_plotlyjs

    text = builder.html(get_plotlyjs())
    path = write_text_atomic(inputs.out, text, "--out")
    log.info("wrote %s (%.1f MB, %d figures)", path, len(text) / 1e6, len(builder.figures))
    if figures is not None:
        write_figures(builder.figures, Path(figures), figure_format)
    return path


__all__ = ["report"]
