"""``iqnas.calibrate``: measure networks, fit the models, select more, and report what is truly
feasible. Samples go to a SQLite store as they arrive; a rerun with the same store resumes.

Two kinds of measurement: a *trained* network (every metric, the objective included: the
expensive kind, ``n_samples`` of them) and a *resource-only* look-up of the budgeted metrics
(cheap, at most ``resource_samples``), which decides whether a candidate near a budget is worth
training (``iqnas.calibration.screening``)."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from iqnas import spaces
from iqnas._outputs import check_output_dir
from iqnas._validation import Boolean, Check, Interval, Options, validate_params
from iqnas.calibration.batch import check_executor, measure_batch
from iqnas.calibration.common import (
    RESOURCE_TERMS,
    SOLVER,
    auto_solver,
    best_measured,
    check_oracle,
    parse_scenarios,
    solver_spec,
)
from iqnas.calibration.conformal import (
    DEFAULT_COVERAGE,
    Margin,
    conformal_margin,
    tightened,
)
from iqnas.calibration.estimators import clone, out_of_fold
from iqnas.calibration.initial_design import initial_plan
from iqnas.calibration.metrics import quality_report, report_table
from iqnas.calibration.model_choice import (
    Choice,
    choose,
    describe,
    estimator_from,
    objective_candidates,
    resource_candidates,
)
from iqnas.calibration.provenance import record_oracle
from iqnas.calibration.rerank import RERANKERS, GCNReranker, check_rerank, rerank_loosen
from iqnas.calibration.samplers import StratifiedSampler, UniformSampler
from iqnas.calibration.screening import LOOKUP, LookupBudget, Screen
from iqnas.calibration.selection import (
    plan_round,
    pool_plan,
    round_rng,
    round_sizes,
    schedule,
    uniform_plan,
)
from iqnas.calibration.store import SampleStore, default_store_path, stored_meta
from iqnas.calibration.verified import solve_measured
from iqnas.errors import InputError, MeasurementError
from iqnas.measured import MeasuredResult
from iqnas.oracles.jobs import takes_metrics
from iqnas.oracles.oracle import unknown_name_message
from iqnas.quadform import QuadraticForm
from iqnas.solvers.base import Backend
from iqnas.space import Architecture, SearchSpace

log = logging.getLogger(__name__)

METHODS = ("pairwise", "regression")
SELECTIONS = ("iterative", "random")
SAMPLERS = {"uniform": UniformSampler, "stratified": StratifiedSampler}
#: ``resource_samples`` by default: this many look-ups per trained network
LOOKUPS_PER_SAMPLE = 10
#: share of the first round trained from the measured feasible region (the rest as drawn, so
#: that the accuracy model sees the whole space) in runs of at most INITIAL_FEASIBLE_ROUNDS
#: rounds (``rounds=2``, or 13-19 networks), whose first round is half the budget or more;
#: longer runs (short runs of 20-39 networks too: ``selection.schedule``) draw their first
#: round from the whole space (benchmarks/NOTES.md has the variants measured)
INITIAL_FEASIBLE_SHARE, INITIAL_FEASIBLE_ROUNDS = 0.5, 2
#: share of the look-ups the first round may spend (screening its draws, then probing more)
INITIAL_LOOKUP_SHARE = 0.25
#: in runs of more than INITIAL_FEASIBLE_ROUNDS rounds the last round trains the IQP's answers
#: only (top_share 1): what a round explores pays off in later rounds, and the last has none
EXPLOIT_LAST_ROUND = True
#: method="regression" picks its ridge penalty by 5-fold cross-validation
REGRESSION_MIN_SAMPLES = 5
#: what calibrate's arguments accept (the space, oracle, metrics and budgets are checked by
#: name against each other)
CALIBRATE_CONSTRAINTS = {
    "objective": [str],
    "n_samples": [Interval("int", 2, None)],
    "method": [Options(METHODS)],
    "selection": [Options(SELECTIONS)],
    "seed": [Interval("int", 0, None)],
    "rounds": [Interval("int", 1, None)],
    "top_share": [Interval("real", 0, 1, closed="right")],
    "terms": [Options(("linear", "pairwise", "auto"))],
    "resource_terms": [Options((*RESOURCE_TERMS, "auto"))],
    "resource_samples": [Interval("int", 0, None), None],
    "coverage": [Interval("real", 0.5, 1, closed="left")],
    "tighten": [Boolean()],
    "initial": [Options(tuple(SAMPLERS))],
    "explore": [Interval("real", 0, None)],
    "solver": SOLVER,
    "time_limit": [Interval("real", 0, None, closed="neither"), None],
    "progress": [Boolean(), None],
    "restrict": [Check(lambda r: all(hasattr(r, a) for a in ("linear_constraints", "mask",
                                                              "sampler", "digest")),
                       "an iqnas.reduction.Cluster (iqnas.reduce or Cluster.load)"), None],
    "rerank": [Options(RERANKERS), None],
    "rerank_factor": [Interval("int", 1, None)],
    "rerank_filter": [Boolean()],
    "rerank_params": [Mapping, None],
}


@dataclass
class CalibrationRun:
    """What ``calibrate`` returns.

    ``best`` is the best measured architecture that is truly feasible under the first budget
    scenario, a :class:`~iqnas.MeasuredResult` (``best.measured`` holds its measured values;
    ``best_per_scenario`` has one per scenario); ``samples`` every measured sample;
    ``models`` the fitted QuadraticForm per metric; ``scenarios`` the budgets. ``samples``
    holds the trained networks (every metric measured; ``n_samples`` of them), ``lookups`` the
    resource-only measurements of networks that were not trained (the budgeted metrics only,
    NaN elsewhere); the resource models are fitted on both. ``model_choice`` names each
    metric's chosen model.
    """

    space: SearchSpace
    objective: str
    scenarios: list[dict[str, float]]
    samples: pd.DataFrame
    models: dict[str, QuadraticForm]
    best_per_scenario: list[MeasuredResult | None]
    store_path: Path
    settings: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    elapsed: float = 0.0
    #: the reduction Cluster the run was restricted to (None: the whole space)
    restrict: Any = None
    #: resource-only measurements (networks looked up, not trained)
    lookups: pd.DataFrame | None = None

    @property
    def best(self) -> MeasuredResult | None:
        return self.best_per_scenario[0]

    @property
    def measurements(self) -> pd.DataFrame:
        """The trained samples and the look-ups, one table (NaN where a metric was not
        measured)."""
        if self.lookups is None or not len(self.lookups):
            return self.samples
        return pd.concat([self.samples, self.lookups], ignore_index=True)

    @property
    def model_choice(self) -> dict[str, str]:
        """Metric -> the model the run chose for it (e.g. ``PairwiseRanker(pairwise)``)."""
        return dict(self.settings.get("model_choice") or {})

    def quality(self, cv: int = 5, seed: int = 0) -> pd.DataFrame:
        """Each model's quality on held-out samples: out-of-fold predictions of a ``cv``-fold
        refit, scored by Kendall tau, Spearman, RMSE, within +/-10 % and more (one row per
        metric, each over the samples where it was measured; render with
        ``iqnas.calibration.render_reports``). The ``model_choice`` column names the chosen
        model."""
        frame = self.measurements
        X = onehot(self.space, frame)
        reports = {}
        for m in self.models:
            y = frame[m].to_numpy(dtype=float)
            ok = np.isfinite(y)
            est = make_estimator(self.space, m, self.objective, self.settings,
                                 self.models[m].units)
            pred = out_of_fold(est, X[ok], y[ok], cv, seed)
            reports[m] = {**quality_report(y[ok], pred),
                          "model_choice": self.model_choice.get(m) or describe(est)}
        return report_table(reports)

    def problem(self, scenario: int = 0):
        """The IQP under scenario ``scenario`` with the fitted models."""
        from iqnas.problem import Problem

        cons = {m: (self.models[m], b) for m, b in self.scenarios[scenario].items()}
        rows = () if self.restrict is None else self.restrict.linear_constraints
        return Problem(self.space, self.models[self.objective], cons, linear_constraints=rows)

    def solve(self, oracle, scenario: int = 0, solver: str | Backend = "scip",
              **kw) -> MeasuredResult | None:
        """Solve scenario ``scenario`` with the fitted models and measure the answer; answers
        that break a true budget are cut off and the solve repeats (see ``solve_measured``).
        Every measurement is added to the run's store."""
        metrics = self.settings["metrics"]
        final_round = len(self.history)
        with SampleStore(self.store_path, self.space, settings=store_settings(self.settings),
                         seed=self.settings["seed"]) as st:
            def record(arch, values):
                row = {m: values[m] for m in metrics}
                if all(math.isfinite(v) for v in row.values()):
                    st.add(arch, row, round=final_round, source="final")

            return solve_measured(self.problem(scenario), oracle, self.scenarios[scenario],
                                  self.objective, solver=solver, on_measure=record, **kw)


