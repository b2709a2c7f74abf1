"""What ``calibrate`` and ``calibrate_training_free`` share: argument checks, budget scenarios,
the resource models, and the best measured architecture within the true budgets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from iqnas._validation import Check, InstanceOf, Options, check_value
from iqnas.calibration.resource_models import LinearResourceModel, QuadraticResourceModel
from iqnas.errors import InputError
from iqnas.measured import MeasuredResult, feasible_rows
from iqnas.problem import check_budget
from iqnas.quadform import QuadraticForm
from iqnas.solve import SOLVER as SOLVE_SOLVER
from iqnas.solve import backend_for
from iqnas.solvers.base import Backend
from iqnas.space import SearchSpace

RESOURCE_TERMS = ("linear", "pairwise")
#: ``solver="auto"`` enumerates spaces up to this size (the exact optimum, as SCIP's)
AUTO_ENUMERATE = 200_000
#: columns of a samples table that are not measured values
BOOKKEEPING = ("key", "round", "source", "feasible")


# ---- argument checks ---------------------------------------------------------------------------
#: what ``solver=`` of calibrate and calibrate_training_free accepts
SOLVER = [Options(("auto",)), *SOLVE_SOLVER]
#: an oracle: something with a space and ``measure``
ORACLE = [Check(lambda o: getattr(o, "space", None) is not None and hasattr(o, "measure"),
                "an iqnas Oracle (e.g. iqnas.oracles.nb201() or iqnas.oracles.ProxyOracle)")]


def check_oracle(oracle, space: SearchSpace, owner: str = "calibrate()") -> None:
    """``oracle`` is an oracle over ``space``."""
    check_value(oracle, ORACLE, "oracle", owner)
    if oracle.space.name != space.name:
        raise InputError(f"the oracle measures space {oracle.space.name!r}, not {space.name!r}")


def auto_solver(solver: str | Backend, space: SearchSpace, owner: str) -> Backend:
    """The checked backend of ``solver``; ``"auto"`` is enumeration on spaces of up to
    AUTO_ENUMERATE architectures, else SCIP."""
    if solver == "auto":
        solver = "exhaustive" if space.size <= AUTO_ENUMERATE else "scip"
    return backend_for(solver, owner)


def solver_spec(backend: Backend) -> str | dict[str, Any]:
    """How a run's settings record its backend: the name, with the options it was given
    (JSON-able) unless they are the defaults."""
    params = backend._recorded_params()
    return {"name": backend.name, "params": params} if params else backend.name


# ---- budgets -----------------------------------------------------------------------------------
#: one budget scenario
SCENARIO = [InstanceOf(Mapping, "a dict of metric name -> budget, e.g. {'params_M_c100': 0.2}"),
            None]
#: one scenario or several
SCENARIOS = [InstanceOf(Mapping, "a dict of metric name -> budget, e.g. {'params_M_c100': 0.2}"),
             Check(lambda v: isinstance(v, (list, tuple)) and all(isinstance(s, Mapping)
                                                                   for s in v),
                   "a list of such dicts"), None]


def parse_scenario(constraints: Mapping[str, float] | None,
                   owner: str = "calibrate_training_free()") -> dict[str, float]:
    """One budget scenario: metric -> validated budget (None: no budget)."""
    check_value(constraints, SCENARIO, "constraints", owner)
    if constraints is None:
        return {}
    return {str(m): check_budget(m, b) for m, b in constraints.items()}


def parse_scenarios(constraints, owner: str = "calibrate()") -> list[dict[str, float]]:
    """One scenario (a mapping) or several (a list of mappings); None or [] is one without
    budgets."""
    check_value(constraints, SCENARIOS, "constraints", owner)
    if constraints is None:
        return [{}]
    items = [constraints] if isinstance(constraints, Mapping) else list(constraints)
    return [parse_scenario(s, owner) for s in items] or [{}]


# ---- resource models ---------------------------------------------------------------------------
def resource_estimator(space: SearchSpace, metric: str, resource_terms: str, units: str = ""):
    """The unfitted model of a budgeted metric: linear per option, or with pairwise products."""
    if resource_terms == "linear":
        return LinearResourceModel(space, name=metric, units=units)
    return QuadraticResourceModel(space, alpha=1e-3, name=metric, units=units)


def fit_resource_forms(space: SearchSpace, frame: pd.DataFrame, metrics: Sequence[str],
                       resource_terms: str, units: Mapping[str, str]
                       ) -> dict[str, QuadraticForm]:
    """Each metric's resource form fitted on the finite measurements of ``frame``."""
    out = {}
    for m in metrics:
        y = frame[m].to_numpy(dtype=float)
        ok = np.isfinite(y)
        if ok.sum() < 2:
            raise InputError(f"budgeted metric {m!r} has fewer than 2 finite measurements; "
                             "give its form in resource_forms")
        est = resource_estimator(space, m, resource_terms, units.get(m, ""))
        archs = [space.parse_key(k) for k in frame["key"][ok]]
        out[m] = est.fit(archs, y[ok]).form_
    return out


# ---- the best measured architecture ------------------------------------------------------------
def best_index(values, frame: pd.DataFrame, budgets: Mapping[str, float]) -> int | None:
    """Position of the row with the highest finite ``values`` among the rows of ``frame`` whose
    measured values meet every budget (the first of equals), or None."""
    values = np.asarray(values, dtype=float)
    ok = np.isfinite(values) & feasible_rows(frame, budgets)
    if not ok.any():
        return None
    rows = np.flatnonzero(ok)
    return int(rows[np.argmax(values[rows])])


def measured_values(row: Mapping) -> dict[str, float]:
    """The measured numbers of one samples row (bookkeeping columns left out)."""
    return {str(k): float(v) for k, v in row.items() if k not in BOOKKEEPING
            and isinstance(v, (int, float, np.integer, np.floating))
            and not isinstance(v, (bool, np.bool_))}


def best_measured(space: SearchSpace, frame: pd.DataFrame, objective: str,
                  budgets: Mapping[str, float], model: QuadraticForm,
                  units: Mapping[str, str]) -> MeasuredResult | None:
    """The measured row of ``frame`` with the highest ``objective`` that meets every budget, with
    ``model``'s prediction for it (None when no row meets them)."""
    i = best_index(frame[objective], frame, budgets)
    if i is None:
        return None
    row = frame.iloc[i]
    arch = space.parse_key(row["key"])
    return MeasuredResult(arch, measured_values(row.to_dict()), objective, budgets, model(arch),
                          units={m: units.get(m, "") for m in budgets})
