"""``load_sweep``: a sweep file (``iqnas.sweep(..., out=FILE)``, ``iqnas sweep --out FILE``)
read back as a :class:`Sweep`, with the forms it was solved with.

The file's header records the problem's fingerprint, the objective's name and each
constraint's name, units and fixed budget, and (since this version) the space's content hash;
the problem is rebuilt from ``forms`` and checked against them, so a file is never shown with
forms it was not solved with. Older files (without those fields) still load.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from iqnas import solvers
from iqnas.errors import InputError
from iqnas.problem import Problem
from iqnas.quadform import QuadraticForm
from iqnas.sweeps.fingerprint import problem_fingerprint
from iqnas.sweeps.points import make_points
from iqnas.sweeps.result import Sweep
from iqnas.sweeps.settings import SweepSettings
from iqnas.sweeps.store import FORMAT, SweepStore
from iqnas.sweeps.truth import make_truth


def read_header(path: str | os.PathLike) -> dict[str, Any]:
    """The header line of a sweep file (InputError if the file is missing or not a sweep)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"sweep file not found: {path}")
    with open(path, "rb") as fh:
        first = fh.readline()
    try:
        head = json.loads(first)
    except (json.JSONDecodeError, UnicodeDecodeError):
        head = None
    if not isinstance(head, dict) or head.get("kind") != "header" or not first.endswith(b"\n"):
        raise InputError(f"{path} is not an iqnas sweep file (no header line); give the JSONL "
                         "file of `iqnas sweep --out`")
    if head.get("format") != FORMAT:
        raise InputError(f"{path} has sweep format {head.get('format')!r}; this iqnas reads "
                         f"{FORMAT!r}")
    return head


def load_sweep(path: str | os.PathLike, forms: Mapping[str, QuadraticForm], oracle=None, *,
               objective: str | None = None, budgets: Mapping[str, float] | None = None,
               linear_constraints: Sequence = (), objective_metric: str | None = None,
               resource_metrics: Mapping[str, str] | None = None) -> Sweep:
    """The sweep of file ``path``, solved with ``forms`` (name -> QuadraticForm: the objective
    and every constraint, by the names the file records).

    ``objective`` names the objective form and ``budgets`` the fixed budgets of unswept
    constraints for files written before the header recorded them. With an ``oracle`` the
    answers are measured (see :class:`Sweep`). Every point of the sweep must be on file (an
    interrupted sweep is finished by running it again with the same ``out``).
    """
    path = Path(path)
    head = read_header(path)
    space = head.get("space")
    forms = dict(forms)
    for name, form in forms.items():
        if not isinstance(form, QuadraticForm):
            raise InputError(f"form {name!r} must be a QuadraticForm, got {type(form).__name__}")
        if form.space.name != space:
            raise InputError(f"sweep file {path} is over space {space!r}, form {name!r} over "
                             f"{form.space.name!r}; give the forms the sweep was solved with")
        recorded = head.get("space_hash")  # not in files from before it was recorded
        if recorded is not None and form.space.content_hash() != recorded:
            raise InputError(f"sweep file {path} was solved on another space named {space!r} "
                             f"(content hash {recorded}), form {name!r} is over "
                             f"{form.space.content_hash()} (its groups or options differ); give "
                             "the forms of the space file the sweep was solved on")
    obj_name = (head.get("objective") or {}).get("name") or objective
    if obj_name not in forms:
        raise InputError(f"sweep file {path}: no form named {obj_name!r} for its objective "
                         f"(forms: {', '.join(forms) or 'none'})")
    resource, grid_resource = head["resource"], head.get("grid_resource")
    swept = [resource] + ([grid_resource] if grid_resource else [])
    base_budgets = {resource: head["budgets"][0]}
    if grid_resource:
        base_budgets[grid_resource] = head["grid_budgets"][0]
    constraints = {}
    for c in _constraints(head, path, budgets):
        name = c["name"]
        if name not in forms:
            raise InputError(f"sweep file {path}: no form named {name!r} for its constraint "
                             f"(forms: {', '.join(forms)})")
        budget = base_budgets.get(name, c.get("budget"))
        if budget is None:
            raise InputError(f"sweep file {path}: the budget of constraint {name!r} is not "
                             "recorded; pass budgets={...}")
        constraints[name] = (forms[name], budget, c.get("units", forms[name].units))
    problem = Problem(forms[obj_name].space, forms[obj_name], constraints,
                      sense=head.get("sense", "maximize"),
                      linear_constraints=tuple(linear_constraints))
    if problem_fingerprint(problem, swept) != head.get("problem"):
        raise InputError(f"sweep file {path} was solved with other forms or budgets than the "
                         "ones given (the problem fingerprint differs); give the models the "
                         "sweep used")
    points = make_points(head["budgets"], head.get("grid_budgets"))
    fields = ("problem", "space", "space_hash", "sense", "resource", "budgets",
              "grid_resource", "grid_budgets", "settings")
    store = SweepStore(path, {k: head.get(k) for k in fields}, {p.index: p for p in points})
    missing = [p.index for p in points if p.index not in store.rows]
    if missing:
        raise InputError(f"sweep file {path} has {len(store.rows)} of {len(points)} points; "
                         "finish it by running the same sweep with this --out file again")
    settings = _settings(head.get("settings") or {}, path)
    truth = make_truth(oracle, problem, objective_metric, resource_metrics)
    grid = head.get("grid_budgets")
    return Sweep(problem, resource, tuple(head["budgets"]), grid_resource,
                 None if grid is None else tuple(grid), [store.rows[p.index] for p in points],
                 settings, truth, path)


def _settings(recorded: Mapping, path: Path) -> SweepSettings:
    """The sweep's solver settings from its header: the backend by name, configured with the
    parameters it was run with (older files carry no ``params``)."""
    recorded = dict(recorded)
    params = recorded.pop("params", None) or {}
    solver = recorded.pop("solver", "scip")
    try:
        backend = solvers.get(solver).set_params(**params) if params else solver
        return SweepSettings(backend, **recorded)
    except (InputError, TypeError) as exc:
        shown = dict(recorded, solver=solver, params=params)
        raise InputError(f"sweep file {path}: its solver settings {shown} cannot be rebuilt "
                         f"({exc})") from None


def _constraints(head: Mapping, path: Path, budgets: Mapping[str, float] | None) -> list[dict]:
    recorded = head.get("constraints")
    if recorded is not None:
        return [dict(c) for c in recorded]
    # files written before the header named its constraints: the resources of its answers
    names: list[str] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict) and rec.get("kind") == "point":
                names += [n for n in (rec.get("resources") or {}) if n not in names]
    fixed = dict(budgets or {})
    return [{"name": n, "budget": fixed.get(n)} for n in names]


__all__ = ["load_sweep", "read_header"]