@validate_params(CALIBRATE_CONSTRAINTS)
def calibrate(space: SearchSpace | str, oracle, objective: str,
              constraints: Mapping[str, float] | Sequence[Mapping[str, float]] | None = None,
              n_samples: int = 100, *, method: str = "pairwise", selection: str = "iterative",
              seed: int = 0, store: str | Path | None = None, rounds: int = 10,
              top_share: float = 0.5, terms: str = "pairwise", resource_terms: str = "auto",
              initial: str = "stratified", explore: float = 1.0,
              extra_metrics: Sequence[str] = (), solver: str | Backend = "auto",
              time_limit: float | None = None, progress: bool | None = None,
              restrict=None, executor=None, resource_samples: int | None = None,
              coverage: float = DEFAULT_COVERAGE, tighten: bool = False,
              rerank: str | None = None, rerank_factor: int = 4, rerank_filter: bool = False,
              rerank_params: Mapping | None = None) -> CalibrationRun:
    """Calibrate models of ``objective`` (maximised) and of each budgeted metric from measured
    samples, choosing what to measure by ``selection``.

    ``n_samples`` counts trained networks (every metric measured). ``resource_samples``
    (default ``10 * n_samples``; 0 for none) caps the resource-only look-ups of the budgeted
    metrics, ``oracle.measure(arch, metrics=[...])``: a candidate whose resources are unknown
    and not predicted safely within a budget is looked up before it is trained, and trained only
    if it meets the budget; half of the first round is trained from the looked-up feasible
    region (the rest as the initial sampler draws it). Oracles whose ``measure`` takes no
    ``metrics`` get no look-ups.
    ``coverage`` is that of the split-conformal margins of the resource models (from their
    out-of-fold residuals): a candidate predicted within a budget minus its margin is trained
    without a look-up, one predicted over it plus the other side's margin is passed over.
    ``tighten=True`` plans the IQPs within the budgets minus the margins once no look-up is
    left (or the oracle has none); by default the IQPs keep the budgets.
    ``terms`` / ``resource_terms`` "auto" choose per metric and round between "linear" and
    "pairwise" models by out-of-fold quality (Kendall tau for the objective, RMSE for
    resources); the choices are recorded in the store's meta (``model_choice``), in
    ``run.model_choice`` and in the ``model_choice`` column of ``quality()``.

    ``constraints`` maps oracle metric -> budget; a list of such mappings gives several budget
    scenarios, each served in every round. ``extra_metrics`` are stored and modelled too.
    The iterative selection runs ``rounds`` rounds (fewer if a round would measure fewer than
    10 networks; a run of fewer than 40 networks trains a first round of 10 and then rounds of
    at least 3, e.g. 25 = 10 + 3 x 5): ``top_share`` of each round after the first are the
    IQP's best answers, the rest random draws from the predicted top; the last round of a run
    of more than 2 rounds trains the IQP's answers only (what it would explore could help no
    later round).
    ``initial`` ("uniform" or "stratified") samples round 0 (and the whole random selection).
    ``explore`` (without look-ups) widens the random part of each round to networks predicted
    within a budget plus ``explore`` times the resource model's cross-validated RMSE (0 =
    predicted feasible only); the IQP solves always keep the budgets hard.
    ``restrict`` (an ``iqnas.reduction.Cluster`` of ``space``) keeps the whole run inside that
    cluster: every draw is a member and every IQP gets its rows.
    ``solver`` (a backend name or a configured backend such as ``iqnas.solvers.Scip(...)``)
    solves the selection IQPs; ``"auto"`` solves them exactly by enumeration on spaces of up
    to 200,000 architectures (same optimum, milliseconds) and with SCIP otherwise.
    ``executor`` (an ``iqnas.executors`` Executor; default in-process) measures each round's
    batch (``measure_batch``): samples stream into the store as they finish, in the order they
    were planned (so the run does not depend on the executor); a failed measurement is
    recorded as a failure (``SampleStore.failures()``), never as a number, and is not proposed
    again. The caller keeps the executor open and closes it.

    ``rerank="gcn"`` (iterative selection, spaces with a graph encoding: nb201, mobilenet, ofa)
    asks the IQP of each round for ``rerank_factor`` times its top-k candidates, all feasible
    under the fitted resource models, and trains the k that a ``GCNRanker`` fitted on the
    earlier rounds' trained samples ranks best; with look-ups the candidates are screened in
    the GCN's order until k pass (then the IQP's further answers), so only those are looked
    up, as the plain run screens its own; ``rerank_filter=True`` first sets aside
    candidates that ``GCNRegressor`` models of the budgeted metrics predict over budget.
    While look-ups are left, a re-ranked run's IQPs plan within ``loosen`` (default 3) times
    the budgets and every candidate not yet measured is looked up before it is trained, so
    cells the fitted resource model wrongly rules out are proposed and the true budget decides.
    ``rerank_params`` go to the GCNs (e.g. ``{"epochs": 100}``), except ``"rule"``: how the
    GCN's order is used (``"gcn"``, ``"hedge"``, ``"borda"``, ``"iqp"``: no GCN), and
    ``"loosen"`` (a number >= 1; 1 plans within the budgets); see ``iqnas.calibration.rerank``.

    A store of the same run with fewer ``n_samples`` is extended: its rounds are kept and
    further rounds add the difference (the look-up budget grows with it).
    """
    t0 = time.perf_counter()
    space = spaces.get(space)
    check_oracle(oracle, space)
    scenarios = parse_scenarios(constraints)
    metrics = _metrics(oracle, objective, scenarios, extra_metrics)
    check_rerank(space, rerank, rerank_params)
    if rerank is not None and selection != "iterative":
        raise InputError(f"rerank={rerank!r} re-ranks the IQP candidates of the iterative "
                         "selection; use selection='iterative' or rerank=None")
    if method == "regression" and n_samples < REGRESSION_MIN_SAMPLES:
        raise InputError(f"n_samples={n_samples} with method='regression': the regressor's "
                         f"cross-validated ridge needs at least {REGRESSION_MIN_SAMPLES} "
                         "trained samples; raise n_samples or use method='pairwise'")
    backend = auto_solver(solver, space, "calibrate()")
    lookups_default = resource_samples is None
    if resource_samples is None:
        resource_samples = LOOKUPS_PER_SAMPLE * int(n_samples)
    _check_restrict(restrict, space)
    executor = check_executor(executor)
    settings = dict(objective=objective, scenarios=scenarios, metrics=metrics,
                    n_samples=n_samples, method=method, selection=selection, seed=seed,
                    rounds=rounds, top_share=top_share, terms=terms,
                    resource_terms=resource_terms, solver=solver_spec(backend), initial=initial,
                    explore=explore, resource_samples=int(resource_samples), coverage=coverage,
                    tighten=bool(tighten))
    if restrict is not None:
        settings["restrict"] = restrict.digest
    if callable(getattr(oracle, "settings", None)):  # what measured values depend on
        settings["oracle"] = oracle.settings()
    if rerank is not None:  # only then, so stores of runs without it still resume
        # the effective loosen is recorded: a store made before its default changed (1 -> 3)
        # is refused instead of resumed with another plan
        params = {**dict(rerank_params or {}), "loosen": rerank_loosen(rerank_params)}
        settings["rerank"] = {"method": rerank, "factor": rerank_factor,
                              "filter": rerank_filter, "params": params}
    path = Path(store) if store is not None else default_store_path()
    check_output_dir(path.parent, "store")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        raise InputError(f"store {path}: is a folder; give a file path (e.g. {path / 'run.db'})")
    first = extended_from(path, settings, lookups_default)
    if first is not None:
        log.info("extending the run in %s from %d to %d samples", path, first["n_samples"],
                 n_samples)
        settings = {**settings, **first}
    first_n = None if first is None else first["n_samples"]
    with SampleStore(path, space, settings=settings, seed=seed) as st:
        if len(st):
            logging.getLogger("iqnas.resume").info(
                "resuming %d samples from %s%s", len(st), path,
                "" if first_n is None else f" (extending the run of {first_n} to {n_samples})")
        st.declare_metrics(metrics)
        record_oracle(st, oracle, metrics)
        loop = _Loop(space, oracle, st, metrics, objective, scenarios, settings, progress,
                     restrict, executor, backend)
        base_n = n_samples if first_n is None else first_n
        if selection == "random":
            loop.run_round(0, base_n, loop.random_plan(base_n))
        else:
            sizes = schedule(base_n, rounds)
            loop.n_rounds, loop.cap = len(sizes), base_n
            for r, size in enumerate(sizes):
                loop.run_round(r, size, None, feasible_first=len(sizes) <= INITIAL_FEASIBLE_ROUNDS)
        if first_n is not None:
            st.set_meta("extended_to", max(n_samples, int(st.get_meta("extended_to", 0))))
            loop.lookups = LookupBudget(int(resource_samples))
            loop.cap = n_samples
            loop.extend(n_samples - first_n, rounds,
                        1 if selection == "random" else len(schedule(base_n, rounds)))
        everything = st.samples()
        loop.check_enough(everything)
        models = loop.fit(everything)
        st.set_meta("model_choice", {m: c.name for m, c in loop.choices.items()})
    samples, lookups = split_lookups(everything, objective)
    best = [best_measured(space, samples, objective, scen, models[objective], oracle.units)
            for scen in scenarios]
    run_settings = {**settings, "model_choice": {m: c.name for m, c in loop.choices.items()}}
    run = CalibrationRun(space, objective, scenarios, samples, models, best, path,
                         run_settings, loop.history, time.perf_counter() - t0, restrict,
                         lookups)
    log.info("calibration done: %d trained, %d looked up in %.1f s", len(samples),
             len(lookups), run.elapsed)
    return run


