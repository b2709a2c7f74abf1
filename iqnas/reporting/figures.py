"""Plotly figures of the report, drawn from the data of :mod:`iqnas.plotdata` (the same data as
the PNG/SVG files of :mod:`iqnas.plots`), and their HTML: a ``<figure>`` whose ``data-points``
attribute says how many points (markers and bars) the browser should draw."""

from __future__ import annotations

import html as _html
import json
import math

import numpy as np

from iqnas.plotdata import (
    BarData,
    EffectsData,
    MatrixData,
    ParetoData,
    ProgressData,
    QualityData,
)
from iqnas.plotdata.effects import effect_hover, error_bars
from iqnas.reporting.html import esc, script_json

HEIGHT = 460
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
          "#7f7f7f", "#bcbd22", "#17becf")
#: plotly style per series kind of a Pareto figure: colour, marker symbol
PARETO_STYLE = {"front": (COLORS[0], "circle"), "other": ("#999999", "circle-open"),
                "measured": (COLORS[1], "triangle-up"), "broken": (COLORS[3], "x"),
                "true": ("#000000", "square")}
CONFIG = {"displaylogo": False, "responsive": True, "showLink": False,
          "modeBarButtonsToRemove": ["sendDataToCloud", "lasso2d", "select2d"]}


def _go():
    from iqnas._optional import require

    require("plotly", "the HTML report")
    import plotly.graph_objects as go

    return go


def _hover(texts) -> list[str]:
    return [_html.escape(t).replace("\n", "<br>") for t in texts]


def _layout(fig, title: str, xlabel: str, ylabel: str, **kw) -> None:
    fig.update_layout(title={"text": _html.escape(title), "x": 0.01, "font": {"size": 15}},
                      template="plotly_white", height=kw.pop("height", HEIGHT),
                      margin={"l": 70, "r": 30, "t": 60, "b": kw.pop("bottom", 60)},
                      legend={"font": {"size": 11}}, hoverlabel={"align": "left"}, **kw)
    fig.update_xaxes(title_text=_html.escape(xlabel), showline=True, linecolor="#888")
    fig.update_yaxes(title_text=_html.escape(ylabel), showline=True, linecolor="#888")


def pareto_figure(data: ParetoData):
    go = _go()
    fig = go.Figure()
    for b in data.budgets:
        fig.add_vline(x=b, line={"color": "#cccccc", "width": 1, "dash": "dot"})
    for s in data.series:
        color, symbol = PARETO_STYLE.get(s.kind, (COLORS[2], "circle"))
        fig.add_trace(go.Scatter(
            x=s.x, y=s.y, name=esc(s.name), mode="lines+markers" if s.step else "markers",
            line={"shape": "hv", "color": color, "dash": "dash" if s.kind == "true" else None},
            marker={"color": color, "symbol": symbol, "size": 8},
            hovertext=_hover(s.hover), hoverinfo="text"))
    if data.note:
        fig.add_annotation(text=esc(data.note), showarrow=False, xref="paper", yref="paper",
                           x=0.5, y=0.5)
    _layout(fig, data.title, data.xlabel, data.ylabel)
    return fig


def progress_figure(data: ProgressData):
    go = _go()
    fig = go.Figure()
    for r in data.rounds:
        fig.add_vline(x=r + 0.5, line={"color": "#bbbbbb", "width": 1, "dash": "dot"})
    color = COLORS[0]
    k = 0
    for s in data.series:
        if s.kind == "run":
            color = COLORS[k % len(COLORS)]
            k += 1
            fig.add_trace(go.Scatter(x=s.x, y=s.y, name=esc(s.name), mode="lines",
                                     line={"shape": "hv", "color": color}, hoverinfo="skip"))
            imp = np.asarray(s.extra.get("improvements", []), dtype=int)
            fig.add_trace(go.Scatter(x=s.x[imp], y=s.y[imp], mode="markers",
                                     name=esc(f"{s.name}: improvements"), showlegend=False,
                                     marker={"color": color, "size": 7},
                                     hovertext=_hover([s.hover[i] for i in imp]),
                                     hoverinfo="text"))
        else:
            lo, hi = s.band if s.band is not None else (s.y, s.y)
            ok = np.isfinite(lo) & np.isfinite(hi)
            fig.add_trace(go.Scatter(
                x=np.r_[s.x[ok], s.x[ok][::-1]], y=np.r_[hi[ok], lo[ok][::-1]], fill="toself",
                fillcolor=_rgba(color, 0.15), line={"width": 0}, hoverinfo="skip",
                name="random search, 10-90 %", mode="lines"))
            fig.add_trace(go.Scatter(x=s.x, y=s.y, name=esc(s.name), mode="lines",
                                     line={"color": color, "dash": "dash"},
                                     hovertext=_hover(s.hover), hoverinfo="text"))
    if data.note:
        fig.add_annotation(text=esc(data.note), showarrow=False, xref="paper", yref="paper",
                           x=0.01, y=0.02, xanchor="left", font={"color": "#666"})
    _layout(fig, data.title, data.xlabel, data.ylabel)
    return fig


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _error(values, low, high) -> dict | None:
    if not np.isfinite(low).any():
        return None
    down, up = error_bars(values, low, high)
    return {"type": "data", "array": up, "arrayminus": down, "visible": True,
            "color": "#666666", "thickness": 1, "width": 3}


