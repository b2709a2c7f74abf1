"""``iqnas.calibrate``: measure networks, fit the models, select more, and report what is truly
feasible. Samples go to a SQLite store as they arrive; a rerun with the same store resumes.

Two kinds of measurement: a *trained* network (every metric, the objective included: the
expensive kind, ``n_samples`` of them) and a *resource-only* look-up of the budgeted metrics
(cheap, at most ``resource_samples``), which decides whether a candidate near a budget is worth
training (``iqnas.calibration.screening``)."""

from __future__ import annotations

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
from iqnas._progress import progress_bar
from iqnas.calibration.common import (
    RESOURCE_TERMS,
    auto_solver,
    best_measured,
    check_choice,
    check_int,
    check_oracle,
    parse_scenarios,
)
from iqnas.calibration.conformal import (
    DEFAULT_COVERAGE,
    Margin,
    check_coverage,
    conformal_margin,
    loosened,
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
from iqnas.calibration.samplers import StratifiedSampler, UniformSampler
from iqnas.calibration.screening import LOOKUP, LookupBudget, Screen
from iqnas.calibration.selection import plan_round, pool_plan, round_rng, round_sizes
from iqnas.calibration.store import SampleStore, default_store_path
from iqnas.calibration.verified import solve_measured
from iqnas.errors import InputError
from iqnas.measured import MeasuredResult
from iqnas.oracles.jobs import takes_metrics
from iqnas.quadform import QuadraticForm
from iqnas.space import Architecture, SearchSpace

log = logging.getLogger(__name__)

METHODS = ("pairwise", "regression")
SELECTIONS = ("iterative", "random")
SAMPLERS = {"uniform": UniformSampler, "stratified": StratifiedSampler}
#: ``resource_samples`` by default: this many look-ups per trained network
LOOKUPS_PER_SAMPLE = 10
#: share of the look-ups the first round may spend (screening its draws, then probing more)
INITIAL_LOOKUP_SHARE = 0.25


@dataclass
class CalibrationRun:
    """What ``calibrate`` returns.

    ``best`` is the best measured architecture that is truly feasible under the first budget
    scenario, a :class:`~iqnas.MeasuredResult` (``best.measured`` holds its measured values;
    ``best_per_scenario`` has one per scenario); ``samples`` every measured sample;
    ``models`` the fitted QuadraticForm per metric; ``scenarios`` the budgets. ``samples``
    holds the resource-only look-ups too (NaN objective), ``trained`` only the trained
    networks; ``model_choice`` names each metric's chosen model.
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

    @property
    def best(self) -> MeasuredResult | None:
        return self.best_per_scenario[0]

    @property
    def trained(self) -> pd.DataFrame:
        """The samples whose objective was measured (the trained networks)."""
        return self.samples[np.isfinite(self.samples[self.objective].to_numpy(dtype=float))]

    @property
    def model_choice(self) -> dict[str, str]:
        """Metric -> the model the run chose for it (e.g. ``PairwiseRanker(pairwise)``)."""
        return dict(self.settings.get("model_choice") or {})

    def quality(self, cv: int = 5, seed: int = 0) -> pd.DataFrame:
        """Each model's quality on held-out samples: out-of-fold predictions of a ``cv``-fold
        refit, scored by Kendall tau, Spearman, RMSE, within +/-10 % and more (one row per
        metric, each over the samples where it was measured; render with
        ``iqnas.calibration.render_reports``). The ``model`` column names the chosen model."""
        X = onehot(self.space, self.samples)
        reports = {}
        for m in self.models:
            y = self.samples[m].to_numpy(dtype=float)
            ok = np.isfinite(y)
            est = make_estimator(self.space, m, self.objective, self.settings,
                                 self.models[m].units)
            pred = out_of_fold(est, X[ok], y[ok], cv, seed)
            reports[m] = {**quality_report(y[ok], pred),
                          "model": self.model_choice.get(m) or describe(est)}
        return report_table(reports)

    def problem(self, scenario: int = 0):
        """The IQP under scenario ``scenario`` with the fitted models."""
        from iqnas.problem import Problem

        cons = {m: (self.models[m], b) for m, b in self.scenarios[scenario].items()}
        rows = () if self.restrict is None else self.restrict.linear_constraints
        return Problem(self.space, self.models[self.objective], cons, linear_constraints=rows)

    def solve(self, oracle, scenario: int = 0, solver: str = "scip",
              **kw) -> MeasuredResult | None:
        """Solve scenario ``scenario`` with the fitted models and measure the answer; answers
        that break a true budget are cut off and the solve repeats (see ``solve_measured``).
        Every measurement is added to the run's store."""
        metrics = self.settings["metrics"]
        final_round = len(self.history)
        with SampleStore(self.store_path, self.space, settings=self.settings,
                         seed=self.settings["seed"]) as st:
            def record(arch, values):
                row = {m: values[m] for m in metrics}
                if all(math.isfinite(v) for v in row.values()):
                    st.add(arch, row, round=final_round, source="final")

            return solve_measured(self.problem(scenario), oracle, self.scenarios[scenario],
                                  self.objective, solver=solver, on_measure=record, **kw)


def calibrate(space: SearchSpace | str, oracle, objective: str,
              constraints: Mapping[str, float] | Sequence[Mapping[str, float]] | None = None,
              n_samples: int = 100, *, method: str = "pairwise", selection: str = "iterative",
              seed: int = 0, store: str | Path | None = None, rounds: int = 10,
              top_share: float = 0.5, terms: str = "auto", resource_terms: str = "auto",
              initial: str = "stratified", explore: float = 1.0,
              extra_metrics: Sequence[str] = (), solver: str = "auto",
              time_limit: float | None = None, progress: bool | None = None,
              restrict=None, resource_samples: int | None = None,
              coverage: float = DEFAULT_COVERAGE) -> CalibrationRun:
    """Calibrate models of ``objective`` (maximised) and of each budgeted metric from measured
    samples, choosing what to measure by ``selection``.

    ``n_samples`` counts trained networks (every metric measured). ``resource_samples``
    (default ``10 * n_samples``; 0 for none) caps the resource-only look-ups of the budgeted
    metrics, ``oracle.measure(arch, metrics=[...])``: a candidate whose resources are unknown and
    predicted near a budget is looked up before it is trained, and trained only if it meets the
    budget; the first round trains only networks measured within the budgets (while look-ups
    last). Oracles whose ``measure`` takes no ``metrics`` get no look-ups.
    ``coverage`` is that of the split-conformal margins of the resource models (from their
    out-of-fold residuals): a candidate predicted within a budget minus its margin is trained
    without a look-up; the IQP plans within the budgets plus the other side's margin while
    look-ups last, within the budgets minus the margin after.
    ``terms`` / ``resource_terms`` "auto" choose per metric and round between "linear" and
    "pairwise" models by out-of-fold quality (Kendall tau for the objective, RMSE for
    resources); the choices are recorded in the store's meta (``model_choice``) and the
    ``model`` column of ``quality()``.

    ``constraints`` maps oracle metric -> budget; a list of such mappings gives several budget
    scenarios, each served in every round. ``extra_metrics`` are stored and modelled too.
    The iterative selection runs ``rounds`` rounds (fewer if a round would measure fewer than
    10 networks). ``initial`` ("uniform" or "stratified") samples round 0 (and the whole random
    selection).
    ``explore`` (without look-ups) widens the random part of each round to networks predicted
    within a budget plus ``explore`` times the resource model's cross-validated RMSE (0 =
    predicted feasible only); the IQP solves always keep the budgets hard.
    ``restrict`` (an ``iqnas.reduction.Cluster`` of ``space``) keeps the whole run inside that
    cluster: every draw is a member and every IQP gets its rows.
    ``solver="auto"`` solves the selection IQPs exactly by enumeration on spaces of up to
    200,000 architectures (same optimum, milliseconds) and with SCIP otherwise.
    """
    t0 = time.perf_counter()
    space = spaces.get(space)
    check_oracle(oracle, space)
    scenarios = parse_scenarios(constraints)
    metrics = _metrics(oracle, objective, scenarios, extra_metrics)
    check_choice("method", method, METHODS)
    check_choice("selection", selection, SELECTIONS)
    check_choice("resource_terms", resource_terms, (*RESOURCE_TERMS, "auto"))
    check_choice("initial", initial, tuple(SAMPLERS))
    check_int("n_samples", n_samples, 2)
    check_int("seed", seed, 0)
    if not isinstance(explore, (int, float)) or not 0 <= explore < math.inf:
        raise InputError(f"explore must be a number >= 0, got {explore!r}")
    check_int("rounds", rounds, 1)
    if resource_samples is None and isinstance(n_samples, (int, np.integer)):
        resource_samples = LOOKUPS_PER_SAMPLE * int(n_samples)
    check_int("resource_samples", resource_samples, 0)
    coverage = check_coverage(coverage)
    n_samples, seed, rounds = int(n_samples), int(seed), int(rounds)
    solver = auto_solver(solver, space)
    _check_restrict(restrict, space)
    settings = dict(objective=objective, scenarios=scenarios, metrics=metrics,
                    n_samples=n_samples, method=method, selection=selection, seed=seed,
                    rounds=rounds, top_share=top_share, terms=terms,
                    resource_terms=resource_terms, solver=solver, initial=initial,
                    explore=float(explore), resource_samples=int(resource_samples),
                    coverage=coverage)
    if restrict is not None:
        settings["restrict"] = restrict.digest
    path = Path(store) if store is not None else default_store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with SampleStore(path, space, settings=settings, seed=seed) as st:
        st.declare_metrics(metrics)
        record_oracle(st, oracle, metrics)
        loop = _Loop(space, oracle, st, metrics, objective, scenarios, settings, progress,
                     restrict)
        if selection == "random":
            loop.run_round(0, n_samples, loop.random_plan(n_samples))
        else:
            sizes = round_sizes(n_samples, rounds)
            for r, size in enumerate(sizes):
                loop.run_round(r, size, None, len(sizes))
        samples = st.samples()
        models = loop.fit(samples)
        st.set_meta("model_choice", {m: c.name for m, c in loop.choices.items()})
    best = [best_measured(space, samples, objective, scen, models[objective], oracle.units)
            for scen in scenarios]
    run_settings = {**settings, "model_choice": {m: c.name for m, c in loop.choices.items()}}
    run = CalibrationRun(space, objective, scenarios, samples, models, best, path,
                         run_settings, loop.history, time.perf_counter() - t0, restrict)
    log.info("calibration done: %d samples in %.1f s", len(samples), run.elapsed)
    return run


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
                 settings, progress, restrict=None) -> None:
        self.space, self.oracle, self.store = space, oracle, store
        self.metrics, self.objective, self.scenarios = metrics, objective, scenarios
        self.s = settings
        self.progress = progress
        self.unmeasurable: set[Architecture] = set()
        #: the only architectures the oracle can measure (None: any)
        self.pool = oracle.candidates() if hasattr(oracle, "candidates") else None
        self.restrict = restrict
        if restrict is not None and self.pool is not None:
            self.pool = self.pool[restrict.mask(self.pool)]
        if self.pool is not None:
            log.info("the oracle measures %d of the space's %d architectures: selection is "
                     "restricted to them", len(self.pool), space.size)
        self.history: list[dict] = []
        #: the budgeted metrics, which a look-up measures
        self.resources = [m for m in metrics if any(m in sc for sc in scenarios)]
        total = int(settings.get("resource_samples", 0)) if self.resources else 0
        if total and not takes_metrics(oracle):
            log.info("%s measures every metric at once (its measure() takes no metrics=): no "
                     "resource-only look-ups", getattr(oracle, "name", "the oracle"))
            total = 0
        self.lookups = LookupBudget(total)
        #: the model chosen for each metric in the latest fit
        self.choices: dict[str, Choice] = {}
        self._known: dict[str, dict[str, float]] = {}
        self._round = 0

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

    def _fit_for_round(self, r: int, screen: Screen | None):
        samples = self.store.samples(before_round=r)
        X = onehot(self.space, samples)
        forms, margins = self._fit(samples, X, [self.objective, *self.resources], seed=r)
        looking = screen is not None and self.lookups.left > 0
        plan, draw_margins = [], {}
        for scen in self.scenarios:
            budgets = loosened(scen, margins) if looking else tightened(scen, margins)
            plan.append({m: (forms[m], b) for m, b in budgets.items()})
        if not looking:
            explore = self.s.get("explore", 0.0)
            for m, mg in margins.items():
                y = samples[m].to_numpy(dtype=float)
                oof = self.choices[m].oof
                rmse = (math.sqrt(float(np.nanmean((oof - y) ** 2))) if oof is not None
                        else 0.0)
                draw_margins[m] = (mg.upper if math.isfinite(mg.upper) else 0.0) \
                    + explore * rmse
        if screen is not None:
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
        values = self.oracle.measure(arch, metrics=list(self.resources))
        row = {m: float(values[m]) for m in self.resources}
        if not all(math.isfinite(v) for v in row.values()):
            log.warning("%s has no value for %s; skipped", arch.key,
                        [m for m, v in row.items() if not math.isfinite(v)])
            self.unmeasurable.add(arch)
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

    def run_round(self, r: int, size: int, plan=None, n_rounds: int | None = None) -> None:
        done = self.store.samples()
        keys = done["key"].to_numpy(dtype=object)
        trained = np.isfinite(done[self.objective].to_numpy(dtype=float))
        taken = {self.space.parse_key(k) for k in keys[trained]} | self.unmeasurable
        rounds = done["round"].to_numpy()
        in_round = int((trained & (rounds == r)).sum())
        if in_round >= size and plan is None:
            return
        earlier = {self.space.parse_key(k) for k in keys[trained & (rounds < r)]}
        screen = self._screen(r)
        if plan is not None:
            chosen = [(a, "uniform") for a in plan(screen)]
        elif r == 0 and screen is not None and self.lookups.total > 0:
            probes = max(0, math.ceil(INITIAL_LOOKUP_SHARE * self.lookups.total))
            chosen = initial_plan(self.space, size, round_rng(self.s["seed"], 0),
                                  self.sampler(), earlier | self.unmeasurable, screen.accept,
                                  pool=self.pool, probes=probes,
                                  probe=lambda a: self._probe(a, probes, screen))
        else:
            looking = screen is not None and self.lookups.left > 0
            chosen = plan_round(r, size, self.space, self.s["seed"],
                                lambda: self._fit_for_round(r, screen),
                                earlier | self.unmeasurable,
                                solver=self.s["solver"], top_share=self.s["top_share"],
                                sampler=self.sampler(), pool=self.pool,
                                restrict=self.restrict,
                                accept=screen.accept if looking else None)
        todo = [(a, src) for a, src in chosen if a not in taken]
        with progress_bar(self.progress, f"round {r}: measuring", len(todo)) as advance:
            for arch, src in todo:
                values = self.oracle.measure(arch)
                row = {m: float(values[m]) for m in self.metrics}
                if not all(math.isfinite(v) for v in row.values()):
                    log.warning("%s has no value for %s; skipped", arch.key,
                                [m for m, v in row.items() if not math.isfinite(v)])
                    self.unmeasurable.add(arch)
                else:
                    self.store.add(arch, row, round=r, source=src)
                advance()
        n_trained = int(trained.sum()) + sum(1 for a, _ in todo if a not in self.unmeasurable)
        self.history.append({"round": r, "planned": len(chosen), "measured": len(todo),
                             "total": n_trained, "looked_up": self.lookups.in_round,
                             "lookups": self.lookups.used})

    def _probe(self, arch: Architecture, probes: int, screen: Screen) -> None:
        """A first-round look-up for the resource models only (up to ``probes`` in round 0)."""
        if self.lookups.used < probes and arch.key not in self._known:
            self._look_up(arch)
            self.lookups.spend()


def _metrics(oracle, objective, scenarios, extra) -> list[str]:
    names = [objective] + [m for s in scenarios for m in s] + list(extra)
    for m in names:
        if m not in oracle.metrics:
            raise InputError(f"unknown metric {m!r}; the oracle measures "
                             f"{', '.join(oracle.metrics)}")
    return list(dict.fromkeys(names))


def _check_restrict(restrict, space: SearchSpace) -> None:
    if restrict is None:
        return
    if not all(hasattr(restrict, a) for a in ("linear_constraints", "mask", "sampler", "digest")):
        raise InputError(f"restrict must be an iqnas.reduction.Cluster (iqnas.reduce or "
                         f"Cluster.load), got {type(restrict).__name__}")
    if restrict.space.name != space.name:
        raise InputError(f"restrict is a cluster of space {restrict.space.name!r}, not "
                         f"{space.name!r}")