def extended_from(path: Path, settings: Mapping[str, Any],
                  lookups_default: bool = False) -> dict[str, int] | None:
    """The settings that change when ``settings`` ask for more samples of the run a store at
    ``path`` holds (only ``n_samples`` differs and grew; with ``lookups_default`` the
    look-up budget that follows it may differ too): the stored ``n_samples`` (and
    ``resource_samples``); else None (a new store, the same run, or another run, which
    SampleStore refuses)."""
    stored = stored_meta(path, "settings")
    if not isinstance(stored, dict) or not isinstance(stored.get("n_samples"), int):
        return None
    free = ("n_samples", "resource_samples") if lookups_default else ("n_samples",)
    same = {k: v for k, v in stored.items() if k not in free} == \
        json.loads(json.dumps({k: v for k, v in settings.items() if k not in free}))
    if not same:
        return None
    extended = stored_meta(path, "extended_to")
    if isinstance(extended, int) and extended > settings["n_samples"]:
        raise InputError(f"store {path} holds a run extended to {extended} samples; give "
                         f"n_samples (--samples) {extended} or more to resume or extend it")
    if stored["n_samples"] >= settings["n_samples"]:
        return None
    return {k: stored[k] for k in free if k in stored}


def split_lookups(samples: pd.DataFrame, objective: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(trained samples, resource-only look-ups) of a store's samples: the rows with and
    without a measured objective."""
    trained = np.isfinite(samples[objective].to_numpy(dtype=float))
    return (samples[trained].reset_index(drop=True),
            samples[~trained].reset_index(drop=True))


def store_settings(settings: Mapping) -> dict:
    """A run's settings as its store records them (without what the run added after:
    ``model_choice``, ``models``)."""
    return {k: v for k, v in settings.items() if k not in ("model_choice", "models")}


def make_estimator(space: SearchSpace, metric: str, objective: str, settings: Mapping,
                   units: str = ""):
    """The unfitted estimator a run uses for ``metric``: the one recorded in
    ``settings["model_choice"]`` if any, else the first candidate: the ranker
    (``method="pairwise"``) or regressor for the objective, a linear or pairwise resource model
    otherwise."""
    chosen = (settings.get("model_choice") or {}).get(metric)
    if chosen:
        est = estimator_from(space, chosen, metric, units)
        if est is not None:
            return est
    return candidates(space, metric, objective, settings, units)[0]


def candidates(space: SearchSpace, metric: str, objective: str, settings: Mapping,
               units: str = "") -> list:
    """The unfitted estimators a run chooses among for ``metric`` (one when nothing is
    "auto")."""
    if metric == objective:
        return objective_candidates(space, settings["method"], settings.get("terms", "pairwise"),
                                    metric, units)
    return resource_candidates(space, settings.get("resource_terms", "linear"), metric, units)


def onehot(space: SearchSpace, samples: pd.DataFrame) -> np.ndarray:
    """The one-hot rows of a samples table's ``key`` column."""
    C = np.array([space.parse_key(k).choices for k in samples["key"]])
    return space.choices_to_onehot(C)


