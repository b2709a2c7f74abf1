"""Model quality: each model's out-of-fold predictions against the measured values, with the
scores of ``iqnas.calibration.quality_report`` (the numbers of ``CalibrationRun.quality``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from iqnas.plotdata.labels import axis_label, with_units
from iqnas.plotdata.series import Series


@dataclass(frozen=True)
class QualityData:
    """One panel per metric (``panels[metric]`` is its measured-vs-predicted ``Series``, x =
    measured, y = out-of-fold prediction); ``table`` has one row per metric (Kendall tau, RMSE,
    within +/-10 %, ...) and ``models`` names the estimator of each metric."""

    panels: dict[str, Series]
    labels: dict[str, tuple[str, str]]  # metric -> (xlabel, ylabel)
    table: object  # pandas DataFrame
    models: dict[str, str]
    title: str
    cv: int

    @property
    def n_points(self) -> int:
        return sum(s.n_points for s in self.panels.values())


def describe_estimator(est) -> str:
    """``PairwiseRanker(terms=pairwise)``: the class and the choice of terms."""
    terms = getattr(est, "terms", None)
    name = type(est).__name__
    if isinstance(terms, str):
        return f"{name}(terms={terms})"
    if terms is not None:
        return f"{name}({len(terms)} group pairs)"
    return name


def quality_data(space, samples, estimators: Mapping[str, object],
                 units: Mapping[str, str] | None = None, cv: int = 5, seed: int = 0,
                 title: str | None = None) -> QualityData:
    """Refit each unfitted estimator ``cv`` times without one fold of ``samples`` and predict
    that fold (``iqnas.calibration.out_of_fold``); rows without a value of the metric are left
    out of its panel."""
    from iqnas.calibration.estimators import out_of_fold
    from iqnas.calibration.metrics import quality_report, report_table
    from iqnas.calibration.run import onehot

    units = dict(units or {})
    X = onehot(space, samples)
    keys = samples["key"].tolist()
    panels, labels, reports = {}, {}, {}
    for m, est in estimators.items():
        y = samples[m].to_numpy(dtype=float)
        ok = np.isfinite(y)
        pred = np.full(len(y), np.nan)
        pred[ok] = out_of_fold(est, X[ok], y[ok], cv, seed)
        reports[m] = quality_report(y[ok], pred[ok])
        u = units.get(m, "")
        hover = [f"{k}\nmeasured {with_units(t, u)}, predicted {with_units(p, u)}"
                 for k, t, p in zip(keys, y, pred)]
        panels[m] = Series(m, "oof", y, pred, keys, hover)
        labels[m] = (axis_label(f"measured {m}", u), axis_label(f"predicted {m} (out of fold)",
                                                               u))
    table = report_table(reports)
    return QualityData(panels, labels, table,
                       {m: describe_estimator(e) for m, e in estimators.items()},
                       title or f"Model quality: {cv}-fold out-of-fold predictions", cv)


def run_estimators(run) -> dict[str, object]:
    """The unfitted estimator of each model of a ``CalibrationRun`` (as the run fitted it)."""
    from iqnas.calibration.run import make_estimator

    return {m: make_estimator(run.space, m, run.objective, run.settings, f.units)
            for m, f in run.models.items()}
