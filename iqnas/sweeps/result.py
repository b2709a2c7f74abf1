"""Sweep: the points of a budget sweep, their fronts and the choices that change between them."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from iqnas._outputs import write_text_atomic
from iqnas.errors import InputError
from iqnas.problem import Problem
from iqnas.space import Architecture
from iqnas.sweeps.changes import change_rows, diff, summary
from iqnas.sweeps.front import constrained_best, pareto_mask
from iqnas.sweeps.points import SweepPoint, make_points, neighbours
from iqnas.sweeps.rows import REUSED, SweepRow
from iqnas.sweeps.settings import SweepSettings
from iqnas.sweeps.truth import TrueValues, Truth, true_values

if TYPE_CHECKING:
    import pandas as pd


@dataclass(eq=False)
class Sweep:
    """What ``iqnas.sweep`` returns: one verified :class:`~iqnas.sweeps.SweepRow` per point
    (``rows``), in point order (ascending budget; for a grid, ascending budget inside ascending
    grid budget).

    ``to_dataframe()`` has one row per point: ``budget`` (and ``grid_budget``), ``status``,
    ``feasible``, ``objective``, ``key``, the value of each resource, ``gap``, ``dual_bound``,
    ``time``, ``nodes``, ``source`` (``cold``/``warm`` solve or ``reused`` from the covering
    point ``from_point``), ``changes`` (against the previous point) and ``message``; with an
    oracle also ``true_objective``, ``true_<resource>`` and ``true_feasible``.

    ``problem`` is the swept problem with the swept budget(s) set to the first point's;
    ``elapsed`` is this call's wall time and ``resumed`` the number of points read from ``path``.
    """

    problem: Problem
    resource: str
    budgets: tuple[float, ...]
    grid_resource: str | None
    grid_budgets: tuple[float, ...] | None
    rows: list[SweepRow]
    settings: SweepSettings
    truth: Truth | None = None
    path: Path | None = None
    elapsed: float = 0.0
    resumed: int = 0
    _cache: dict = field(default_factory=dict, init=False, repr=False)

    # ---- points -------------------------------------------------------------------------------
    @property
    def points(self) -> list[SweepPoint]:
        return make_points(self.budgets, self.grid_budgets)

    def point_budgets(self, index: int) -> dict[str, float]:
        return self.points[index].budgets(self.resource, self.grid_resource)

    @property
    def architectures(self) -> list[Architecture | None]:
        """The answer of each point (None where there is none)."""
        if "archs" not in self._cache:
            self._cache["archs"] = [r.architecture(self.problem) for r in self.rows]
        return self._cache["archs"]

    @property
    def n_feasible(self) -> int:
        return sum(r.feasible for r in self.rows)

    @property
    def n_reused(self) -> int:
        return sum(r.source == REUSED for r in self.rows)

    @property
    def n_solved(self) -> int:
        return len(self.rows) - self.n_reused

    def __len__(self) -> int:
        return len(self.rows)

    # ---- tables -------------------------------------------------------------------------------
    def _true(self) -> list[TrueValues] | None:
        if self.truth is None:
            return None
        if "true" not in self._cache:
            budgets = [self.point_budgets(r.point) for r in self.rows]
            self._cache["true"] = true_values(self.truth, self.problem, self.rows, budgets)
        return self._cache["true"]

    def _change_text(self) -> dict[int, str]:
        archs = self.architectures
        out = {}
        for a, b in neighbours(self.points):
            if archs[a.index] is not None and archs[b.index] is not None:
                out[b.index] = summary(diff(archs[a.index], archs[b.index]))
        return out

    def to_dataframe(self) -> pd.DataFrame:
        import pandas as pd

        names = [c.name for c in self.problem.constraints]
        true = self._true()
        text = self._change_text()
        records = []
        for k, r in enumerate(self.rows):
            rec = {"point": r.point, "budget": r.budget}
            if self.grid_resource is not None:
                rec["grid_budget"] = r.grid_budget
            rec.update(status=r.status.value, feasible=bool(r.feasible),
                       objective=_nan(r.objective), key=r.key)
            rec.update({n: _nan(r.resources.get(n)) for n in names})
            rec.update(gap=_nan(r.gap), dual_bound=_nan(r.dual_bound), time=r.time,
                       nodes=r.nodes, source=r.source, from_point=r.from_point,
                       changes=text.get(r.point), message=r.message)
            if true is not None:
                rec.update({k2: (np.nan if v is None else v)
                            for k2, v in true[k].columns(self.truth.metrics).items()})
            records.append(rec)
        df = pd.DataFrame.from_records(records)
        df.attrs.update(self._attrs())
        return df

    def _attrs(self) -> dict[str, Any]:
        return {"space": self.problem.space.name, "sense": self.problem.sense,
                "resource": self.resource, "grid_resource": self.grid_resource,
                "objective": self.problem.objective.name or "objective",
                "units": {c.name: c.units for c in self.problem.constraints},
                "objective_metric": None if self.truth is None else self.truth.objective_metric,
                "true_metrics": None if self.truth is None else dict(self.truth.metrics)}

    def pareto_front(self, resource: str | list[str] | None = None,
                     true: bool = False) -> pd.DataFrame:
        """Feasible, non-dominated points: the best objective for each amount of ``resource``
        (default the swept one; a list of names uses them jointly), one row per distinct
        architecture, by increasing resource. ``true=True`` uses the measured values of the
        truly feasible points instead of the predicted ones."""
        names = self._resources(resource, true)
        df = self.to_dataframe()
        if true:
            sel = df[df["true_feasible"].eq(True)]
            obj, cols = "true_objective", [f"true_{n}" for n in names]
        else:
            sel = df[df["feasible"]]
            obj, cols = "objective", names
        sel = sel.drop_duplicates("key", keep="first")
        keep = pareto_mask(sel[obj].to_numpy(float), sel[cols].to_numpy(float),
                           self.problem.sense == "maximize")
        return sel[keep].sort_values(cols + ["budget"], kind="stable")

    def _resources(self, resource, true: bool) -> list[str]:
        if resource is None:
            names = [self.resource]
        else:
            names = [resource] if isinstance(resource, str) else list(resource)
        for n in names:
            self.problem.constraint(n)
            if true and (self.truth is None or n not in self.truth.metrics):
                raise InputError(f"no measured values of {n!r}: give an oracle that measures "
                                 "it (resource_metrics={...: metric})")
        return names

    def changes(self) -> pd.DataFrame:
        """One row per group that changes option between neighbouring feasible points:
        ``point_from``, ``point_to``, ``budget_from``, ``budget_to``, ``grid_budget``,
        ``group``, ``option_from``, ``option_to`` (None where a group is inactive)."""
        import pandas as pd

        by_point = {r.point: r for r in self.rows}
        pairs = [(by_point[a.index], by_point[b.index]) for a, b in neighbours(self.points)]
        archs = {r.point: a for r, a in zip(self.rows, self.architectures) if a is not None}
        cols = ["point_from", "point_to", "budget_from", "budget_to", "grid_budget", "group",
                "option_from", "option_to"]
        return pd.DataFrame.from_records(change_rows(pairs, archs), columns=cols)

    # ---- the true front -----------------------------------------------------------------------
    @property
    def has_true_front(self) -> bool:
        return (self.truth is not None and self.truth.enumerable
                and self.resource in self.truth.metrics)

    def true_front(self) -> pd.DataFrame:
        """Per point, the best architecture of the oracle's table whose measured values meet
        the point's budgets (every budget the oracle measures): ``key``, ``true_objective``,
        ``true_<resource>`` and ``regret`` (how much better it is than this sweep's answer,
        measured; NaN where that answer has none or breaks a measured budget)."""
        import pandas as pd

        if not self.has_true_front:
            raise InputError("true_front needs an oracle whose table lists every architecture "
                             f"(e.g. iqnas.oracles.nb201) and measures {self.resource!r}")
        truth = self.truth
        table = truth.oracle.table()
        values = {n: table[m].to_numpy(float) for n, m in truth.metrics.items()}
        fixed = {c.name: c.budget for c in self.problem.constraints if c.name in values}
        budgets = [{**fixed, **{n: b for n, b in self.point_budgets(r.point).items()
                                if n in values}} for r in self.rows]
        maximize = self.problem.sense == "maximize"
        obj = table[truth.objective_metric].to_numpy(float)
        best = constrained_best(obj, values, budgets, self.resource, maximize)
        ours = self._true()
        records = []
        for r, i, mine in zip(self.rows, best, ours):
            rec = {"point": r.point, "budget": r.budget}
            if self.grid_resource is not None:
                rec["grid_budget"] = r.grid_budget
            found = i >= 0
            rec["key"] = table.index[i] if found else None
            rec["true_objective"] = obj[i] if found else np.nan
            rec.update({f"true_{n}": (v[i] if found else np.nan) for n, v in values.items()})
            got = mine.objective if mine.feasible else None
            rec["regret"] = (np.nan if not found or got is None
                             else (obj[i] - got) * (1.0 if maximize else -1.0))
            records.append(rec)
        return pd.DataFrame.from_records(records)

    # ---- export -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        front = self.pareto_front()
        out = {**self._attrs(), "budgets": list(self.budgets),
               "grid_budgets": None if self.grid_budgets is None else list(self.grid_budgets),
               "settings": self.settings.identity(),
               "warm_start": self.settings.warm_start, "reuse": self.settings.reuse,
               "elapsed": self.elapsed, "n_solved": self.n_solved, "n_reused": self.n_reused,
               "resumed": self.resumed, "path": None if self.path is None else str(self.path),
               "points": records(self.to_dataframe()),
               "pareto_front": [int(p) for p in front["point"]],
               "changes": records(self.changes())}
        if self.has_true_front:
            out["true_front"] = records(self.true_front())
        return out

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), **kw)

    def save(self, path: str | Path) -> Path:
        """Write ``to_json`` to ``path`` and return the path."""
        return write_text_atomic(path, self.to_json(indent=2) + "\n", "sweep file")

    def __repr__(self) -> str:
        axes = f"{self.resource} x {len(self.budgets)}"
        if self.grid_resource is not None:
            axes += f", {self.grid_resource} x {len(self.grid_budgets)}"
        return (f"Sweep({self.problem.space.name!r}, {axes}: {self.n_feasible}/{len(self)} "
                f"feasible, {self.n_solved} solved, {self.n_reused} reused)")


def records(df) -> list[dict[str, Any]]:
    """DataFrame rows as JSON-safe dicts (NaN -> None, numpy scalars -> Python)."""
    out = []
    for rec in df.to_dict("records"):
        clean = {}
        for k, v in rec.items():
            if isinstance(v, np.generic):
                v = v.item()
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            clean[k] = v
        out.append(clean)
    return out


def _nan(v) -> float:
    return np.nan if v is None else float(v)
