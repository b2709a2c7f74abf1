"""Interpretation tables of a fitted QuadraticForm: ``iqnas.explain(form) -> DataFrame``.

Conventions (see :mod:`iqnas.interpret.tables` for every table's columns):

- Effects are averages over random architectures of the space, computed exactly in closed form
  from the linear and pairwise terms (also for conditional spaces such as mobilenet and ofa; no
  Monte Carlo). The default prior is uniform over distinct architectures, as ``space.sample``;
  ``prior="options"`` draws each group's option uniformly instead.
- Main effect of an option: ``E[f | group=option] - E[f | group=reference]``; the reference is the
  group's first option unless ``reference={group: option}`` or ``reference="mean"`` (the average
  over the group's options) says otherwise. A conditional group is also conditioned on being
  active.
- Bootstrap intervals: refit ``estimator`` (default: a QuadraticRegressor with the form's group
  pairs) on ``n_bootstrap`` resamples of ``samples`` with ``seed``; ``ci_low``/``ci_high`` are the
  2.5 and 97.5 percentiles (``level=0.95``). The point values stay those of ``form``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from iqnas.errors import InputError
from iqnas.interpret import bootstrap as _bootstrap
from iqnas.interpret.export import (
    form_from_table,
    frame,
    read_csv,
    read_json,
    rich_tables,
    to_csv,
    to_json,
    to_markdown,
    top_rows,
)
from iqnas.interpret.moments import PRIORS, Moments
from iqnas.interpret.stability import stability
from iqnas.interpret.tables import COLUMNS, TABLES, form_rows, main_rows
from iqnas.quadform import QuadraticForm, as_form


def explain(form: QuadraticForm, reference=None, samples=None, n_bootstrap: int = 0,
            estimator=None, resources: Mapping[str, QuadraticForm] | None = None, seed: int = 0,
            *, tables: Iterable[str] | None = None, metric: str | None = None,
            prior: str = "architectures", level: float = 0.95) -> pd.DataFrame:
    """Coefficient tables of ``form`` as one DataFrame with a ``table`` column.

    ``tables`` picks among main, interactions, depth, width, resources, coefficients (default:
    all; depth/width are empty for spaces without ``s{stage}.depth`` / expansion groups).
    ``metric`` labels the objective rows (default: ``form.name`` or "objective"); ``resources``
    maps resource names to forms whose main effects fill the ``resources`` table; ``samples`` is
    ``(X, y)`` or a DataFrame with ``key`` and ``metric`` columns.
    """
    if not isinstance(form, QuadraticForm):
        raise InputError(f"explain needs a fitted QuadraticForm, got {type(form).__name__}")
    if prior not in PRIORS:
        raise InputError(f"prior={prior!r} is unknown; use one of {', '.join(PRIORS)}")
    tables = _tables(tables)
    label = metric or form.name or "objective"
    rows = form_rows(form, label, tables, reference, prior)
    forms = {label: {"name": form.name, "units": form.units}}
    if "resources" in tables:
        for name, rform in (resources or {}).items():
            rform = as_form(rform, form.space, f"resource {name!r}")
            rows += main_rows(Moments(rform, prior), str(name), reference, table="resources")
            forms[str(name)] = {"name": rform.name, "units": rform.units}
    if n_bootstrap or samples is not None:
        _add_intervals(rows, form, label, tables, reference, prior, samples, n_bootstrap,
                       estimator, seed, level)
    attrs = {"space": form.space.name, "prior": prior, "level": level,
             "reference": reference if reference is not None else "first",
             "n_bootstrap": int(n_bootstrap), "seed": seed, "forms": forms}
    return frame(rows, attrs)


def _tables(tables) -> list[str]:
    if tables is None:
        return list(TABLES)
    if isinstance(tables, str):
        tables = [tables]
    out = list(dict.fromkeys(tables))
    bad = [t for t in out if t not in TABLES]
    if bad or not out:
        raise InputError(f"unknown table(s) {bad}; choose from {', '.join(TABLES)}")
    return out


def _add_intervals(rows, form, label, tables, reference, prior, samples, n_bootstrap, estimator,
                   seed, level) -> None:
    if samples is None:
        raise InputError(f"n_bootstrap={n_bootstrap} needs samples=(X, y) to resample")
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or n_bootstrap < 2:
        raise InputError(f"n_bootstrap must be an int >= 2 when samples are given, got "
                         f"{n_bootstrap!r} (e.g. n_bootstrap=200)")
    if not 0 < level < 1:
        raise InputError(f"level must be in (0, 1), got {level}")
    C, y = _bootstrap.parse_samples(form.space, samples, label if label != "objective" else None)
    est = estimator if estimator is not None else _bootstrap.default_estimator(form)
    obj_tables = [t for t in tables if t != "resources"]
    ci = _bootstrap.intervals(lambda f: form_rows(f, label, obj_tables, reference, prior), C, y,
                              est, n_bootstrap, seed, level)
    for r in rows:
        if r["table"] != "resources":
            r["ci_low"], r["ci_high"] = ci.get(_bootstrap.row_key(r), (0.0, 0.0))


__all__ = ["COLUMNS", "PRIORS", "TABLES", "Moments", "explain", "form_from_table", "frame",
           "read_csv", "read_json", "rich_tables", "stability", "to_csv", "to_json",
           "to_markdown", "top_rows"]
