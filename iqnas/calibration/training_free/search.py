"""``calibrate_training_free``: sample, score, fit, solve top-k, re-rank (see the package
docstring)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from iqnas import spaces
from iqnas._validation import Boolean, Interval, Options, validate_params
from iqnas.calibration.common import (
    RESOURCE_TERMS,
    SOLVER,
    auto_solver,
    best_measured,
    check_oracle,
    fit_resource_forms,
    solver_spec,
)
from iqnas.calibration.estimators import QuadraticRegressor
from iqnas.calibration.proxies import FreeREAScore
from iqnas.calibration.training_free.answers import measure_candidates, repair
from iqnas.calibration.training_free.budgets import check_budgets
from iqnas.calibration.training_free.columns import SCORE, default_metrics, resolve_columns
from iqnas.calibration.training_free.measurer import Measurer
from iqnas.calibration.training_free.model import TARGETS, TrainingFreeModel
from iqnas.calibration.training_free.rerank import best_row, scored
from iqnas.calibration.training_free.run import TrainingFreeRun
from iqnas.calibration.training_free.sampling import measure_sample
from iqnas.errors import InputError
from iqnas.measured import feasible_rows
from iqnas.quadform import QuadraticForm
from iqnas.solve import iter_solutions
from iqnas.solvers.base import Backend
from iqnas.space import SearchSpace

log = logging.getLogger(__name__)

#: what calibrate_training_free's arguments accept (metrics, budgets and forms are checked
#: against the oracle)
CONSTRAINTS = {
    "n_samples": [Interval("int", 2, None)],
    "top_k": [Interval("int", 1, None)],
    "seed": [Interval("int", 0, None)],
    "target": [Options(TARGETS)],
    "alpha": [Interval("real", 0, None), None],
    "resource_terms": [Options(RESOURCE_TERMS)],
    "pilot_share": [Interval("real", 0, 1, closed="right")],
    "exclude_measured": [Boolean()],
    "max_repairs": [Interval("int", 0, None)],
    "solver": SOLVER,
    "time_limit": [Interval("real", 0, None, closed="neither"), None],
    "progress": [Boolean(), None],
}


@validate_params(CONSTRAINTS)
def calibrate_training_free(space: SearchSpace | str, oracle,
                            metrics: Sequence[str] | None = None,
                            constraints: Mapping[str, float] | None = None,
                            n_samples: int = 300, top_k: int = 10, seed: int = 0, *,
                            resource_forms: Mapping[str, QuadraticForm] | None = None,
                            normalisation: str = "maxabs",
                            weights: Mapping[str, float] | None = None,
                            target: str = "score", terms: str = "pairwise",
                            alpha: float | None = 1.0, resource_terms: str = "linear",
                            pilot_share: float = 0.2, exclude_measured: bool = True,
                            max_repairs: int = 10, solver: str | Backend = "auto",
                            time_limit: float | None = None,
                            progress: bool | None = None, executor=None) -> TrainingFreeRun:
    """Search with training-free metrics only: sample, score, fit, solve top-k, re-rank.

    ``metrics`` defaults to naswot, logsynflow and skip (no skip outside nb201). ``constraints``
    maps a metric to its budget (e.g. ``{"params_M_c100": 0.2}``); ``resource_forms`` gives the
    form of some of them (see the package docstring). ``normalisation`` and ``weights`` go to
    :class:`FreeREAScore`. ``target="rank"`` fits the quadratic to the score's ranks in (0, 1]
    instead of the score. ``alpha`` is the ridge penalty (None: cross-validated). With
    ``exclude_measured`` the IQP's candidates are architectures not measured yet. When no
    measured architecture meets the true budgets, up to ``max_repairs`` further IQP answers are
    measured, beyond the ``n_samples + top_k`` evaluations. ``solver`` is a backend name or a
    configured backend; ``"auto"`` enumerates spaces of up to 200,000 architectures (the exact
    optimum, as SCIP's) and uses SCIP otherwise. ``time_limit`` bounds the IQP solves in all.
    ``executor`` (an ``iqnas.executors`` Executor; default in-process) measures each batch (the
    pilot, the sample, the candidates); a failed measurement is kept in ``run.failures``, never
    as a number, and never proposed again.
    """
    t0 = time.perf_counter()
    space = spaces.get(space)
    check_oracle(oracle, space, "calibrate_training_free()")
    pool = oracle.candidates() if hasattr(oracle, "candidates") else None
    if pool is not None:
        raise InputError(f"training-free mode measures architectures the IQP proposes, but "
                         f"oracle {getattr(oracle, 'name', 'oracle')!r} covers only {len(pool)} of "
                         f"the {space.size} architectures of {space.name!r}; use live metrics "
                         "(ProxyOracle, --oracle proxies) or the trained mode, which selects "
                         "among the measured rows")
    columns = resolve_columns(oracle, default_metrics(space) if metrics is None else metrics)
    scenario, given, form_only = check_budgets(space, oracle, columns, constraints,
                                               resource_forms)
    if n_samples > space.size:
        raise InputError(f"The 'n_samples' parameter of calibrate_training_free() must be an "
                         f"int in the range [2, {space.size}] (the size of space "
                         f"{space.name!r}). Got {n_samples!r} instead.")
    score = FreeREAScore(tuple(columns), method=normalisation, weights=weights)
    backend = auto_solver(solver, space, "calibrate_training_free()")
    settings = dict(metrics=list(columns), columns=columns, constraints=scenario,
                    n_samples=n_samples, top_k=top_k, seed=seed, normalisation=normalisation,
                    target=target, terms=terms, alpha=alpha, resource_terms=resource_terms,
                    pilot_share=pilot_share, exclude_measured=exclude_measured,
                    solver=solver_spec(backend))

    meter = Measurer(oracle, columns, list(scenario), form_only, executor, progress)
    rng = np.random.default_rng(seed)
    forms = measure_sample(space, meter, scenario, given, n_samples, pilot_share,
                           resource_terms, rng)
    if len(meter.rows) < 2:
        raise InputError(f"only {len(meter.rows)} of the sampled architectures could be "
                         f"measured ({len(meter.failures)} failed, e.g. "
                         f"{next(iter(meter.failures.values()), '?')}); nothing to fit")
    sample = meter.frame()
    feasible = feasible_rows(sample, scenario)
    score.fit(sample[feasible] if feasible.sum() >= 2 else sample)
    if feasible.sum() < 2:
        log.warning("fewer than 2 sampled architectures meet the budgets; the score's "
                    "normalisation is fitted on the whole sample")
    y = score.score(sample)
    if target == "rank":
        y = pd.Series(y).rank(method="average").to_numpy() / len(y)
    est = QuadraticRegressor(space, terms=terms, alpha=alpha, name=SCORE).fit(
        [space.parse_key(k) for k in sample["key"]], y)
    missing = [m for m in scenario if m not in given]
    forms = {**forms, **fit_resource_forms(space, sample, missing, resource_terms, oracle.units)}
    fitted = TrainingFreeModel(space, est.form_, score, forms, scenario, columns, target)
    skip = (tuple(meter.rows) if exclude_measured else ()) + tuple(meter.failures)
    answers = iter_solutions(fitted.problem(), backend, skip=skip,
                             time_limit=time_limit, seed=seed, diagnose=False)
    candidates = measure_candidates(answers, meter, top_k)
    repair(answers, meter, max_repairs, lambda: best_row(meter.frame(), score, scenario))
    samples = scored(meter.frame(), score, scenario)
    best = best_measured(space, samples, SCORE, scenario, fitted.model, oracle.units)
    if best is None:
        log.warning("no measured architecture meets the budgets %s", scenario)
    run = TrainingFreeRun(fitted, best, samples, candidates, meter.n_evaluations, 0,
                          time.perf_counter() - t0, settings,
                          {a.key: err for a, err in meter.failures.items()})
    log.info("training-free calibration: %d metric evaluations, best %s, %.2f s",
             run.n_evaluations, None if best is None else best.key, run.elapsed)
    return run
