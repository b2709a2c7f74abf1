"""Coefficient tables as DataFrame, CSV, JSON, Markdown and rich tables, and back to a form."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from iqnas._outputs import write_text_atomic
from iqnas.errors import InputError
from iqnas.interpret.tables import COLUMNS, TABLES
from iqnas.quadform import QuadraticForm
from iqnas.space import SearchSpace

FORMAT = "iqnas.Explanation/1"
_TEXT = ("table", "metric", "group", "option", "reference", "group2", "option2")
_INT = ("stage", "position")
_FLOAT = ("value", "raw", "ci_low", "ci_high")
_TITLES = {"main": "main effects", "interactions": "interactions (centred; raw = coefficient)",
           "depth": "depth: adding blocks up to position", "width": "width: widest - narrowest "
           "expansion", "resources": "resource cost per option", "coefficients": "coefficients"}


def frame(rows: list[dict], attrs: dict | None = None) -> pd.DataFrame:
    """Rows -> a DataFrame with the standard columns and dtypes."""
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    for c in _TEXT:
        df[c] = df[c].fillna("").astype(str)
    for c in _INT:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("Int64")
    for c in _FLOAT:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df.attrs.update(attrs or {})
    return df


def _check(df) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame) or not set(COLUMNS) <= set(df.columns):
        raise InputError("expected an explanation table from iqnas.explain (columns "
                         f"{', '.join(COLUMNS)})")
    return df


def top_rows(df: pd.DataFrame, n: int | None) -> pd.DataFrame:
    """The ``n`` rows of largest ``|value|`` in each (table, metric), largest first."""
    _check(df)
    if n is None:
        return df
    if n < 1:
        raise InputError(f"top must be a positive number of rows, got {n}")
    parts = []
    for _, part in df.groupby(["table", "metric"], sort=False):
        parts.append(part.loc[part["value"].abs().sort_values(ascending=False,
                                                               kind="stable").index[:n]])
    out = pd.concat(parts) if parts else df.iloc[:0]
    out.attrs.update(df.attrs)
    return out


def shown_columns(df: pd.DataFrame) -> list[str]:
    """Columns that hold something (drops all-empty text and all-missing number columns)."""
    keep = []
    for c in COLUMNS:
        col = df[c]
        if c in _TEXT and (col != "").any() or c not in _TEXT and col.notna().any():
            keep.append(c)
    return keep


def _cell(v) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.6g}"
    return str(v)


def to_markdown(df: pd.DataFrame) -> str:
    """A GitHub Markdown table (no ``tabulate`` needed); ``|`` in cells is escaped."""
    _check(df)
    cols = shown_columns(df)
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for rec in df[cols].itertuples(index=False):
        out.append("| " + " | ".join(_cell(v).replace("|", "\\|") for v in rec) + " |")
    return "\n".join(out) + "\n"


def to_csv(df: pd.DataFrame, path: str | Path | None = None) -> str | Path:
    """CSV text (all columns, floats written exactly), or the path it was written to."""
    text = _check(df).to_csv(index=False, columns=list(COLUMNS))
    if path is None:
        return text
    return write_text_atomic(path, text, "explanation file")


def read_csv(source: str | Path) -> pd.DataFrame:
    """A table written by :func:`to_csv` (a path, or the CSV text itself)."""
    if isinstance(source, Path) or "\n" not in str(source):
        p = Path(source)
        if not p.is_file():
            raise InputError(f"file not found: {p}")
        source = p.read_text()
    # pandas < 3 parses floats exactly only when asked (3.x does by default, and deprecates it)
    exact = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
    try:
        raw = pd.read_csv(io.StringIO(str(source)), dtype={c: str for c in _TEXT},
                          keep_default_na=False, **exact)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"explanation CSV is malformed: {exc}") from None
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise InputError(f"explanation CSV is missing column(s) {missing}")
    return frame(raw.replace({c: {"": np.nan} for c in _INT + _FLOAT}).to_dict("records"))


def to_json(df: pd.DataFrame, path: str | Path | None = None, **kw) -> str | Path:
    """JSON ``{"format", "meta", "rows"}``; missing numbers are ``null``."""
    _check(df)
    rows = [{c: (None if _cell(v) == "" and c not in _TEXT else
                 int(v) if c in _INT else float(v) if c in _FLOAT else v)
             for c, v in zip(COLUMNS, rec)} for rec in df[list(COLUMNS)].itertuples(index=False)]
    text = json.dumps({"format": FORMAT, "meta": dict(df.attrs), "rows": rows}, **kw)
    if path is None:
        return text
    return write_text_atomic(path, text, "explanation file")


def read_json(source: str | Path) -> pd.DataFrame:
    """A table written by :func:`to_json` (a path, or the JSON text itself)."""
    text = str(source)
    if isinstance(source, Path) or not text.lstrip().startswith("{"):
        p = Path(source)
        if not p.is_file():
            raise InputError(f"file not found: {p}")
        text = p.read_text()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"explanation JSON is malformed: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"explanation JSON must be an object with format {FORMAT!r}")
    return frame(list(data.get("rows", [])), data.get("meta") or {})


def form_from_table(df: pd.DataFrame, space: SearchSpace | str | None = None,
                    metric: str | None = None) -> QuadraticForm:
    """Rebuild the QuadraticForm from the ``coefficients`` rows of one metric."""
    from iqnas import spaces

    coef = _check(df)[df["table"] == "coefficients"]
    if coef.empty:
        raise InputError("the table has no 'coefficients' rows; explain with tables "
                         "including 'coefficients'")
    metrics = list(dict.fromkeys(coef["metric"]))
    metric = metrics[0] if metric is None else metric
    if metric not in metrics:
        raise InputError(f"no coefficients for metric {metric!r}; the table has {metrics}")
    coef = coef[coef["metric"] == metric]
    space = space if space is not None else df.attrs.get("space")
    if space is None:
        raise InputError("the table does not name its space; pass space=")
    space = spaces.get(space)
    lin: dict[str, float] = {}
    pairwise, intercept = [], 0.0
    for r in coef.itertuples(index=False):
        if not r.group:
            intercept += float(r.value)
        elif not r.group2:
            name = f"{r.group}={r.option}"
            lin[name] = lin.get(name, 0.0) + float(r.value)
        else:
            pairwise.append([f"{r.group}={r.option}", f"{r.group2}={r.option2}", float(r.value)])
    forms = df.attrs.get("forms", {})
    info = forms.get(metric, {}) if isinstance(forms, dict) else {}
    return QuadraticForm.from_dict({"intercept": intercept, "linear": lin, "pairwise": pairwise,
                                    "name": info.get("name", ""), "units": info.get("units", "")},
                                   space)


def rich_tables(df: pd.DataFrame) -> list:
    """One rich Table per (table, metric), in row order."""
    from rich.table import Table

    _check(df)
    data = set(df.attrs.get("data_groups") or ())
    out = []
    for (table, metric), part in df.groupby(["table", "metric"], sort=False):
        cols = [c for c in shown_columns(part) if c not in ("table", "metric")]
        for label, rows in _by_kind(part, table, data):
            title = f"{_TITLES.get(table, table)} - {metric}" + (f" - {label}" if label else "")
            t = Table(title=title, title_justify="left")
            for c in cols:
                t.add_column(c, justify="right" if c not in _TEXT else "left", no_wrap=True)
            for rec in rows[cols].itertuples(index=False):
                t.add_row(*(_cell(v) for v in rec))
            out.append(t)
    return out


def _by_kind(part: pd.DataFrame, table: str, data: set[str]) -> list[tuple[str, pd.DataFrame]]:
    """The rows of one table, split into data-group rows and architecture rows when the space
    has data groups (interactions: rows that involve a data group, then the others)."""
    if not data or table not in ("main", "resources", "interactions", "coefficients"):
        return [("", part)]
    involves = part["group"].isin(data)
    if "group2" in part:
        involves |= part["group2"].isin(data)
    first = "data groups" if table != "interactions" else "involving data groups"
    pieces = [(first, part[involves]), ("architecture groups", part[~involves])]
    return [(label, rows) for label, rows in pieces if len(rows)]


__all__ = ["FORMAT", "TABLES", "form_from_table", "frame", "read_csv", "read_json",
           "rich_tables", "shown_columns", "to_csv", "to_json", "to_markdown", "top_rows"]
