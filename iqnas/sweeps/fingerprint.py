"""A stable hash of a Problem, so that a sweep file is resumed only for the same problem."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

from iqnas.problem import Problem
from iqnas.quadform import QuadraticForm


def problem_fingerprint(problem: Problem, swept: Iterable[str] = ()) -> str:
    """sha256 of the space, sense, every form's coefficients, the budgets of resources not in
    ``swept``, the linear constraints and the exclusions (hex, 16 characters)."""
    swept = set(swept)
    h = hashlib.sha256()
    _text(h, f"space={problem.space.name};n_vars={problem.space.n_vars};sense={problem.sense}")
    _form(h, problem.objective)
    for c in problem.constraints:
        budget = "swept" if c.name in swept else repr(float(c.budget))
        _text(h, f"constraint={c.name};budget={budget};units={c.units}")
        _form(h, c.form)
    for lc in problem.linear_constraints:
        _text(h, f"linear={lc.name};lb={lc.lb!r};ub={lc.ub!r}")
        h.update(np.ascontiguousarray(lc.coef, dtype=np.float64).tobytes())
    for arch in problem.exclude:
        _text(h, f"exclude={arch.choices}")
    return h.hexdigest()[:16]


def problem_record(problem: Problem, swept: Iterable[str] = ()) -> dict:
    """What a sweep file's header records of its problem besides the fingerprint, so that the
    file can be read back with the forms (``iqnas.sweeps.load_sweep``): the objective's name and
    units, and each constraint's name, units and budget (None for a swept one)."""
    swept = set(swept)
    return {"objective": {"name": problem.objective.name, "units": problem.objective.units},
            "constraints": [{"name": c.name, "units": c.units,
                             "budget": None if c.name in swept else float(c.budget)}
                            for c in problem.constraints]}


def _form(h, form: QuadraticForm) -> None:
    _text(h, f"intercept={form.intercept!r}")
    h.update(np.ascontiguousarray(form.linear, dtype=np.float64).tobytes())
    coo = form.pairwise.tocoo()
    order = np.lexsort((coo.col, coo.row))
    h.update(np.ascontiguousarray(coo.row[order], dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(coo.col[order], dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(coo.data[order], dtype=np.float64).tobytes())


def _text(h, s: str) -> None:
    h.update(s.encode() + b"\0")
