"""Training-free calibration: FreeREA's metrics in place of trained accuracy (0 trained networks).

``calibrate_training_free(space, oracle, ...)`` measures the training-free metrics (NASWOT,
LogSynflow and FreeREA's skip term by default) of a sample, combines them with
:class:`~iqnas.calibration.proxies.FreeREAScore` (normalisation fitted on the sample, then
fixed), fits a quadratic to the combined score, solves the IQP under the budgets for the top-k
candidates, measures them and re-ranks every measured architecture by its exact combined score.
The answer is the best exactly scored architecture that meets every budget by its measured values.

Metric names are resolved against the oracle: an exact column (``ProxyOracle``'s ``naswot``, or
``naswot_c10`` of the NB201 table), else ``<name>_<dataset suffix>`` (the NB201 oracle's dataset:
``naswot`` -> ``naswot_c100`` for ``nb201("cifar100")``, as FreeREA uses the metrics cached per
dataset); ``skip`` without a column is computed from the architecture (nb201 only).

Budgets are met as follows: resource forms given in ``resource_forms`` are used as they are;
the others are fitted (``LinearResourceModel`` or a pairwise quadratic) on a uniform pilot
(``pilot_share`` of the sample); the rest of the sample is then drawn within the budgets under
those forms, and the forms are refitted on the whole sample before the IQP. Every measurement is
one metric evaluation; by default ``n_samples + top_k``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from iqnas import spaces
from iqnas.calibration.estimators import QuadraticRegressor
from iqnas.calibration.progress import progress_bar
from iqnas.calibration.proxies import FreeREAScore, skip_score
from iqnas.calibration.resource_models import LinearResourceModel, QuadraticResourceModel
from iqnas.calibration.run import measured_result
from iqnas.calibration.samplers import BudgetAwareSampler, UniformSampler
from iqnas.errors import InputError
from iqnas.problem import Problem, _budget, within_budget
from iqnas.quadform import QuadraticForm
from iqnas.result import Result
from iqnas.solve import solve, solve_top_k
from iqnas.space import Architecture, SearchSpace

log = logging.getLogger(__name__)

DEFAULT_METRICS = ("naswot", "logsynflow", "skip")
TARGETS = ("score", "rank")
RESOURCE_TERMS = ("linear", "pairwise")
#: the combined score's column in ``TrainingFreeRun.samples``
SCORE = "score"
#: spaces up to this size are solved by enumeration with ``solver="auto"``
AUTO_ENUMERATE = 200_000


@dataclass
class TrainingFreeRun:
    """What ``calibrate_training_free`` returns.

    ``best``: the measured, truly feasible architecture with the highest exact combined score
    (``best.options["true_<column>"]`` hold its measured metrics, ``true_score`` its score);
    ``samples``: every measured architecture (key, metric columns, budgeted columns, ``score``,
    ``feasible``, ``source`` = pilot / sample / candidate / repair); ``score``: the fitted
    FreeREAScore; ``model``: the quadratic fitted to the score; ``resource_forms``: the form per
    budgeted metric; ``candidates``: the IQP's top-k results; ``n_evaluations``: metric
    evaluations (oracle measurements); ``n_trained`` is always 0.
    """

    space: SearchSpace
    best: Result | None
    samples: pd.DataFrame
    score: FreeREAScore
    model: QuadraticForm
    resource_forms: dict[str, QuadraticForm]
    constraints: dict[str, float]
    columns: dict[str, str | None]
    candidates: list[Result]
    n_evaluations: int
    n_trained: int = 0
    elapsed: float = 0.0
    settings: dict = field(default_factory=dict)

    def problem(self, exclude: Sequence = ()) -> Problem:
        """The IQP: maximise the fitted score under the budgets with the resource forms."""
        cons = {m: (self.resource_forms[m], b) for m, b in self.constraints.items()}
        return Problem(self.space, self.model, cons, exclude=exclude)


def resolve_columns(oracle, metrics: Sequence[str]) -> dict[str, str | None]:
    """Oracle column of each training-free metric (None: computed from the architecture)."""
    if isinstance(metrics, str) or not len(metrics):
        raise InputError("metrics must be a non-empty list of names, e.g. "
                         "('naswot', 'logsynflow', 'skip')")
    have = list(oracle.metrics)
    suffix = _dataset_suffix(oracle)
    out: dict[str, str | None] = {}
    for m in metrics:
        if not isinstance(m, str) or not m:
            raise InputError(f"metric names must be non-empty strings, got {m!r}")
        if m in out:
            raise InputError(f"metric {m!r} is listed twice")
        if m in have:
            out[m] = m
        elif suffix and f"{m}_{suffix}" in have:
            out[m] = f"{m}_{suffix}"
        elif m == "skip":
            if oracle.space.name != "nb201":
                raise InputError(f"the skip metric is defined for nb201 only; drop 'skip' from "
                                 f"metrics for space {oracle.space.name!r}")
            out[m] = None
        else:
            near = [c for c in have if c.startswith(m + "_")]
            hint = f" (columns: {', '.join(near)})" if near else ""
            raise InputError(f"metric {m!r} is not measured by oracle {oracle.name!r}{hint}; "
                             f"give an exact column name")
    return out


def _dataset_suffix(oracle) -> str | None:
    from iqnas.benchmarks.nb201 import DATASETS

    return DATASETS.get(getattr(oracle, "dataset", None) or "")


class _Measurer:
    """Measures architectures once each, counting evaluations and keeping the rows."""

    def __init__(self, oracle, columns: Mapping[str, str | None], budgeted: Sequence[str]):
        self.oracle = oracle
        self.columns = dict(columns)
        self.budgeted = list(budgeted)
        self.rows: dict[Architecture, dict] = {}
        self.n_evaluations = 0

    def measure(self, arch: Architecture, source: str) -> dict:
        if arch in self.rows:
            return self.rows[arch]
        values = self.oracle.measure(arch)
        self.n_evaluations += 1
        row: dict = {"key": arch.key}
        for m, col in self.columns.items():
            row[m] = skip_score(arch) if col is None else float(values[col])
        for m in self.budgeted:
            row[m] = float(values[m])
        row["source"] = source
        self.rows[arch] = row
        return row

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.rows.values()))


def calibrate_training_free(space: SearchSpace | str, oracle,
                            metrics: Sequence[str] = DEFAULT_METRICS,
                            constraints: Mapping[str, float] | None = None,
                            n_samples: int = 300, top_k: int = 10, seed: int = 0, *,
                            resource_forms: Mapping[str, QuadraticForm] | None = None,
                            normalisation: str = "maxabs",
                            weights: Mapping[str, float] | None = None,
                            target: str = "score", terms: str = "pairwise",
                            alpha: float | None = 1.0, resource_terms: str = "linear",
                            pilot_share: float = 0.2, exclude_measured: bool = True,
                            max_repairs: int = 10, solver: str = "auto",
                            time_limit: float | None = None,
                            progress: bool | None = None) -> TrainingFreeRun:
    """Search with training-free metrics only: sample, score, fit, solve top-k, re-rank.

    ``constraints`` maps an oracle metric to its budget (e.g. ``{"params_M_c100": 0.2}``);
    ``resource_forms`` optionally gives the form of some of them (otherwise fitted, see the
    module docstring). ``target="rank"`` fits the quadratic to the score's ranks in (0, 1]
    instead of the score. ``alpha`` is the ridge penalty (None: cross-validated). With
    ``exclude_measured`` the IQP's candidates are new architectures. When no measured
    architecture meets the true budgets, up to ``max_repairs`` further IQP answers are measured
    (each cut off if it breaks a budget), beyond the ``n_samples + top_k`` evaluations.
    """
    t0 = time.perf_counter()
    space = spaces.get(space)
    if oracle.space.name != space.name:
        raise InputError(f"the oracle measures space {oracle.space.name!r}, not {space.name!r}")
    columns = resolve_columns(oracle, metrics)
    scenario = {str(m): _budget(m, b) for m, b in (constraints or {}).items()}
    for m in scenario:
        if m not in oracle.metrics:
            raise InputError(f"budgeted metric {m!r} is not measured by oracle {oracle.name!r}; "
                             f"it measures {', '.join(oracle.metrics)}")
        if m in columns or m in (SCORE, "key", "source", "feasible"):
            raise InputError(f"budgeted metric {m!r} clashes with a metric or column name")
    given = dict(resource_forms or {})
    for m, f in given.items():
        if m not in scenario:
            raise InputError(f"resource_forms gives {m!r}, which has no budget in constraints")
        if not isinstance(f, QuadraticForm) or f.space.name != space.name:
            raise InputError(f"resource_forms[{m!r}] must be a QuadraticForm over {space.name!r}")
    _check_int("n_samples", n_samples, 2)
    _check_int("top_k", top_k, 1)
    _check_int("seed", seed, 0)
    _check_int("max_repairs", max_repairs, 0)
    if n_samples > space.size:
        raise InputError(f"n_samples={n_samples} exceeds the {space.size} architectures of "
                         f"{space.name!r}")
    _check_choice("target", target, TARGETS)
    _check_choice("resource_terms", resource_terms, RESOURCE_TERMS)
    if not isinstance(pilot_share, (int, float)) or not 0 < pilot_share <= 1:
        raise InputError(f"pilot_share must be in (0, 1], got {pilot_share!r}")
    score = FreeREAScore(tuple(columns), method=normalisation, weights=weights)
    if solver == "auto":
        solver = "exhaustive" if space.size <= AUTO_ENUMERATE else "scip"
    settings = dict(metrics=list(columns), columns=columns, constraints=scenario,
                    n_samples=n_samples, top_k=top_k, seed=seed, normalisation=normalisation,
                    target=target, terms=terms, alpha=alpha, resource_terms=resource_terms,
                    pilot_share=pilot_share, exclude_measured=exclude_measured, solver=solver)

    meter = _Measurer(oracle, columns, list(scenario))
    rng = np.random.default_rng(seed)
    with progress_bar(progress, "measuring training-free metrics", n_samples) as advance:
        forms = _sample(space, meter, scenario, given, n_samples, pilot_share, resource_terms,
                        rng, advance)
    sample = meter.frame()
    score.fit(sample)
    y = score.score(sample)
    if target == "rank":
        y = pd.Series(y).rank(method="average").to_numpy() / len(y)
    est = QuadraticRegressor(space, terms=terms, alpha=alpha, name=SCORE).fit(
        [space.parse_key(k) for k in sample["key"]], y)
    model = est.form_
    forms = {**forms, **_fit_resources(space, sample, scenario, given, resource_terms, oracle)}
    cons = {m: (forms[m], b) for m, b in scenario.items()}
    problem = Problem(space, model, cons,
                      exclude=list(meter.rows) if exclude_measured else ())
    kw = {"time_limit": time_limit, "seed": seed}
    candidates = solve_top_k(problem, top_k, solver, **kw)
    if not candidates[0].feasible:
        log.warning("the fitted IQP has no answer: %s", candidates[0].message)
        candidates = []
    for res in candidates:
        meter.measure(res.architecture, "candidate")
    best_row = _rerank(meter, score, scenario)
    repairs = 0
    while best_row is None and repairs < max_repairs:
        res = solve(problem.excluding(list(meter.rows)), solver, **kw)
        if not res.feasible:
            break
        log.warning("no measured architecture meets the true budgets; measuring IQP answer %s "
                    "(repair %d)", res.architecture.key, repairs + 1)
        meter.measure(res.architecture, "repair")
        repairs += 1
        best_row = _rerank(meter, score, scenario)
    samples = meter.frame()
    samples[SCORE] = score.score(samples)
    samples["feasible"] = _feasible_mask(samples, scenario)
    best = None
    if best_row is not None:
        arch = space.parse_key(best_row["key"])
        measured = {k: v for k, v in best_row.items() if k not in ("key", "source")}
        measured[SCORE] = float(score.score(pd.DataFrame([best_row])).item())
        best = measured_result(arch, measured, SCORE, scenario, {SCORE: model}, oracle)
    else:
        log.warning("no measured architecture meets the budgets %s", scenario)
    run = TrainingFreeRun(space, best, samples, score, model, forms, scenario, columns,
                          candidates, meter.n_evaluations, 0, time.perf_counter() - t0, settings)
    log.info("training-free calibration: %d metric evaluations, best %s, %.2f s",
             run.n_evaluations, None if best is None else best.key, run.elapsed)
    return run


def _sample(space: SearchSpace, meter: _Measurer, scenario: dict[str, float],
            given: dict[str, QuadraticForm], n: int, pilot_share: float, resource_terms: str,
            rng: np.random.Generator, advance) -> dict[str, QuadraticForm]:
    """Measure ``n`` distinct architectures; returns the resource forms sampling used."""
    missing = [m for m in scenario if m not in given]
    forms = dict(given)
    if missing:
        n_pilot = min(n, max(2, round(pilot_share * n)))
        for a in UniformSampler().sample(space, n_pilot, rng):
            meter.measure(a, "pilot")
            advance()
        pilot = meter.frame()
        forms.update(_fit_resources(space, pilot, scenario, given, resource_terms,
                                    meter.oracle))
    rest = n - len(meter.rows)
    if rest <= 0:
        return forms
    if scenario:
        cons = {m: (forms[m], b) for m, b in scenario.items()}
        try:
            pool = BudgetAwareSampler(cons).sample(space, min(space.size, rest + len(meter.rows)),
                                                   rng)
        except InputError as exc:
            log.warning("sampling within the budgets failed (%s); sampling uniformly", exc)
            pool = UniformSampler().sample(space, min(space.size, rest + len(meter.rows)), rng)
    else:
        pool = UniformSampler().sample(space, rest, rng)
    for a in pool:
        if len(meter.rows) >= n:
            break
        if a not in meter.rows:
            meter.measure(a, "sample")
            advance()
    if len(meter.rows) < n:  # the budgets leave too few architectures: fill uniformly
        for a in UniformSampler().sample(space, min(space.size, 2 * n), rng):
            if len(meter.rows) >= n:
                break
            if a not in meter.rows:
                meter.measure(a, "sample")
                advance()
    return forms


def _fit_resources(space: SearchSpace, frame: pd.DataFrame, scenario: dict[str, float],
                   given: dict[str, QuadraticForm], resource_terms: str,
                   oracle) -> dict[str, QuadraticForm]:
    out = {}
    for m in scenario:
        if m in given:
            continue
        y = frame[m].to_numpy(dtype=float)
        ok = np.isfinite(y)
        if ok.sum() < 2:
            raise InputError(f"budgeted metric {m!r} has fewer than 2 finite measurements; "
                             "give its form in resource_forms")
        units = oracle.units.get(m, "")
        est = (LinearResourceModel(space, name=m, units=units) if resource_terms == "linear"
               else QuadraticResourceModel(space, alpha=1e-3, name=m, units=units))
        archs = [space.parse_key(k) for k in frame["key"][ok]]
        out[m] = est.fit(archs, y[ok]).form_
    return out


def _feasible_mask(frame: pd.DataFrame, scenario: dict[str, float]) -> np.ndarray:
    ok = np.ones(len(frame), dtype=bool)
    for m, b in scenario.items():
        v = frame[m].to_numpy(dtype=float)
        ok &= np.isfinite(v) & np.array([within_budget(x, b) for x in v], dtype=bool)
    return ok


def _rerank(meter: _Measurer, score: FreeREAScore, scenario: dict[str, float]) -> dict | None:
    """The measured row with the highest exact score among those within every budget."""
    frame = meter.frame()
    s = score.score(frame)
    s = np.where(_feasible_mask(frame, scenario), s, -math.inf)
    if not np.isfinite(s).any():
        return None
    return frame.iloc[int(np.argmax(s))].to_dict()


def _check_int(name: str, v, low: int) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        raise InputError(f"{name} must be an integer >= {low}, got {v!r}")


def _check_choice(what: str, value, allowed) -> None:
    if value not in allowed:
        raise InputError(f"unknown {what} {value!r}; use one of {', '.join(allowed)}")


__all__ = ["DEFAULT_METRICS", "TrainingFreeRun", "calibrate_training_free", "resolve_columns"]
