"""Measured ("true") values of a sweep's answers from an oracle: objective metric, each budgeted
resource that the oracle measures, and whether the measured values meet the budgets."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from iqnas.errors import InputError
from iqnas.oracles.oracle import Oracle, unknown_name_message
from iqnas.problem import Problem, within_budget


@dataclass(frozen=True)
class Truth:
    """An oracle and which of its metrics stands for the objective and for each resource."""

    oracle: Oracle
    objective_metric: str
    metrics: Mapping[str, str]  # resource name -> oracle metric

    @property
    def enumerable(self) -> bool:
        return bool(getattr(self.oracle, "exhaustive", False))


def make_truth(oracle, problem: Problem, objective_metric: str | None,
               resource_metrics: Mapping[str, str] | None) -> Truth | None:
    """Check the oracle against the problem and pick its metrics (None without an oracle).

    By default a resource is measured by the oracle metric of the same name, and the objective
    by ``objective_metric``, else the oracle's ``accuracy_metric``, else its only metric that no
    resource uses.
    """
    if oracle is None:
        if objective_metric is not None or resource_metrics:
            raise InputError("objective_metric and resource_metrics need an oracle; pass "
                             "oracle=iqnas.oracles.nb201(...) or similar")
        return None
    if not isinstance(oracle, Oracle):
        raise InputError(f"oracle must be an iqnas.oracles.Oracle, got "
                         f"{type(oracle).__name__}")
    if oracle.space.name != problem.space.name:
        raise InputError(f"oracle {oracle.name!r} measures space {oracle.space.name!r}, the "
                         f"problem is over {problem.space.name!r}")
    names = [c.name for c in problem.constraints]
    if resource_metrics is None:
        metrics = {n: n for n in names if n in oracle.metrics}
    else:
        if not isinstance(resource_metrics, Mapping):
            raise InputError("resource_metrics must map resource names to oracle metrics")
        metrics = {}
        for name, metric in resource_metrics.items():
            if name not in names:
                raise InputError(unknown_name_message("resource", name, names, "the problem"))
            metrics[name] = oracle.check_metric(metric)
    if objective_metric is None:
        objective_metric = getattr(oracle, "accuracy_metric", None)
        if objective_metric not in oracle.metrics:
            rest = [m for m in oracle.metrics if m not in metrics.values()]
            if len(rest) != 1:
                raise InputError(f"objective_metric: say which metric of oracle {oracle.name!r} "
                                 f"is the true objective, one of {', '.join(oracle.metrics)}")
            objective_metric = rest[0]
    return Truth(oracle, oracle.check_metric(objective_metric), metrics)


def true_columns(truth: Truth, problem: Problem, rows: list[dict[str, Any]],
                 budgets: list[dict[str, float]]) -> list[dict[str, Any]]:
    """Per row: ``true_objective``, ``true_<resource>`` and ``true_feasible`` (None when the
    row has no answer, or the oracle measures none of the resources). ``budgets[i]`` are row
    i's swept budgets; the others come from ``problem``."""
    archs = [problem.space.arch(r["choices"]) for r in rows if r.get("choices") is not None]
    table = truth.oracle.measure_many(archs) if archs else None
    fixed = {c.name: c.budget for c in problem.constraints}
    out, k = [], 0
    for row, swept in zip(rows, budgets):
        if row.get("choices") is None:
            out.append({"true_objective": None, **{f"true_{n}": None for n in truth.metrics},
                        "true_feasible": None})
            continue
        vals = table.iloc[k]  # measure_many keeps the order of its input
        k += 1
        limits = {**fixed, **swept}
        res = {n: float(vals[m]) for n, m in truth.metrics.items()}
        ok = (all(math.isfinite(v) and within_budget(v, limits[n]) for n, v in res.items())
              if res else None)  # nothing measured, nothing to say
        out.append({"true_objective": float(vals[truth.objective_metric]),
                    **{f"true_{n}": v for n, v in res.items()}, "true_feasible": ok})
    return out
