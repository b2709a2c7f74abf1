"""Coefficient figures from an ``iqnas.explain`` table: main effects with their intervals, the
group x group interaction strengths, and the depth and width contributions per stage."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from iqnas.errors import InputError
from iqnas.plotdata.labels import axis_label, with_units


@dataclass(frozen=True)
class EffectsData:
    """One point per (group, option) that is not the group's reference: ``labels`` read
    ``group=option``; ``low``/``high`` are the bootstrap interval (NaN without one)."""

    groups: list[str]
    options: list[str]
    values: np.ndarray
    low: np.ndarray
    high: np.ndarray
    title: str
    xlabel: str
    ylabel: str
    level: float | None = None

    @property
    def labels(self) -> list[str]:
        return [f"{g}={o}" for g, o in zip(self.groups, self.options)]

    @property
    def has_intervals(self) -> bool:
        return bool(np.isfinite(self.low).any())

    @property
    def n_points(self) -> int:
        return int(np.isfinite(self.values).sum())


@dataclass(frozen=True)
class MatrixData:
    """A heatmap: ``values[i, j]`` for row ``rows[i]`` and column ``cols[j]`` (NaN = empty)."""

    values: np.ndarray
    rows: list[str]
    cols: list[str]
    title: str
    xlabel: str
    ylabel: str
    colorbar: str

    @property
    def n_cells(self) -> int:
        return int(np.isfinite(self.values).sum())


@dataclass(frozen=True)
class BarData:
    """Grouped bars: for each ``series`` name, a value per category (``categories``), with the
    bootstrap interval in ``low``/``high`` (NaN without one); rows of NaN are not drawn."""

    categories: list[str]
    series: list[str]
    values: np.ndarray  # (len(series), len(categories))
    low: np.ndarray
    high: np.ndarray
    title: str
    xlabel: str
    ylabel: str

    @property
    def has_intervals(self) -> bool:
        return bool(np.isfinite(self.low).any())

    @property
    def n_points(self) -> int:
        return int(np.isfinite(self.values).sum())


def _part(df, table: str, metric: str | None):
    if "table" not in getattr(df, "columns", ()):
        raise InputError(f"expected a table from iqnas.explain, got {type(df).__name__}")
    part = df[df["table"] == table]
    if part.empty:
        return part, metric
    metrics = list(dict.fromkeys(part["metric"]))
    metric = metrics[0] if metric is None else metric
    if metric not in metrics:
        raise InputError(f"no {table!r} rows for metric {metric!r}; the table has {metrics}")
    return part[part["metric"] == metric], metric


def has_rows(df, table: str, metric: str | None = None) -> bool:
    part, _ = _part(df, table, metric)
    return not part.empty


def units_of(df, metric: str) -> str:
    forms = df.attrs.get("forms", {})
    return forms.get(metric, {}).get("units", "") if isinstance(forms, dict) else ""


def _interval(part) -> tuple[np.ndarray, np.ndarray]:
    low = part["ci_low"].to_numpy(dtype=float)
    high = part["ci_high"].to_numpy(dtype=float)
    return low, high


def _level(df, part) -> float | None:
    """The interval level of ``part``'s rows, None when they have no interval."""
    if not df.attrs.get("n_bootstrap") or not np.isfinite(_interval(part)[0]).any():
        return None
    return float(df.attrs["level"])


def _ci_text(df, part) -> str:
    level = _level(df, part)
    return f"; bars: {level:.0%} bootstrap interval" if level else ""


def main_effects_data(df, metric: str | None = None, table: str = "main",
                      title: str | None = None) -> EffectsData:
    """Main effects (``table="resources"``: a resource's per-option cost) of ``metric``,
    without the reference options (0 by definition)."""
    part, metric = _part(df, table, metric)
    if part.empty:
        raise InputError(f"the table has no {table!r} rows to plot")
    part = part[part["option"] != part["reference"]]
    low, high = _interval(part)
    refs = list(dict.fromkeys(part["reference"]))
    ref = refs[0] if len(refs) == 1 else "the first option"
    what = "main effect" if table == "main" else "cost"
    return EffectsData(part["group"].tolist(), part["option"].tolist(),
                       part["value"].to_numpy(dtype=float), low, high,
                       title or f"{what.capitalize()}s of {metric} (vs {ref})"
                       + _ci_text(df, part),
                       "group=option",
                       axis_label(f"{what} on {metric} vs {ref}", units_of(df, metric)),
                       _level(df, part))


