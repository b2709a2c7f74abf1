"""Training-free calibration: FreeREA's metrics in place of trained accuracy (0 trained networks).

``calibrate_training_free(space, oracle, ...)`` measures the training-free metrics (NASWOT,
LogSynflow and FreeREA's skip term by default) of a sample, combines them with
:class:`~iqnas.calibration.proxies.FreeREAScore`, fits a quadratic to the combined score, solves
the IQP under the budgets for its top-k new candidates, measures them and re-ranks every measured
architecture by its exact combined score. The answer is the best exactly scored architecture that
meets every budget by its measured values.

The normalisation of the score is fitted once, on the calibration sample's architectures that
meet the budgets (all of them without budgets; FreeREA also compares feasible architectures only),
and then kept fixed: it is stored with the fitted model (:class:`TrainingFreeModel`, saved as
JSON), so an architecture scores the same whatever else is measured. FreeREA's own normalisation
is relative to the set being compared.

Metric names are resolved against the oracle: an exact column (``ProxyOracle``'s ``naswot``), else
``<name>_<dataset suffix>`` (``naswot`` -> ``naswot_c100`` for ``nb201("cifar100")``, as FreeREA
uses the metrics cached per dataset); ``skip`` without a column is computed from the architecture
(nb201 only). Non-finite metric values (NASWOT's -inf on degenerate cells) are replaced by the
sample's finite minimum, as FreeREA's loader does with the column minimum.

Budgets: ``constraints`` maps a metric to its budget. A metric the oracle measures is checked by
its measured value; its form is taken from ``resource_forms`` or fitted (``LinearResourceModel`` or
a pairwise quadratic) on a uniform pilot (``pilot_share`` of the sample), the rest of the sample
being drawn within the budgets, and refitted on the whole sample before the IQP. A metric the
oracle does not measure needs its form in ``resource_forms`` (e.g. an exact parameter count or a
latency look-up table next to a live ``ProxyOracle``); the form's value is then its value. Every
measurement is one metric evaluation; by default ``n_samples + top_k`` in all.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from iqnas import spaces
from iqnas._progress import progress_bar
from iqnas.calibration.estimators import QuadraticRegressor
from iqnas.calibration.proxies import FreeREAScore, skip_score
from iqnas.calibration.resource_models import LinearResourceModel, QuadraticResourceModel
from iqnas.calibration.run import measured_result
from iqnas.calibration.samplers import BudgetAwareSampler, UniformSampler
from iqnas.errors import InputError
from iqnas.problem import Problem, check_budget, within_budget
from iqnas.quadform import QuadraticForm
from iqnas.result import Result
from iqnas.solve import solve
from iqnas.space import Architecture, SearchSpace

log = logging.getLogger(__name__)

DEFAULT_METRICS = ("naswot", "logsynflow", "skip")
TARGETS = ("score", "rank")
RESOURCE_TERMS = ("linear", "pairwise")
#: the combined score's column in ``TrainingFreeRun.samples``
SCORE = "score"
#: column names of ``samples`` that metrics and budgets may not take
RESERVED = (SCORE, "key", "source", "feasible")
#: spaces up to this size are solved by enumeration with ``solver="auto"``
AUTO_ENUMERATE = 200_000
FORMAT = "iqnas.TrainingFreeModel/1"


@dataclass
class TrainingFreeModel:
    """What training-free calibration fits, all of it needed to reuse the search.

    ``model``: the quadratic fitted to the combined score (to its ranks with ``target="rank"``);
    ``score``: the combined score with its fixed normalisation; ``resource_forms`` and
    ``constraints``: the form and budget of each budgeted metric; ``columns``: the oracle column
    of each training-free metric (None: computed from the architecture).
    """

    space: SearchSpace
    model: QuadraticForm
    score: FreeREAScore
    resource_forms: dict[str, QuadraticForm]
    constraints: dict[str, float]
    columns: dict[str, str | None]
    target: str = "score"

    def problem(self, exclude: Sequence = ()) -> Problem:
        """The IQP: maximise the fitted score under the budgets with the resource forms."""
        cons = {m: (self.resource_forms[m], b) for m, b in self.constraints.items()}
        return Problem(self.space, self.model, cons, exclude=exclude)

    def metric_values(self, arch: Architecture | str, oracle) -> dict[str, float]:
        """The training-free metrics of one architecture, measured by ``oracle``."""
        a = self.space.to_arch(arch)
        values = oracle.measure(a) if any(c is not None for c in self.columns.values()) else {}
        return {m: skip_score(a) if c is None else float(values[c])
                for m, c in self.columns.items()}

    def exact_score(self, arch: Architecture | str, oracle) -> float:
        """The combined score of one architecture from its measured metrics (fixed scale)."""
        return float(self.score.score(self.metric_values(arch, oracle)))

    # ---- persistence -----------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"format": FORMAT, "space": self.space.name, "target": self.target,
                "columns": dict(self.columns), "constraints": dict(self.constraints),
                "model": self.model.to_dict(), "score": self.score.to_dict(),
                "resource_forms": {m: f.to_dict() for m, f in self.resource_forms.items()}}

    def save(self, path: str | Path) -> Path:
        """Write the model, the score's normalisation and the budgets as one JSON file."""
        path = Path(path)
        if path.suffix != ".json":
            raise InputError(f"a TrainingFreeModel is saved as .json, not {path.suffix!r}")
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=1))
        tmp.replace(path)
        return path

    @classmethod
    def from_dict(cls, d: dict) -> TrainingFreeModel:
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise InputError(f"not a TrainingFreeModel document (format {FORMAT!r} expected); "
                             "write it with TrainingFreeModel.save")
        try:
            space = spaces.get(d["space"])
            model = QuadraticForm.from_dict(d["model"], space)
            score = FreeREAScore.from_json(json.dumps(d["score"]))
            forms = {str(m): QuadraticForm.from_dict(f, space)
                     for m, f in d["resource_forms"].items()}
            cons = {str(m): check_budget(m, b) for m, b in d["constraints"].items()}
            columns = {str(m): None if c is None else str(c) for m, c in d["columns"].items()}
            target = d["target"]
        except (KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"TrainingFreeModel document is incomplete ({exc!r}); write it "
                             "with TrainingFreeModel.save") from None
        if set(forms) != set(cons) or list(columns) != list(score.metrics) \
                or target not in TARGETS:
            raise InputError("TrainingFreeModel document is inconsistent (budgets without "
                             "forms, metrics that differ from the score's, or a bad target)")
        return cls(space, model, score, forms, cons, columns, target)

    @classmethod
    def load(cls, path: str | Path) -> TrainingFreeModel:
        path = Path(path)
        if not path.is_file():
            raise InputError(f"file not found: {path}")
        try:
            d = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise InputError(f"{path} is not JSON: {exc}") from None
        return cls.from_dict(d)