class _Loop:
    """One calibration run's state: the store, the oracle, the look-ups and how models are
    fitted."""

    def __init__(self, space, oracle, store: SampleStore, metrics, objective, scenarios,
                 settings, progress, restrict=None, executor=None,
                 solver: str | Backend = "scip") -> None:
        self.space, self.oracle, self.store = space, oracle, store
        self.metrics, self.objective, self.scenarios = metrics, objective, scenarios
        self.s = settings
        self.progress = progress
        self.executor = executor
        #: the only architectures the oracle can measure (None: any)
        self.pool = oracle.candidates() if hasattr(oracle, "candidates") else None
        self.restrict = restrict
        self.solver = solver
        if restrict is not None and self.pool is not None:
            self.pool = self.pool[restrict.mask(self.pool)]
        if self.pool is not None:
            log.info("the oracle measures %d of the space's %d architectures: selection is "
                     "restricted to them", len(self.pool), space.size)
        self.history: list[dict] = []
        #: rounds of the run's iterative selection (0: not known, e.g. an extension)
        self.n_rounds = 0
        #: trained networks the run may have in all (None: no cap)
        self.cap: int | None = None
        #: the budgeted metrics, which a look-up measures
        self.resources = [m for m in metrics if any(m in sc for sc in scenarios)]
        total = int(settings.get("resource_samples", 0)) if self.resources else 0
        if total and not (takes_metrics(oracle) and getattr(oracle, "measures_subsets", True)):
            log.info("%s measures every metric at once: no resource-only look-ups",
                     getattr(oracle, "name", "the oracle"))
            total = 0
        self.lookups = LookupBudget(total)
        #: the model chosen for each metric in the latest fit
        self.choices: dict[str, Choice] = {}
        self._known: dict[str, dict[str, float]] = {}
        self._round = 0
        self.failed: set[Architecture] = set()
        rr = settings.get("rerank")
        self.reranker = None if rr is None else GCNReranker(
            space, objective, scenarios, factor=rr["factor"], use_filter=rr["filter"],
            params=rr["params"], units=oracle.units, progress=progress)

    def sampler(self):
        """The first round's sampler (members of ``restrict`` only, if given)."""
        base = SAMPLERS[self.s["initial"]]()
        return base if self.restrict is None else self.restrict.sampler(base)

    def estimator(self, metric: str):
        return make_estimator(self.space, metric, self.objective, self.s,
                              self.oracle.units.get(metric, ""))

    # ---- fitting --------------------------------------------------------------------------
    def fit(self, samples: pd.DataFrame, X: np.ndarray | None = None
            ) -> dict[str, QuadraticForm]:
        """Every metric's model fitted on the rows of ``samples`` where it was measured
        (``X``: their one-hot rows, if known), each chosen among its candidates."""
        X = onehot(self.space, samples) if X is None else X
        return self._fit(samples, X, self.metrics, seed=0)[0]

    def _fit(self, samples: pd.DataFrame, X: np.ndarray, metrics, seed: int
             ) -> tuple[dict[str, QuadraticForm], dict[str, Margin]]:
        """The chosen model of each of ``metrics`` and the conformal margin of each budgeted
        one."""
        forms, margins = {}, {}
        for m in metrics:
            y = samples[m].to_numpy(dtype=float)
            budgeted = m in self.resources
            choice = choose(m, candidates(self.space, m, self.objective, self.s,
                                          self.oracle.units.get(m, "")),
                            X, y, "kendall_tau" if m == self.objective else "rmse", seed=seed,
                            need_oof=budgeted)
            self.choices[m] = choice
            ok = np.isfinite(y)
            if ok.sum() < 2:
                raise InputError(f"metric {m!r} has fewer than 2 measured samples; measure "
                                 "more networks (n_samples) or check the oracle")
            forms[m] = clone(choice.estimator).fit(X[ok], y[ok]).form_
            if budgeted:
                margins[m] = (Margin(-math.inf, math.inf, 0, self.s["coverage"])
                              if choice.oof is None else
                              conformal_margin(y, choice.oof, self.s["coverage"]))
        return forms, margins

    def check_enough(self, samples: pd.DataFrame) -> None:
        """At least 2 trained samples to fit, else InputError saying how many measurements
        failed."""
        n = int(np.isfinite(samples[self.objective].to_numpy(dtype=float)).sum()) \
            if len(samples) else 0
        if n >= 2:
            return
        fails = self.store.failures()
        example = f", e.g. {fails['error'].iloc[-1]}" if len(fails) else ""
        raise InputError(f"only {n} architecture(s) measured, {len(fails)} "
                         f"measurement(s) failed{example}; nothing to fit (the failures are "
                         f"in the store {self.store.path})")

    def _fit_for_round(self, r: int, screen: Screen | None):
        samples = self.store.samples(before_round=r)
        self.check_enough(samples)
        X = onehot(self.space, samples)
        forms, margins = self._fit(samples, X, [self.objective, *self.resources], seed=r)
        looking = screen is not None and self.lookups.left > 0
        plan, draw_margins = [], {}
        loosen = self.reranker.loosen if self.reranker is not None and looking else 1.0
        for scen in self.scenarios:
            budgets = tightened(scen, margins) if self.s.get("tighten") and not looking \
                else {m: b * loosen for m, b in scen.items()}
            plan.append({m: (forms[m], b) for m, b in budgets.items()})
        explore = self.s.get("explore", 0.0)
        for m in margins:
            y = samples[m].to_numpy(dtype=float)
            oof = self.choices[m].oof
            rmse = math.sqrt(float(np.nanmean((oof - y) ** 2))) if oof is not None else 0.0
            draw_margins[m] = explore * rmse
        if screen is not None:
            screen.loosen = loosen
            screen.forms = {m: forms[m] for m in self.resources}
            screen.margins = margins
        self.margins = {m: mg.to_dict() for m, mg in margins.items()}
        return forms[self.objective], plan, draw_margins

    # ---- look-ups -------------------------------------------------------------------------
    def _start_round(self, r: int) -> None:
        """The look-ups counted and the resource values known when round ``r`` is planned:
        everything measured before it, and this round's look-ups (a resumed round sees its
        own earlier look-ups, not its trained networks)."""
        self._round = r
        frame = self.store.samples(before_round=r)
        known: dict[str, dict[str, float]] = {}
        for m in self.resources:
            for k, v in zip(frame["key"], frame[m].to_numpy(dtype=float)):
                if math.isfinite(v):
                    known.setdefault(k, {})[m] = float(v)
        used = in_round = 0
        for key, event in self.store.all_measurements():
            if event["source"] != LOOKUP:
                continue
            if event["round"] < r:
                used += 1
            elif event["round"] == r:
                in_round += 1
                values = self.store.get(key) or {}
                known.setdefault(key, {}).update(
                    {m: values[m] for m in event["metrics"] if m in values})
        self._known = known
        self.lookups = LookupBudget(self.lookups.total, used + in_round, None, in_round)

    def _known_values(self, arch: Architecture) -> dict[str, float]:
        return self._known.get(arch.key, {})

    def _look_up(self, arch: Architecture) -> dict[str, float] | None:
        """Measure the budgeted metrics of ``arch`` only (a look-up) into the store; None (and a
        recorded failure) when the oracle fails or gives no finite value."""
        try:
            values = self.oracle.measure(arch, metrics=list(self.resources))
            row = {m: float(values[m]) for m in self.resources}
        except (MeasurementError, KeyError, TypeError, ValueError) as exc:
            row, error = None, f"look-up failed: {exc}"
        else:
            bad = [m for m, v in row.items() if not math.isfinite(v)]
            error = f"look-up gave no finite value for {', '.join(bad)}" if bad else ""
        if error:
            log.warning("%s: %s", arch.key, error)
            self.store.add_failure(arch, error, round=self._round, source=LOOKUP)
            self.failed.add(arch)
            return None
        self.store.add(arch, row, round=self._round, source=LOOKUP, partial=True)
        self._known.setdefault(arch.key, {}).update(row)
        return row

    def _screen(self, r: int) -> Screen | None:
        """The round's screen (None without budgets)."""
        if not any(self.scenarios):
            return None
        self._start_round(r)
        return Screen(self.scenarios, self._known_values, self._look_up, self.lookups)

    # ---- rounds ---------------------------------------------------------------------------
    def random_plan(self, n: int):
        """The plan of ``selection="random"``: the initial sampler's draws (or the pool's),
        screened under budgets."""
        def plan(screen: Screen | None) -> list[Architecture]:
            rng = np.random.default_rng(self.s["seed"])
            if screen is None:
                if self.pool is not None:
                    return pool_plan(self.space, self.pool, n, rng, set())
                return self.sampler().sample(self.space, n, rng)
            return [a for a, _ in initial_plan(self.space, n, rng, self.sampler(), set(),
                                               screen.accept, pool=self.pool)]
        return plan

    def failures(self) -> dict[Architecture, int]:
        """The store's recorded failures: architecture -> the round it last failed in."""
        frame = self.store.failures()
        return {self.space.parse_key(k): int(rr) for k, rr in zip(frame["key"], frame["round"])}

    def run_round(self, r: int, size: int, plan=None, feasible_first: bool = False) -> None:
        """Plan round ``r`` and train what the store lacks. The plan excludes the trained
        samples and failures of earlier rounds only, so a resumed round is planned as it was
        first (its own look-ups are reused, not repeated)."""
        done = self.store.samples()
        failed = self.failures()
        keys = done["key"].to_numpy(dtype=object)
        trained = np.isfinite(done[self.objective].to_numpy(dtype=float))
        taken = {self.space.parse_key(k) for k in keys[trained]} | set(failed)
        rounds = done["round"].to_numpy()
        in_round = int((trained & (rounds == r)).sum())
        if self.cap is not None and plan is None:
            # a store planned with another schedule (an earlier version's) may hold the run's
            # networks in fewer rounds: never train past the run's n_samples
            size = min(size, in_round + max(0, self.cap - int(trained.sum())))
        if in_round >= size and plan is None:
            return
        earlier = {self.space.parse_key(k) for k in keys[trained & (rounds < r)]}
        earlier |= {a for a, rr in failed.items() if rr < r}
        self.failed = set(failed)
        screen = self._screen(r)
        info: dict = {}
        if plan is not None:
            chosen = [(a, "uniform") for a in plan(screen)]
        elif r == 0 and feasible_first and screen is not None and self.lookups.total > 0:
            probes = max(0, math.ceil(INITIAL_LOOKUP_SHARE * self.lookups.total))
            chosen = initial_plan(self.space, size, round_rng(self.s["seed"], 0),
                                  self.sampler(), earlier, screen.accept,
                                  pool=self.pool, probes=probes,
                                  probe=lambda a: self._probe(a, probes),
                                  feasible_share=INITIAL_FEASIBLE_SHARE)
        else:
            chosen = self._plan_iterative(r, size, screen, earlier, info)
            if len(chosen) < size and screen is not None and self.lookups.left > 0 \
                    and screen.counts["dropped"]:
                # the resource models ruled out too many candidates: look them up instead
                log.info("round %d: %d of %d planned, the rest predicted over budget; "
                         "planned again with look-ups deciding", r, len(chosen), size)
                screen.predict = False
                chosen = self._plan_iterative(r, size, screen, earlier, info)
            if len(chosen) < size and screen is not None and screen.loosen > 1 \
                    and self.lookups.left == 0:
                # the look-ups ran out within a loosened round: the rest as without them
                log.info("round %d: %d of %d planned when the look-ups ran out; the rest "
                         "planned within the budgets", r, len(chosen), size)
                chosen = chosen + self._plan_iterative(
                    r, size - len(chosen), screen, earlier | {a for a, _ in chosen}, info)
        todo = [(a, src) for a, src in chosen if a not in taken and a not in self.failed]
        report = measure_batch(self.oracle, [a for a, _ in todo], self.store,
                               executor=self.executor, metrics=self.metrics,
                               progress=self.progress, round=r,
                               source={a.key: src for a, src in todo}, ordered=True)
        n_trained = int(trained.sum()) + len(report.measured)
        self.history.append({"round": r, "planned": len(chosen), "measured": len(todo),
                             "total": n_trained, "failed": len(report.failed),
                             "looked_up": self.lookups.in_round, "lookups": self.lookups.used,
                             **info})
        log.info("round %d: %d planned, %d trained now, %d failed, %d looked up; %d samples in "
                 "all (trained)", r, len(chosen), len(todo), len(report.failed),
                 self.lookups.in_round, n_trained)

    def extend(self, extra: int, rounds: int, first: int) -> None:
        """``extra`` more trained samples after the stored run: further iterative rounds
        numbered from ``first``, or one more random round, planned from the rounds before
        ``first`` only, so a resumed extension plans the same."""
        if self.s["selection"] == "random":
            rng = np.random.default_rng([int(self.s["seed"]), first])

            def taken():
                done = self.store.samples()
                trained = np.isfinite(done[self.objective].to_numpy(dtype=float))
                keys = done["key"].to_numpy(dtype=object)[trained & (done["round"] < first)]
                return {self.space.parse_key(k) for k in keys} | \
                    {a for a, rr in self.failures().items() if rr < first}

            def plan(screen):
                if self.pool is not None:
                    return pool_plan(self.space, self.pool, extra, rng, taken())
                return uniform_plan(self.space, extra, rng, taken(), self.restrict)

            self.run_round(first, extra, plan)
            return
        for i, size in enumerate(round_sizes(extra, rounds)):
            self.run_round(first + i, size, None)

    def _plan_iterative(self, r: int, size: int, screen: Screen | None,
                        earlier: set[Architecture], info: dict) -> list:
        looking = screen is not None and self.lookups.left > 0
        return plan_round(r, size, self.space, self.s["seed"],
                          lambda: self._fit_for_round(r, screen), earlier,
                          solver=self.solver, top_share=self._top_share(r),
                          sampler=self.sampler(), pool=self.pool, restrict=self.restrict,
                          accept=screen.accept if looking else None,
                          rerank=self._rerank(r, info), rerank_pool=self._rerank_pool())

    def _top_share(self, r: int) -> float:
        """The share of round ``r`` taken from the IQP's answers (1 in the last round of a run
        of more than INITIAL_FEASIBLE_ROUNDS rounds)."""
        last = self.n_rounds - 1
        if EXPLOIT_LAST_ROUND and r == last and self.n_rounds > INITIAL_FEASIBLE_ROUNDS:
            return 1.0
        return float(self.s["top_share"])

    def _rerank_pool(self) -> int:
        return 1 if self.reranker is None else self.reranker.factor

    def _rerank(self, r: int, info: dict):
        """Round ``r``'s re-rank hook for ``plan_round`` (None without ``rerank``): orders the
        IQP's candidates by GCNs fitted on the trained samples of earlier rounds, seeded by the
        run's seed and ``r``; the round screens them in that order (``iqp_plan``)."""
        if self.reranker is None:
            return None

        def rerank(candidates: list[Architecture]) -> list[Architecture]:
            samples = self.store.samples()
            samples, _ = split_lookups(samples[samples["round"] < r], self.objective)
            seed = int(np.random.default_rng([self.s["seed"], r, 104729]).integers(2**31))
            out = self.reranker.order(candidates, len(candidates), samples, seed)
            info["rerank"] = dict(self.reranker.last)
            return out

        return rerank

    def _probe(self, arch: Architecture, probes: int) -> None:
        """A first-round look-up for the resource models only (up to ``probes`` in round 0)."""
        if self.lookups.used < probes and arch.key not in self._known:
            self._look_up(arch)
            self.lookups.spend()


def _metrics(oracle, objective, scenarios, extra) -> list[str]:
    names = [objective] + [m for s in scenarios for m in s] + list(extra)
    for m in names:
        if m not in oracle.metrics:
            raise InputError(unknown_name_message("metric", m, list(oracle.metrics),
                                                  f"oracle {getattr(oracle, 'name', '')!r}"))
    return list(dict.fromkeys(names))


def _check_restrict(restrict, space: SearchSpace) -> None:
    if restrict is None:
        return
    if restrict.space.name != space.name:
        raise InputError(f"restrict is a cluster of space {restrict.space.name!r}, not "
                         f"{space.name!r}")

