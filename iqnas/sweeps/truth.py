"""Measured ("true") values of a sweep's answers from an oracle: objective metric, each budgeted
resource that the oracle measures, and whether the measured values meet the budgets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from iqnas.errors import InputError
from iqnas.measured import meets_budgets
from iqnas.oracles.oracle import Oracle, unknown_name_message
from iqnas.problem import Problem
from iqnas.sweeps.rows import SweepRow


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
    if oracle.space.name != problem.space.name:
        raise InputError(f"oracle {oracle.name!r} measures space {oracle.space.name!r}, the "
                         f"problem is over {problem.space.name!r}")
    names = [c.name for c in problem.constraints]
    if resource_metrics is None:
        metrics = {n: n for n in names if n in oracle.metrics}
    else:
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


@dataclass(frozen=True)
class TrueValues:
    """The measured values of one point's answer: the objective metric, each measured resource
    and whether they meet the point's budgets (None: no answer, or no resource measured)."""

    objective: float | None = None
    resources: Mapping[str, float | None] = field(default_factory=dict)
    feasible: bool | None = None

    def columns(self, metrics: Mapping[str, str]) -> dict[str, Any]:
        """The ``true_objective``, ``true_<resource>`` and ``true_feasible`` columns."""
        return {"true_objective": self.objective,
                **{f"true_{n}": self.resources.get(n) for n in metrics},
                "true_feasible": self.feasible}


def true_values(truth: Truth, problem: Problem, rows: Sequence[SweepRow],
                budgets: list[dict[str, float]]) -> list[TrueValues]:
    """Per row, the measured values of its answer. ``budgets[i]`` are row i's swept budgets;
    the others come from ``problem``."""
    archs = [a for a in (r.architecture(problem) for r in rows) if a is not None]
    table = truth.oracle.measure_many(archs) if archs else None
    fixed = {c.name: c.budget for c in problem.constraints}
    out, k = [], 0
    for row, swept in zip(rows, budgets):
        if row.choices is None:
            out.append(TrueValues())
            continue
        vals = table.iloc[k]  # measure_many keeps the order of its input
        k += 1
        limits = {**fixed, **swept}
        res = {n: float(vals[m]) for n, m in truth.metrics.items()}
        ok = meets_budgets(res, {n: limits[n] for n in res}) if res else None
        out.append(TrueValues(float(vals[truth.objective_metric]), res, ok))
    return out