@dataclass
class TrainingFreeRun:
    """What ``calibrate_training_free`` returns.

    ``fitted``: the :class:`TrainingFreeModel` (``model``, ``score``, ``resource_forms``,
    ``constraints`` and ``columns`` are shortcuts to it); ``best``: the measured architecture that
    meets every budget with the highest exact combined score (``best.options["true_<metric>"]``
    hold its measured values and ``true_score`` its score); ``samples``: every measured
    architecture (key, metrics, budgeted metrics, ``score``, ``feasible``, ``source`` = pilot /
    sample / candidate / repair); ``candidates``: the IQP's top-k new architectures;
    ``n_evaluations``: metric evaluations (oracle measurements); ``n_trained`` is always 0.
    """

    fitted: TrainingFreeModel
    best: Result | None
    samples: pd.DataFrame
    candidates: list[Result]
    n_evaluations: int
    n_trained: int = 0
    elapsed: float = 0.0
    settings: dict = field(default_factory=dict)

    @property
    def space(self) -> SearchSpace:
        return self.fitted.space

    @property
    def model(self) -> QuadraticForm:
        return self.fitted.model

    @property
    def score(self) -> FreeREAScore:
        return self.fitted.score

    @property
    def resource_forms(self) -> dict[str, QuadraticForm]:
        return self.fitted.resource_forms

    @property
    def constraints(self) -> dict[str, float]:
        return self.fitted.constraints

    @property
    def columns(self) -> dict[str, str | None]:
        return self.fitted.columns

    def problem(self, exclude: Sequence = ()) -> Problem:
        return self.fitted.problem(exclude)

    def save(self, path: str | Path) -> Path:
        """Save the fitted model with its fixed normalisation (see ``TrainingFreeModel.save``)."""
        return self.fitted.save(path)


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
        if m in RESERVED:
            raise InputError(f"metric name {m!r} is reserved; use the oracle's column name")
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


def default_metrics(space: SearchSpace) -> tuple[str, ...]:
    """naswot, logsynflow and skip on nb201; naswot and logsynflow elsewhere."""
    return DEFAULT_METRICS if space.name == "nb201" else ("naswot", "logsynflow")


def _dataset_suffix(oracle) -> str | None:
    from iqnas.oracles.nb201 import DATASETS

    return DATASETS.get(getattr(oracle, "dataset", None) or "")