def effects_figure(data: EffectsData, units: str = ""):
    go = _go()
    fig = go.Figure()
    groups = list(dict.fromkeys(data.groups))
    color_of = {g: COLORS[i % len(COLORS)] for i, g in enumerate(groups)}
    text = [effect_hover(lbl, v, lo, hi, units) for lbl, v, lo, hi in
            zip(data.labels, data.values, data.low, data.high)]
    fig.add_trace(go.Scatter(
        x=data.labels, y=data.values, mode="markers", name="effect",
        marker={"color": [color_of[g] for g in data.groups], "size": 8},
        error_y=_error(data.values, data.low, data.high), hovertext=_hover(text),
        hoverinfo="text", showlegend=False))
    fig.add_hline(y=0.0, line={"color": "#888", "width": 1})
    _layout(fig, data.title, data.xlabel, data.ylabel, bottom=130)
    fig.update_xaxes(tickangle=-60, tickfont={"size": 10 if len(data.labels) < 40 else 8})
    return fig


def matrix_figure(data: MatrixData):
    go = _go()
    z = np.where(np.isfinite(data.values), data.values, np.nan)
    fig = go.Figure(go.Heatmap(
        z=[[None if not math.isfinite(v) else float(v) for v in row] for row in z],
        x=data.cols, y=data.rows, colorscale="Viridis", zmin=0.0,
        zmax=float(np.nanmax(z)) if np.isfinite(z).any() and np.nanmax(z) > 0 else 1.0,
        colorbar={"title": {"text": esc(data.colorbar), "side": "right"}},
        hovertemplate="%{y} x %{x}: %{z:.4g}<extra></extra>"))
    n = len(data.rows)
    _layout(fig, data.title, data.xlabel, data.ylabel, height=max(HEIGHT, 18 * n + 160),
            bottom=110)
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickangle=-60)
    return fig


def bars_figure(data: BarData):
    go = _go()
    fig = go.Figure()
    for k, name in enumerate(data.series):
        v = data.values[k]
        ok = np.isfinite(v)
        cats = [c for c, o in zip(data.categories, ok) if o]
        text = [effect_hover(f"{c}, {name}", val, lo, hi, "") for c, val, lo, hi in
                zip(cats, v[ok], data.low[k][ok], data.high[k][ok])]
        fig.add_trace(go.Bar(x=cats, y=v[ok], name=esc(name),
                             marker={"color": COLORS[k % len(COLORS)]},
                             error_y=_error(v[ok], data.low[k][ok], data.high[k][ok]),
                             hovertext=_hover(text), hoverinfo="text"))
    _layout(fig, data.title, data.xlabel, data.ylabel, barmode="group")
    return fig


def quality_figure(data: QualityData):
    go = _go()
    from plotly.subplots import make_subplots

    metrics = list(data.panels)
    titles = [f"{m}: Kendall tau {data.table.loc[m, 'kendall_tau']:.3f}, RMSE "
              f"{data.table.loc[m, 'rmse']:.3g}" for m in metrics]
    fig = make_subplots(rows=1, cols=max(1, len(metrics)), subplot_titles=[esc(t) for t in
                                                                           titles])
    for c, m in enumerate(metrics, start=1):
        s = data.panels[m]
        ok = np.isfinite(s.x) & np.isfinite(s.y)
        fig.add_trace(go.Scatter(x=s.x, y=s.y, mode="markers", name=m, showlegend=False,
                                 marker={"color": COLORS[(c - 1) % len(COLORS)], "size": 6},
                                 hovertext=_hover(s.hover), hoverinfo="text"), row=1, col=c)
        if ok.any():
            lo = float(min(s.x[ok].min(), s.y[ok].min()))
            hi = float(max(s.x[ok].max(), s.y[ok].max()))
            fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", showlegend=False,
                                     line={"color": "#999", "width": 1}, hoverinfo="skip"),
                          row=1, col=c)
        xl, yl = data.labels[m]
        fig.update_xaxes(title_text=esc(xl), row=1, col=c, showline=True, linecolor="#888")
        fig.update_yaxes(title_text=esc(yl), row=1, col=c, showline=True, linecolor="#888")
    fig.update_layout(title={"text": esc(data.title), "x": 0.01, "font": {"size": 15}},
                      template="plotly_white", height=HEIGHT,
                      margin={"l": 70, "r": 30, "t": 80, "b": 60})
    fig.update_annotations(font_size=12)
    return fig


# ---- HTML ---------------------------------------------------------------------------------
def drawn_points(fig) -> int:
    """Markers and bars plotly draws for ``fig`` (finite points of marker and bar traces)."""
    n = 0
    for tr in fig.data:
        if tr.type == "scatter" and "markers" in (tr.mode or ""):
            x, y = np.asarray(tr.x, dtype=object), np.asarray(tr.y, dtype=object)
            n += sum(_finite(b) and (isinstance(a, str) or _finite(a)) for a, b in zip(x, y))
        elif tr.type == "bar":
            n += sum(_finite(v) for v in tr.y)
    return int(n)


def heat_cells(fig) -> int:
    return int(sum(sum(_finite(v) for row in tr.z for v in row)
                   for tr in fig.data if tr.type == "heatmap"))


def _finite(v) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def figure_html(name: str, fig, caption: str = "") -> str:
    """A ``<figure>`` with the plotly figure drawn into it by plotly.js (inline JSON)."""
    div = f"fig-{name}"
    kinds = sorted({tr.type for tr in fig.data})
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return (f'<figure class="iqnas-figure" data-figure="{esc(name)}" '
            f'data-kind="{esc(",".join(kinds))}" data-points="{drawn_points(fig)}" '
            f'data-cells="{heat_cells(fig)}"><div id="{esc(div)}" class="plot" '
            f'style="min-height:{int(fig.layout.height or HEIGHT)}px"></div>{cap}'
            f"<script>(function(){{var f={script_json(fig.to_json())};"
            f"Plotly.newPlot(document.getElementById({json.dumps(div)}), f.data, f.layout, "
            f"{script_json(json.dumps(CONFIG))});}})();"
            "</script></figure>")
