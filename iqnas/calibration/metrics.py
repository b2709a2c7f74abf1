"""Predictor quality: rank and error metrics in one dict, several of them as a table."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping

import numpy as np
from scipy import stats

from iqnas._validation import finite_vector
from iqnas.errors import InputError

#: metric keys of ``quality_report``, in display order
METRICS = ("n", "kendall_tau", "spearman", "pearson", "r2", "rmse", "mae", "within_10pct")

_LABELS = {"n": "n", "kendall_tau": "Kendall tau", "spearman": "Spearman", "pearson": "Pearson",
           "r2": "R^2", "rmse": "RMSE", "mae": "MAE", "within_10pct": "within +/-10%"}


def _vectors(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    t, p = finite_vector(y_true, "y_true"), finite_vector(y_pred, "y_pred")
    if t.shape != p.shape:
        raise InputError(f"y_true has {t.size} values, y_pred has {p.size}; they must match")
    return t, p


def _snap(p: np.ndarray, t: np.ndarray, rel: float = 1e-9) -> np.ndarray:
    """``p`` rounded to steps of ``rel`` times the larger range of ``t`` and ``p``, for the rank
    statistics: an exact model evaluated in floating point gives tied true values (e.g. two
    cells with the same latency) predictions a few ulps apart, which would count as
    disagreements."""
    step = rel * max(float(np.ptp(t)) if t.size else 0.0, float(np.ptp(p)) if p.size else 0.0)
    return p if step <= 0 else np.round(p / step) * step


def quality_report(y_true, y_pred) -> dict[str, float]:
    """Kendall tau (tau-b), Spearman, Pearson, R^2, RMSE, MAE and the fraction within +/-10 %.

    ``within_10pct`` is BRP-NAS's latency metric: the share of rows with
    ``|pred - true| <= 0.1 * |true|``. Correlations are NaN when either side is constant or
    there are fewer than two rows.
    """
    t, p = _vectors(y_true, y_pred)
    n = t.size
    out: dict[str, float] = {"n": n}
    constant = n < 2 or np.ptp(t) == 0 or np.ptp(p) == 0
    ranked = _snap(p, t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["kendall_tau"] = math.nan if constant else float(
            stats.kendalltau(t, ranked).statistic)
        out["spearman"] = math.nan if constant else float(stats.spearmanr(t, ranked).statistic)
        out["pearson"] = math.nan if constant else float(stats.pearsonr(t, p).statistic)
    err = p - t
    sst = float(((t - t.mean()) ** 2).sum()) if n else 0.0
    out["r2"] = 1.0 - float((err ** 2).sum()) / sst if sst > 0 else math.nan
    out["rmse"] = float(np.sqrt((err ** 2).mean())) if n else math.nan
    out["mae"] = float(np.abs(err).mean()) if n else math.nan
    out["within_10pct"] = float((np.abs(err) <= 0.1 * np.abs(t)).mean()) if n else math.nan
    return out


def report_table(reports: Mapping[str, Mapping[str, float]]):
    """Several reports (name -> ``quality_report`` dict) as a pandas DataFrame, one row each."""
    import pandas as pd

    if not isinstance(reports, Mapping):
        raise InputError("reports must be a dict name -> quality_report(...) dict")
    rows = {}
    for name, rep in reports.items():
        if not isinstance(rep, Mapping):
            raise InputError(f"report {name!r} must be a dict from quality_report, got "
                             f"{type(rep).__name__}")
        rows[str(name)] = dict(rep)
    df = pd.DataFrame.from_dict(rows, orient="index")
    cols = [c for c in METRICS if c in df.columns] + [c for c in df.columns if c not in METRICS]
    df = df.reindex(columns=cols)
    df.index.name = "model"
    if "n" in df.columns and df["n"].notna().all():
        df["n"] = df["n"].astype(int)
    return df


def render_reports(reports: Mapping[str, Mapping[str, float]], title: str = "Predictor quality",
                   digits: int = 3):
    """The same reports as a ``rich.table.Table`` (print it with ``rich.print``)."""
    from rich.table import Table

    df = report_table(reports)
    table = Table(title=title)
    table.add_column("model", style="bold")
    for c in df.columns:
        table.add_column(_LABELS.get(c, c), justify="right")
    for name in df.index:
        table.add_row(str(name), *(_fmt(df.at[name, c], digits) for c in df.columns))
    return table


def _fmt(v, digits: int) -> str:
    if v is None or (isinstance(v, (float, np.floating)) and math.isnan(v)):
        return "-"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{v:.{digits}f}" if abs(v) < 1e4 else f"{v:.{digits}g}"
    return str(v)
