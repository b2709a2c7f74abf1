"""Coefficient plots: main-effect heatmaps and points with intervals, the group x group
interaction heatmap and the per-stage depth and width bars.

Each takes a fitted QuadraticForm (explained on the fly) or a table from ``iqnas.explain``, write
PNG or SVG by the file suffix (matplotlib's Agg renderer, no pyplot state) and return the path.
The default size is 8 x 5 in at 100 dpi: 800 x 500 px, or 576 x 360 pt in SVG.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from iqnas.errors import InputError
from iqnas.plotdata.effects import (
    BarData,
    EffectsData,
    MatrixData,
    depth_data,
    error_bars,
    has_rows,
    interaction_data,
    main_effects_data,
    width_data,
)
from iqnas.plots.figure import new_figure, save_figure

_ANNOTATE_MAX = 120  # annotate heatmap cells only when there are at most this many


def _table(form_or_table, tables: list[str]):
    import pandas as pd

    from iqnas.interpret import explain
    from iqnas.quadform import QuadraticForm

    if isinstance(form_or_table, QuadraticForm):
        return explain(form_or_table, tables=tables)
    if isinstance(form_or_table, pd.DataFrame) and "table" in form_or_table.columns:
        return form_or_table
    raise InputError("plots need a QuadraticForm or a table from iqnas.explain, got "
                     f"{type(form_or_table).__name__}")


def _rows(df, table: str, metric: str | None):
    part = df[df["table"] == table]
    if part.empty:
        raise InputError(f"the table has no {table!r} rows to plot")
    metrics = list(dict.fromkeys(part["metric"]))
    metric = metrics[0] if metric is None else metric
    if metric not in metrics:
        raise InputError(f"no {table!r} rows for metric {metric!r}; the table has {metrics}")
    return part[part["metric"] == metric], metric


def _units(df, metric: str) -> str:
    forms = df.attrs.get("forms", {})
    units = forms.get(metric, {}).get("units", "") if isinstance(forms, dict) else ""
    return f" ({units})" if units else ""


def _heat(fig, ax, M: np.ndarray, rows: Sequence[str], cols: Sequence[str], label: str,
          title: str) -> None:
    import matplotlib

    finite = M[np.isfinite(M)]
    vmax = float(np.abs(finite).max()) if finite.size else 1.0
    cmap = matplotlib.colormaps["RdBu"].with_extremes(bad="0.85")
    im = ax.imshow(np.ma.masked_invalid(M), cmap=cmap, vmin=-vmax or -1, vmax=vmax or 1,
                   aspect="auto", interpolation="nearest")
    ax.set_xticks(range(len(cols)), [str(c) for c in cols], rotation=45, ha="right",
                  fontsize="small")
    ax.set_yticks(range(len(rows)), [str(r) for r in rows], fontsize="small")
    ax.set_title(title, fontsize="medium")
    if M.size <= _ANNOTATE_MAX:
        for (i, j), v in np.ndenumerate(M):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize="x-small",
                        color="white" if abs(v) > 0.6 * vmax else "black")
    fig.colorbar(im, ax=ax, label=label, shrink=0.9)


def _matrix(part, row_col: str, col_col: str, value: str = "value"):
    rows = list(dict.fromkeys(part[row_col]))
    cols = list(dict.fromkeys(part[col_col]))
    M = np.full((len(rows), len(cols)), np.nan)
    ri, ci = {r: k for k, r in enumerate(rows)}, {c: k for k, c in enumerate(cols)}
    for r, c, v in zip(part[row_col], part[col_col], part[value]):
        M[ri[r], ci[c]] = v
    return M, rows, cols


def coefficient_heatmap(form_or_table, path, *, metric: str | None = None,
                        interaction: tuple[str, str] | None = None,
                        groups: Sequence[str] | None = None, table: str = "main",
                        figsize: tuple[float, float] = (8, 5), dpi: float = 100,
                        title: str | None = None) -> Path:
    """Groups x options heatmap of main effects; ``interaction=(g1, g2)`` adds that block.

    ``table="resources"`` with ``metric=NAME`` plots a resource's per-option cost instead.
    Options missing from a group are grey.
    """
    if table not in ("main", "resources"):
        raise InputError(f"table={table!r}: the heatmap shows 'main' or 'resources' rows")
    tables = ["main"] + (["interactions"] if interaction else [])
    df = _table(form_or_table, tables)
    part, metric = _rows(df, table, metric)
    if groups is not None:
        missing = sorted(set(groups) - set(part["group"]))
        if missing:
            raise InputError(f"group(s) {missing} are not in the table")
        part = part[part["group"].isin(list(groups))]
    block = _interaction_block(df, metric, interaction) if interaction else None
    path, fig, axes = new_figure(path, figsize, dpi, 2 if block is not None else 1)
    M, rows, cols = _matrix(part, "group", "option")
    ref = part["reference"].iloc[0] if part["reference"].nunique() == 1 else "reference"
    _heat(fig, axes[0], M, rows, cols, f"effect vs {ref}{_units(df, metric)}",
          title or f"main effects - {metric}")
    if block is not None:
        B, br, bc = block
        _heat(fig, axes[1], B, br, bc, "centred interaction",
              f"{interaction[0]} x {interaction[1]}")
        axes[1].set_ylabel(interaction[0])
        axes[1].set_xlabel(interaction[1])
    return save_figure(fig, path, dpi)


def _interaction_block(df, metric: str, pair: tuple[str, str]):
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
        raise InputError(f"interaction must be a (group, group) pair, got {pair!r}")
    g1, g2 = pair
    part = df[(df["table"] == "interactions") & (df["metric"] == metric)]
    fwd = part[(part["group"] == g1) & (part["group2"] == g2)]
    if not fwd.empty:
        return _matrix(fwd, "option", "option2")
    rev = part[(part["group"] == g2) & (part["group2"] == g1)]
    if rev.empty:
        raise InputError(f"no interaction rows between {g1!r} and {g2!r} for {metric!r} "
                         "(the block is zero or the table has no 'interactions')")
    return _matrix(rev, "option2", "option")


def depth_chart(form_or_table, path, *, metric: str | None = None,
                figsize: tuple[float, float] = (8, 5), dpi: float = 100,
                title: str | None = None) -> Path:
    """Bars of the depth contribution per stage and added block; beside them, when the space
    has expansion options, bars of the width contribution per stage and block (BINAS-style).
    Bootstrap intervals of the table are drawn as error bars."""
    df = _table(form_or_table, ["depth", "width"])
    charts = [depth_data(df, metric, title=title)]
    if has_rows(df, "width", metric):
        charts.append(width_data(df, metric))
    return draw_bars(charts, path, figsize=figsize, dpi=dpi)


def main_effects_chart(form_or_table, path, *, metric: str | None = None,
                       figsize: tuple[float, float] = (8, 5), dpi: float = 100,
                       title: str | None = None) -> Path:
    """Every option's main effect (the reference options left out) as a point, with its
    bootstrap interval when the table has one."""
    data = main_effects_data(_table(form_or_table, ["main"]), metric, title=title)
    return draw_effects(data, path, figsize=figsize, dpi=dpi)


def interaction_heatmap(form_or_table, path, *, metric: str | None = None,
                        figsize: tuple[float, float] = (8, 5), dpi: float = 100,
                        title: str | None = None) -> Path:
    """Group x group heatmap of the interaction strengths (RMS of each centred block)."""
    data = interaction_data(_table(form_or_table, ["main", "interactions"]), metric,
                            title=title)
    return draw_matrix(data, path, figsize=figsize, dpi=dpi)


# ---- drawing the data of iqnas.plotdata (shared with the HTML report) --------------------------
def draw_effects(data: EffectsData, path, *, figsize: tuple[float, float] = (8, 5),
                 dpi: float = 100) -> Path:
    """Draw :class:`~iqnas.plotdata.EffectsData`: one point per option, grouped by group."""
    path, fig, axes = new_figure(path, figsize, dpi, 1)
    ax = axes[0]
    x = np.arange(len(data.values))
    if data.has_intervals:
        ax.errorbar(x, data.values, yerr=np.vstack(error_bars(data.values, data.low,
                                                              data.high)), fmt="o",
                    markersize=3, color="C0", ecolor="0.5", elinewidth=0.8, capsize=2)
    else:
        ax.scatter(x, data.values, s=12, color="C0")
    ax.axhline(0.0, color="0.3", linewidth=0.8)
    ax.set_xticks(x, data.labels, rotation=90, fontsize="x-small" if len(x) > 30 else "small")
    ax.set_xlabel(data.xlabel)
    ax.set_ylabel(data.ylabel)
    ax.set_title(data.title, fontsize="medium")
    ax.grid(True, axis="y", color="0.9")
    return save_figure(fig, path, dpi)


def draw_matrix(data: MatrixData, path, *, figsize: tuple[float, float] = (8, 5),
                dpi: float = 100) -> Path:
    """Draw :class:`~iqnas.plotdata.MatrixData` as a heatmap (empty cells grey)."""
    import matplotlib

    path, fig, axes = new_figure(path, figsize, dpi, 1)
    ax = axes[0]
    M = data.values
    finite = M[np.isfinite(M)]
    vmax = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="0.85")
    im = ax.imshow(np.ma.masked_invalid(M), cmap=cmap, vmin=0.0, vmax=vmax, aspect="auto",
                   interpolation="nearest")
    small = "small" if len(data.cols) <= 20 else "xx-small"
    ax.set_xticks(range(len(data.cols)), data.cols, rotation=90, fontsize=small)
    ax.set_yticks(range(len(data.rows)), data.rows, fontsize=small)
    ax.set_xlabel(data.xlabel)
    ax.set_ylabel(data.ylabel)
    ax.set_title(data.title, fontsize="medium")
    fig.colorbar(im, ax=ax, label=data.colorbar, shrink=0.9)
    return save_figure(fig, path, dpi)


def draw_bars(charts: BarData | Sequence[BarData], path, *,
              figsize: tuple[float, float] = (8, 5), dpi: float = 100) -> Path:
    """Draw one or more :class:`~iqnas.plotdata.BarData` side by side (grouped bars, error bars
    for the intervals)."""
    charts = [charts] if isinstance(charts, BarData) else list(charts)
    path, fig, axes = new_figure(path, figsize, dpi, len(charts))
    for ax, data in zip(axes, charts):
        n = max(1, len(data.series))
        step = 0.8 / n
        for k, name in enumerate(data.series):
            v = data.values[k]
            xs = np.arange(len(data.categories)) - 0.4 + step * (k + 0.5)
            ok = np.isfinite(v)
            yerr = None
            if data.has_intervals:
                yerr = np.vstack(error_bars(v[ok], data.low[k][ok], data.high[k][ok]))
            ax.bar(xs[ok], v[ok], width=step, label=name, yerr=yerr, capsize=2,
                   error_kw={"elinewidth": 0.8, "ecolor": "0.3"})
        ax.axhline(0.0, color="0.3", linewidth=0.8)
        ax.set_xticks(range(len(data.categories)), data.categories)
        ax.set_xlabel(data.xlabel)
        ax.set_ylabel(data.ylabel, fontsize="small")
        ax.set_title(data.title, fontsize="small")
        ax.legend(fontsize="x-small")
    return save_figure(fig, path, dpi)


__all__ = ["coefficient_heatmap", "depth_chart", "draw_bars", "draw_effects", "draw_matrix",
           "interaction_heatmap", "main_effects_chart"]