def interaction_data(df, metric: str | None = None, title: str | None = None) -> MatrixData:
    """Per pair of groups, the root mean square of their centred interaction block (0 where
    the model has no product between them; the diagonal is empty)."""
    part, metric = _part(df, "interactions", metric)
    if part.empty:
        raise InputError("the table has no 'interactions' rows to plot (a linear model)")
    order = _group_order(df, part)
    pos = {g: i for i, g in enumerate(order)}
    M = np.zeros((len(order), len(order)))
    for (g1, g2), blk in part.groupby(["group", "group2"], sort=False):
        v = float(np.sqrt(np.mean(blk["value"].to_numpy(dtype=float) ** 2)))
        M[pos[g1], pos[g2]] = M[pos[g2], pos[g1]] = v
    np.fill_diagonal(M, np.nan)
    units = units_of(df, metric)
    return MatrixData(M, order, order,
                      title or f"Interactions of {metric}: RMS of each centred group-pair block",
                      "group", "group", axis_label("RMS interaction", units))


def _group_order(df, part) -> list[str]:
    """Every group of the explain table's main rows (the space's order; groups without a
    product show 0), then any other group of the interaction rows."""
    main = df[df["table"] == "main"]
    seen = list(dict.fromkeys(main["group"])) if not main.empty else []
    rest = [g for g in dict.fromkeys([*part["group"], *part["group2"]]) if g not in seen]
    return seen + rest


def _bars(part, category_col: str, series_col: str, cat_fmt, ser_fmt):
    cats = sorted({int(c) for c in part[category_col]})
    sers = sorted({int(s) for s in part[series_col]})
    shape = (len(sers), len(cats))
    V, L, H = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    for _, r in part.iterrows():
        i, j = sers.index(int(r[series_col])), cats.index(int(r[category_col]))
        V[i, j], L[i, j], H[i, j] = r["value"], r["ci_low"], r["ci_high"]
    return [cat_fmt(c) for c in cats], [ser_fmt(s) for s in sers], V, L, H


def depth_data(df, metric: str | None = None, title: str | None = None) -> BarData:
    """Per stage (categories) and added block (series): ``E[f | depth=d] - E[f | depth=d-1]``."""
    part, metric = _part(df, "depth", metric)
    if part.empty:
        raise InputError("the table has no 'depth' rows to plot (the space has no "
                         "s{stage}.depth groups)")
    cats, sers, V, L, H = _bars(part, "stage", "position", lambda s: f"stage {s}",
                                lambda p: f"adding block {p}")
    return BarData(cats, sers, V, L, H,
                   title or f"Depth: what adding a block is worth, per stage ({metric})"
                   + _ci_text(df, part), "stage",
                   axis_label(f"E[{metric} | depth d] - E[{metric} | depth d-1]",
                              units_of(df, metric)))


def width_data(df, metric: str | None = None, title: str | None = None) -> BarData:
    """Per stage (categories) and block (series): the widest expansion minus the narrowest."""
    part, metric = _part(df, "width", metric)
    if part.empty:
        raise InputError("the table has no 'width' rows to plot (the space has no expansion "
                         "options per block)")
    wide, narrow = part["option"].iloc[0], part["reference"].iloc[0]
    cats, sers, V, L, H = _bars(part, "stage", "position", lambda s: f"stage {s}",
                                lambda p: f"block {p}")
    return BarData(cats, sers, V, L, H,
                   title or f"Width: {wide} - {narrow} per stage and block ({metric})"
                   + _ci_text(df, part), "stage",
                   axis_label(f"{metric} at {wide} - at {narrow}", units_of(df, metric)))


def error_bars(values, low, high) -> tuple[np.ndarray, np.ndarray]:
    """(below, above) lengths of error bars drawn from ``values`` to the interval
    ``[low, high]``; where a point lies outside its interval the bar also reaches the point
    (the hull of the two), and where there is no interval the bar has length 0."""
    values = np.asarray(values, dtype=float)
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    below = np.where(np.isfinite(low), np.maximum(values - low, 0.0), 0.0)
    above = np.where(np.isfinite(high), np.maximum(high - values, 0.0), 0.0)
    return below, above


def effect_hover(label: str, value: float, low: float, high: float, units: str) -> str:
    """``s1.b1.k=5: 0.12 % [0.05, 0.2]`` for a point with an interval."""
    text = f"{label}: {with_units(value, units)}"
    if np.isfinite(low) and np.isfinite(high):
        text += f" [{low:.3g}, {high:.3g}]"
    return text