class _Measurer:
    """Measures architectures once each, counting evaluations and keeping the rows.

    Only the metric columns and the measured budgeted metrics are read from the oracle's answer;
    budgeted metrics in ``form_only`` take their form's value.
    """

    def __init__(self, oracle, columns: Mapping[str, str | None], budgeted: Sequence[str],
                 form_only: Mapping[str, QuadraticForm]):
        self.oracle = oracle
        self.columns = dict(columns)
        self.budgeted = list(budgeted)
        self.form_only = dict(form_only)
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
            row[m] = float(self.form_only[m](arch) if m in self.form_only else values[m])
        row["source"] = source
        self.rows[arch] = row
        return row

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.rows.values()))


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
                            max_repairs: int = 10, solver: str = "auto",
                            time_limit: float | None = None,
                            progress: bool | None = None) -> TrainingFreeRun:
    """Search with training-free metrics only: sample, score, fit, solve top-k, re-rank.

    ``metrics`` defaults to naswot, logsynflow and skip (no skip outside nb201). ``constraints``
    maps a metric to its budget (e.g. ``{"params_M_c100": 0.2}``); ``resource_forms`` gives the
    form of some of them (see the module docstring). ``normalisation`` and ``weights`` go to
    :class:`FreeREAScore`. ``target="rank"`` fits the quadratic to the score's ranks in (0, 1]
    instead of the score. ``alpha`` is the ridge penalty (None: cross-validated). With
    ``exclude_measured`` the IQP's candidates are architectures not measured yet. When no
    measured architecture meets the true budgets, up to ``max_repairs`` further IQP answers are
    measured, beyond the ``n_samples + top_k`` evaluations. ``solver="auto"`` enumerates spaces
    of up to 200,000 architectures (the exact optimum, as SCIP's) and uses SCIP otherwise.
    """
    t0 = time.perf_counter()
    space = spaces.get(space)
    if getattr(oracle, "space", None) is None or not hasattr(oracle, "measure"):
        raise InputError("oracle must be an iqnas Oracle (e.g. iqnas.oracles.nb201() or "
                         "iqnas.oracles.ProxyOracle)")
    if oracle.space.name != space.name:
        raise InputError(f"the oracle measures space {oracle.space.name!r}, not {space.name!r}")
    pool = oracle.candidates() if hasattr(oracle, "candidates") else None
    if pool is not None:
        raise InputError(f"training-free mode measures architectures the IQP proposes, but "
                         f"oracle {getattr(oracle, 'name', 'oracle')!r} covers only {len(pool)} of "
                         f"the {space.size} architectures of {space.name!r}; use live metrics "
                         "(ProxyOracle, --oracle proxies) or the trained mode, which selects "
                         "among the measured rows")
    columns = resolve_columns(oracle, default_metrics(space) if metrics is None else metrics)
    scenario, given, form_only = _budgets(space, oracle, columns, constraints, resource_forms)
    _check_int("n_samples", n_samples, 2)
    _check_int("top_k", top_k, 1)
    _check_int("seed", seed, 0)
    _check_int("max_repairs", max_repairs, 0)
    if n_samples > space.size:
        raise InputError(f"n_samples={n_samples} exceeds the {space.size} architectures of "
                         f"{space.name!r}")
    _check_choice("target", target, TARGETS)
    _check_choice("resource_terms", resource_terms, RESOURCE_TERMS)
    if isinstance(pilot_share, bool) or not isinstance(pilot_share, (int, float)) \
            or not 0 < pilot_share <= 1:
        raise InputError(f"pilot_share must be a number in (0, 1], got {pilot_share!r}")
    score = FreeREAScore(tuple(columns), method=normalisation, weights=weights)
    if solver == "auto":
        solver = "exhaustive" if space.size <= AUTO_ENUMERATE else "scip"
    settings = dict(metrics=list(columns), columns=columns, constraints=scenario,
                    n_samples=n_samples, top_k=top_k, seed=seed, normalisation=normalisation,
                    target=target, terms=terms, alpha=alpha, resource_terms=resource_terms,
                    pilot_share=pilot_share, exclude_measured=exclude_measured, solver=solver)

    meter = _Measurer(oracle, columns, list(scenario), form_only)
    rng = np.random.default_rng(seed)
    with progress_bar(progress, "measuring training-free metrics", n_samples) as advance:
        forms = _sample(space, meter, scenario, given, n_samples, pilot_share, resource_terms,
                        rng, advance)
    sample = meter.frame()
    feasible = _feasible_mask(sample, scenario)
    score.fit(sample[feasible] if feasible.sum() >= 2 else sample)
    if feasible.sum() < 2:
        log.warning("fewer than 2 sampled architectures meet the budgets; the score's "
                    "normalisation is fitted on the whole sample")
    y = score.score(sample)
    if target == "rank":
        y = pd.Series(y).rank(method="average").to_numpy() / len(y)
    est = QuadraticRegressor(space, terms=terms, alpha=alpha, name=SCORE).fit(
        [space.parse_key(k) for k in sample["key"]], y)
    forms = {**forms, **_fit_resources(space, sample, scenario, given, resource_terms, oracle)}
    fitted = TrainingFreeModel(space, est.form_, score, forms, scenario, columns, target)
    answers = _new_answers(fitted.problem(), meter.rows if exclude_measured else {}, solver,
                           time_limit=time_limit, seed=seed)
    candidates: list[Result] = []
    for res in answers:
        meter.measure(res.architecture, "candidate")
        candidates.append(res)
        if len(candidates) >= top_k:
            break
    if not candidates:
        log.warning("the fitted IQP has no answer; re-ranking the sample only")
    best_row = _rerank(meter, score, scenario)
    repairs = 0
    while best_row is None and repairs < max_repairs:
        res = next(answers, None)
        if res is None:
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
        best = measured_result(arch, measured, SCORE, scenario, {SCORE: fitted.model}, oracle)
    else:
        log.warning("no measured architecture meets the budgets %s", scenario)
    run = TrainingFreeRun(fitted, best, samples, candidates, meter.n_evaluations, 0,
                          time.perf_counter() - t0, settings)
    log.info("training-free calibration: %d metric evaluations, best %s, %.2f s",
             run.n_evaluations, None if best is None else best.key, run.elapsed)
    return run


