"""Stability of interpretation tables across refits: do the contributions keep their order when
the model is fitted to other samples (other seeds)?"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from iqnas.errors import InputError
from iqnas.interpret.bootstrap import KEY

#: columns of ``stability``'s result
STABILITY_COLUMNS = ("table", "metric", "n_rows", "n_pairs", "spearman_mean", "spearman_min",
                     "kendall_mean", "kendall_min", "sign_agreement")


def stability(tables: Sequence[pd.DataFrame], tables_to_compare: Sequence[str] | None = None
              ) -> pd.DataFrame:
    """Rank agreement of the ``value`` column between every pair of ``tables`` (each from
    ``iqnas.explain`` of a model fitted with another seed), per table name and metric.

    Rows are matched by (table, metric, group, option, reference, group2, option2); reference
    rows (value 0 by definition in ``main``) are left out. For each table: how many rows are
    compared, the mean and smallest Spearman and Kendall (tau-b) correlation over the pairs of
    seeds, and the share of rows whose sign agrees in every seed (``sign_agreement``; a row is
    counted as agreeing when it is non-zero with the same sign everywhere or zero everywhere).
    """
    if len(tables) < 2:
        raise InputError(f"stability needs the tables of at least 2 seeds, got {len(tables)}")
    for i, t in enumerate(tables):
        if not isinstance(t, pd.DataFrame) or not {"table", "value", *KEY} <= set(t.columns):
            raise InputError(f"tables[{i}] is not a table from iqnas.explain")
    names = tables_to_compare
    if names is None:
        names = [n for n in ("main", "interactions", "depth", "width", "resources")
                 if any((t["table"] == n).any() for t in tables)]
    keyed = [_keyed(t) for t in tables]
    rows = []
    for name in names:
        metrics = list(dict.fromkeys(m for t in tables for m in t.loc[t["table"] == name,
                                                                      "metric"]))
        for metric in metrics:
            parts = [k.get((name, metric), pd.Series(dtype=float)) for k in keyed]
            common = parts[0].index
            for p in parts[1:]:
                common = common.intersection(p.index)
            V = np.array([p.loc[common].to_numpy(dtype=float) for p in parts])
            rho, tau = [], []
            for a, b in itertools.combinations(range(len(parts)), 2):
                r, t = _correlations(V[a], V[b])
                rho.append(r)
                tau.append(t)
            signs = np.sign(np.round(V, 12))
            agree = float(np.mean(np.all(signs == signs[0], axis=0))) if V.size else math.nan
            rows.append({"table": name, "metric": metric, "n_rows": int(V.shape[1]),
                         "n_pairs": len(rho), "spearman_mean": _nanmean(rho),
                         "spearman_min": _nanmin(rho), "kendall_mean": _nanmean(tau),
                         "kendall_min": _nanmin(tau), "sign_agreement": agree})
    return pd.DataFrame(rows, columns=list(STABILITY_COLUMNS))


def _keyed(df: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
    df = df[~((df["table"] == "main") & (df["option"] == df["reference"]))]
    df = df[df["table"] != "coefficients"]
    out = {}
    for (name, metric), part in df.groupby(["table", "metric"], sort=False):
        idx = pd.MultiIndex.from_frame(part[list(KEY)].fillna("").astype(str))
        out[(name, metric)] = pd.Series(part["value"].to_numpy(dtype=float), index=idx)
    return out


def _correlations(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan, math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return (float(stats.spearmanr(a, b).statistic), float(stats.kendalltau(a, b).statistic))


def _nanmean(v) -> float:
    v = np.asarray(v, dtype=float)
    return float(np.nanmean(v)) if np.isfinite(v).any() else math.nan


def _nanmin(v) -> float:
    v = np.asarray(v, dtype=float)
    return float(np.nanmin(v)) if np.isfinite(v).any() else math.nan
