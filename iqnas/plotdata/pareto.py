"""The Pareto front of a sweep: predicted front, other answers, measured answers, true front."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from iqnas.errors import InputError
from iqnas.plotdata.labels import axis_label, with_units
from iqnas.plotdata.series import Series
from iqnas.sweeps.front import staircase

if TYPE_CHECKING:
    from iqnas.sweeps import Sweep


@dataclass(frozen=True)
class ParetoData:
    """What the front figure shows. ``budgets`` are the swept budgets of ``resource`` (in
    ``budget_units``), drawn as vertical lines; ``note`` is said when nothing is feasible."""

    series: list[Series]
    title: str
    xlabel: str
    ylabel: str
    budgets: tuple[float, ...]
    budget_units: str
    maximize: bool
    note: str = ""

    @property
    def n_points(self) -> int:
        return sum(s.n_points for s in self.series)


def pareto_data(sweep: Sweep, resource: str | None = None, true_front: bool = True, *,
                title: str | None = None, xlabel: str | None = None,
                ylabel: str | None = None) -> ParetoData:
    """The front of ``sweep`` against ``resource`` (default the swept one).

    Series: ``front`` (the predicted Pareto front, a staircase), ``other`` (feasible answers off
    it), ``measured`` (the oracle's values of the answers that meet every measured budget),
    ``broken`` (answers that break a measured budget) and ``true`` (the table's constrained
    optimum at each point's budgets, with an enumerable oracle and ``true_front``).
    """
    from iqnas.sweeps import Sweep

    if not isinstance(sweep, Sweep):
        raise InputError(f"a Pareto plot needs an iqnas Sweep, got {type(sweep).__name__}")
    resource = sweep.resource if resource is None else resource
    units = sweep.problem.constraint(resource).units
    obj_name = sweep.problem.objective.name or "objective"
    obj_units = sweep.problem.objective.units
    df = sweep.to_dataframe()
    maximize = sweep.problem.sense == "maximize"
    truth = sweep.truth
    measured = truth is not None and resource in truth.metrics
    if truth is not None and not obj_units:
        obj_units = truth.oracle.units.get(truth.objective_metric, "")
    names = [c.name for c in sweep.problem.constraints]
    all_units = {c.name: c.units for c in sweep.problem.constraints}

    def hover(r, true: bool) -> str:
        lines = [str(r["key"]), f"budget {with_units(r['budget'], all_units[sweep.resource])}"]
        pred = [f"{obj_name} {with_units(r['objective'], obj_units)}"]
        pred += [f"{n} {with_units(r[n], all_units[n])}" for n in names if np.isfinite(r[n])]
        lines.append("predicted: " + ", ".join(pred))
        if true and truth is not None and np.isfinite(r.get("true_objective", np.nan)):
            meas = [f"{truth.objective_metric} {with_units(r['true_objective'], obj_units)}"]
            meas += [f"{n} {with_units(r[f'true_{n}'], all_units[n])}" for n in truth.metrics
                     if np.isfinite(r[f"true_{n}"])]
            lines.append("measured: " + ", ".join(meas))
        return "\n".join(lines)

    series: list[Series] = []
    feasible = df[df["feasible"]].drop_duplicates("key")
    note = "" if not feasible.empty else "no feasible point"
    if not feasible.empty:
        x, y = feasible[resource].to_numpy(float), feasible["objective"].to_numpy(float)
        on = staircase(x, y, maximize)
        rows = [feasible.iloc[i] for i in range(len(feasible))]
        series.append(_series("predicted front", "front", x[on], y[on], [rows[i] for i in on],
                              hover, measured, step=True))
        off = np.setdiff1d(np.arange(len(x)), on)
        if off.size:
            series.append(_series("other answers", "other", x[off], y[off],
                                  [rows[i] for i in off], hover, measured))
        if measured:
            ok = feasible["true_feasible"].eq(True).to_numpy()
            for mask, name, kind in ((ok, "answers, measured", "measured"),
                                     (~ok, "answers breaking a measured budget", "broken")):
                part = feasible[mask]
                if not part.empty:
                    series.append(_series(name, kind, part[f"true_{resource}"].to_numpy(float),
                                          part["true_objective"].to_numpy(float),
                                          [part.iloc[i] for i in range(len(part))], hover, True))
    if true_front and sweep.has_true_front and resource == sweep.resource:
        tf = sweep.true_front().dropna(subset=["key"]).drop_duplicates("key")
        if not tf.empty:
            tx, ty = tf[f"true_{resource}"].to_numpy(float), tf["true_objective"].to_numpy(float)
            on = staircase(tx, ty, maximize)
            keys = [tf["key"].iloc[i] for i in on]
            text = [f"{k}\ntable optimum: {truth.objective_metric} "
                    f"{with_units(ty[i], obj_units)}, {resource} {with_units(tx[i], units)}"
                    for k, i in zip(keys, on)]
            series.append(Series("true front (table optimum)", "true", tx[on], ty[on], keys,
                                 text, step=True))
    if resource == sweep.resource:
        budgets = tuple(sweep.budgets)
    elif resource == sweep.grid_resource:
        budgets = tuple(sweep.grid_budgets or ())
    else:
        budgets = (sweep.problem.constraint(resource).budget,)
    y_name = obj_name
    if truth is not None:
        y_name = (f"{obj_name}, predicted and measured" if truth.objective_metric == obj_name
                  else f"{obj_name} predicted / {truth.objective_metric} measured")
    return ParetoData(series, title or f"Pareto front: {obj_name} against {resource}",
                      xlabel or axis_label(resource, units),
                      ylabel or axis_label(y_name, obj_units), budgets, units, maximize, note)


def _series(name, kind, x, y, rows, hover, true: bool, step: bool = False) -> Series:
    return Series(name, kind, x, y, [r["key"] for r in rows], [hover(r, true) for r in rows],
                  step=step)