def _budgets(space: SearchSpace, oracle, columns: Mapping[str, str | None],
             constraints: Mapping[str, float] | None,
             resource_forms: Mapping[str, QuadraticForm] | None
             ) -> tuple[dict[str, float], dict[str, QuadraticForm], dict[str, QuadraticForm]]:
    """Validated budgets, the given forms, and the given forms of metrics the oracle lacks."""
    if constraints is not None and not isinstance(constraints, Mapping):
        raise InputError("constraints must map metric name -> budget, e.g. "
                         "{'params_M_c100': 0.2}")
    if resource_forms is not None and not isinstance(resource_forms, Mapping):
        raise InputError("resource_forms must map metric name -> QuadraticForm")
    scenario = {str(m): check_budget(m, b) for m, b in (constraints or {}).items()}
    given = dict(resource_forms or {})
    for m, f in given.items():
        if m not in scenario:
            raise InputError(f"resource_forms gives {m!r}, which has no budget in constraints")
        if not isinstance(f, QuadraticForm) or f.space.name != space.name:
            raise InputError(f"resource_forms[{m!r}] must be a QuadraticForm over {space.name!r}")
    form_only = {}
    for m in scenario:
        if m in columns or m in RESERVED:
            raise InputError(f"budgeted metric {m!r} clashes with a metric or column name")
        if m not in oracle.metrics:
            if m not in given:
                raise InputError(f"budgeted metric {m!r} is not measured by oracle "
                                 f"{oracle.name!r}; give its form in resource_forms or budget "
                                 f"one of {', '.join(oracle.metrics)}")
            form_only[m] = given[m]
    return scenario, given, form_only


def _new_answers(problem: Problem, skip: Mapping[Architecture, object], solver: str,
                 **kw) -> Iterator[Result]:
    """The IQP's answers, best first, leaving out architectures in ``skip`` (read live).

    Each answer is cut off before the next solve; answers found in ``skip`` are cut off and
    passed over. This gives the same sequence as excluding every skipped architecture up front,
    with far fewer exclusions per solve.
    """
    cut: list[Architecture] = []
    while True:
        res = solve(problem.excluding(cut), solver, diagnose=False, **kw)
        if not res.feasible:
            if not cut:
                log.warning("the fitted IQP has no feasible answer (%s)", res.status.value)
            return
        cut.append(res.architecture)
        if res.architecture not in skip:
            yield res


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
        forms.update(_fit_resources(space, meter.frame(), scenario, given, resource_terms,
                                    meter.oracle))
    rest = n - len(meter.rows)
    if rest <= 0:
        return forms
    want = min(space.size, rest + len(meter.rows))
    if scenario:
        cons = {m: (forms[m], b) for m, b in scenario.items()}
        try:
            pool = BudgetAwareSampler(cons).sample(space, want, rng)
        except InputError as exc:
            log.warning("sampling within the budgets failed (%s); sampling uniformly", exc)
            pool = UniformSampler().sample(space, want, rng)
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


__all__ = ["DEFAULT_METRICS", "TrainingFreeModel", "TrainingFreeRun", "calibrate_training_free",
           "default_metrics", "resolve_columns"]
