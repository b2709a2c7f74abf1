"""``iqnas.calibrate``: measure networks, fit the models, select more, and report what is truly
feasible. Samples go to a SQLite store as they arrive; a rerun with the same store resumes."""

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
from iqnas._validation import Boolean, Check, Interval, Options, validate_params
from iqnas.calibration.batch import check_executor, measure_batch
from iqnas.calibration.common import (
    RESOURCE_TERMS,
    SOLVER,
    auto_solver,
    best_measured,
    check_oracle,
    parse_scenarios,
    resource_estimator,
    solver_spec,
)
from iqnas.calibration.estimators import QuadraticRegressor, cross_val_rmse, out_of_fold
from iqnas.calibration.metrics import quality_report, report_table
from iqnas.calibration.provenance import record_oracle
from iqnas.calibration.ranker import PairwiseRanker
from iqnas.calibration.rerank import RERANKERS, GCNReranker, check_rerank
from iqnas.calibration.samplers import StratifiedSampler, UniformSampler
from iqnas.calibration.selection import plan_round, pool_plan, round_sizes, uniform_plan
from iqnas.calibration.store import SampleStore, default_store_path, stored_meta
from iqnas.calibration.verified import solve_measured
from iqnas.errors import InputError
from iqnas.measured import MeasuredResult
from iqnas.oracles.oracle import unknown_name_message
from iqnas.quadform import QuadraticForm
from iqnas.solvers.base import Backend
from iqnas.space import Architecture, SearchSpace

log = logging.getLogger(__name__)

METHODS = ("pairwise", "regression")
SELECTIONS = ("iterative", "random")
SAMPLERS = {"uniform": UniformSampler, "stratified": StratifiedSampler}
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
    "resource_terms": [Options(RESOURCE_TERMS)],
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
    ``models`` the fitted QuadraticForm per metric; ``scenarios`` the budgets.
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

    def quality(self, cv: int = 5, seed: int = 0) -> pd.DataFrame:
        """Each model's quality on held-out samples: out-of-fold predictions of a ``cv``-fold
        refit, scored by Kendall tau, Spearman, RMSE, within +/-10 % and more (one row per
        metric; render with ``iqnas.calibration.render_reports``)."""
        X = onehot(self.space, self.samples)
        reports = {}
        for m in self.models:
            y = self.samples[m].to_numpy(dtype=float)
            est = make_estimator(self.space, m, self.objective, self.settings,
                                 self.models[m].units)
            pred = out_of_fold(est, X, y, cv, seed)
            reports[m] = quality_report(y, pred)
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
        with SampleStore(self.store_path, self.space, settings=self.settings,
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
              top_share: float = 0.5, terms: str = "pairwise", resource_terms: str = "linear",
              initial: str = "stratified", explore: float = 1.0,
              extra_metrics: Sequence[str] = (), solver: str | Backend = "auto",
              time_limit: float | None = None, progress: bool | None = None,
              restrict=None, executor=None, rerank: str | None = None,
              rerank_factor: int = 4, rerank_filter: bool = False,
              rerank_params: Mapping | None = None) -> CalibrationRun:
    """Calibrate models of ``objective`` (maximised) and of each budgeted metric from measured
    samples, choosing what to measure by ``selection``.

    ``constraints`` maps oracle metric -> budget; a list of such mappings gives several budget
    scenarios, each served in every round. ``extra_metrics`` are stored and modelled too.
    The iterative selection runs ``rounds`` rounds (fewer if a round would measure fewer than
    10 networks). ``initial`` ("uniform" or "stratified") samples round 0 (and the whole random
    selection).
    ``explore`` widens the random part of each round to networks predicted within a budget plus
    ``explore`` times the resource model's cross-validated RMSE (0 = predicted feasible only);
    the IQP solves always keep the budgets hard.
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
    under the fitted resource models, and measures the k that a ``GCNRanker`` fitted on the
    earlier rounds' samples ranks best; ``rerank_filter=True`` first sets aside candidates
    that ``GCNRegressor`` models of the budgeted metrics predict over budget. ``rerank_params``
    go to the GCNs (e.g. ``{"epochs": 100}``; see ``iqnas.calibration.rerank``).
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
    backend = auto_solver(solver, space, "calibrate()")
    _check_restrict(restrict, space)
    executor = check_executor(executor)
    settings = dict(objective=objective, scenarios=scenarios, metrics=metrics,
                    n_samples=n_samples, method=method, selection=selection, seed=seed,
                    rounds=rounds, top_share=top_share, terms=terms,
                    resource_terms=resource_terms, solver=solver_spec(backend), initial=initial,
                    explore=explore)
    if restrict is not None:
        settings["restrict"] = restrict.digest
    if callable(getattr(oracle, "settings", None)):  # what measured values depend on
        settings["oracle"] = oracle.settings()
    if rerank is not None:  # only then, so stores of runs without it still resume
        settings["rerank"] = {"method": rerank, "factor": rerank_factor,
                              "filter": rerank_filter, "params": dict(rerank_params or {})}
    path = Path(store) if store is not None else default_store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    first_n = extended_from(path, settings)
    if first_n is not None:
        log.info("extending the run in %s from %d to %d samples", path, first_n, n_samples)
        settings = {**settings, "n_samples": first_n}
    with SampleStore(path, space, settings=settings, seed=seed) as st:
        if len(st):
            logging.getLogger("iqnas.resume").info(
                "resuming %d samples from %s%s", len(st), path,
                "" if first_n is None else f" (extending the run of {first_n} to {n_samples})")
        record_oracle(st, oracle, metrics)
        loop = _Loop(space, oracle, st, metrics, objective, scenarios, settings, progress,
                     restrict, executor, backend)
        base_n = n_samples if first_n is None else first_n
        if selection == "random" and loop.pool is not None:
            loop.run_round(0, base_n, lambda: pool_plan(
                space, loop.pool, base_n, np.random.default_rng(seed), set()))
        elif selection == "random":
            loop.run_round(0, base_n, lambda: loop.sampler().sample(
                space, base_n, np.random.default_rng(seed)))
        else:
            for r, size in enumerate(round_sizes(base_n, rounds)):
                loop.run_round(r, size, None)
        if first_n is not None:
            st.set_meta("extended_to", max(n_samples, int(st.get_meta("extended_to", 0))))
            loop.extend(n_samples - first_n, rounds,
                        1 if selection == "random" else len(round_sizes(base_n, rounds)))
        samples = st.samples()
        loop.check_enough(samples)
    models = loop.fit(samples)
    best = [best_measured(space, samples, objective, scen, models[objective], oracle.units)
            for scen in scenarios]
    run = CalibrationRun(space, objective, scenarios, samples, models, best, path, settings,
                         loop.history, time.perf_counter() - t0, restrict)
    log.info("calibration done: %d samples in %.1f s", len(samples), run.elapsed)
    return run


def extended_from(path: Path, settings: Mapping[str, Any]) -> int | None:
    """The sample count of the run a store at ``path`` was created for, when ``settings`` ask
    for more samples of that same run (only ``n_samples`` differs, and it grew); else None
    (a new store, the same run, or another run, which SampleStore refuses)."""
    stored = stored_meta(path, "settings")
    if not isinstance(stored, dict) or not isinstance(stored.get("n_samples"), int):
        return None
    same = {k: v for k, v in stored.items() if k != "n_samples"} == \
        json.loads(json.dumps({k: v for k, v in settings.items() if k != "n_samples"}))
    if not same:
        return None
    extended = stored_meta(path, "extended_to")
    if isinstance(extended, int) and extended > settings["n_samples"]:
        raise InputError(f"store {path} holds a run extended to {extended} samples; give "
                         f"n_samples (--samples) {extended} or more to resume or extend it")
    return stored["n_samples"] if stored["n_samples"] < settings["n_samples"] else None


def make_estimator(space: SearchSpace, metric: str, objective: str, settings: Mapping,
                   units: str = ""):
    """The unfitted estimator a run uses for ``metric``: the ranker (``method="pairwise"``) or
    regressor for the objective, a linear or pairwise resource model otherwise."""
    if metric == objective:
        cls = PairwiseRanker if settings["method"] == "pairwise" else QuadraticRegressor
        return cls(space, terms=settings["terms"], name=metric, units=units)
    return resource_estimator(space, metric, settings["resource_terms"], units)


def onehot(space: SearchSpace, samples: pd.DataFrame) -> np.ndarray:
    """The one-hot rows of a samples table's ``key`` column."""
    C = np.array([space.parse_key(k).choices for k in samples["key"]])
    return space.choices_to_onehot(C)


class _Loop:
    """One calibration run's state: the store, the oracle and how models are fitted."""

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

    def fit(self, samples: pd.DataFrame, X: np.ndarray | None = None
            ) -> dict[str, QuadraticForm]:
        """Every metric's model fitted on ``samples`` (``X``: their one-hot rows, if known)."""
        if len(samples) < 2:
            raise InputError(f"only {len(samples)} architecture(s) measured; nothing to fit")
        X = onehot(self.space, samples) if X is None else X
        return {m: self.estimator(m).fit(X, samples[m].to_numpy(dtype=float)).form_
                for m in self.metrics}

    def check_enough(self, samples: pd.DataFrame) -> None:
        """At least 2 samples to fit, else InputError saying how many measurements failed."""
        if len(samples) >= 2:
            return
        fails = self.store.failures()
        example = f", e.g. {fails['error'].iloc[-1]}" if len(fails) else ""
        raise InputError(f"only {len(samples)} architecture(s) measured, {len(fails)} "
                         f"measurement(s) failed{example}; nothing to fit (the failures are "
                         f"in the store {self.store.path})")

    def _fit_for_round(self, r: int):
        samples = self.store.samples()
        samples = samples[samples["round"] < r]
        self.check_enough(samples)
        X = onehot(self.space, samples)
        models = self.fit(samples, X)
        scen = [{m: (models[m], b) for m, b in s.items()} for s in self.scenarios]
        margins = {}
        explore = self.s.get("explore", 0.0)
        if explore > 0:
            for m in {m for s in self.scenarios for m in s}:
                y = samples[m].to_numpy(dtype=float)
                margins[m] = explore * cross_val_rmse(self.estimator(m), X, y, seed=r)
        return models[self.objective], scen, margins

    def failures(self) -> dict[Architecture, int]:
        """The store's recorded failures: architecture -> the round it last failed in."""
        frame = self.store.failures()
        return {self.space.parse_key(k): int(rr) for k, rr in zip(frame["key"], frame["round"])}

    def run_round(self, r: int, size: int, plan=None) -> None:
        """Plan round ``r`` and measure what the store lacks. The plan excludes the samples
        and failures of earlier rounds only, so a resumed round is planned as it was first."""
        done = self.store.samples()
        failed = self.failures()
        taken = {self.space.parse_key(k) for k in done["key"]} | set(failed)
        in_round = int((done["round"] == r).sum()) if len(done) else 0
        if in_round >= size and plan is None:
            return
        earlier = {self.space.parse_key(k) for k, rr in zip(done["key"], done["round"]) if rr < r}
        earlier |= {a for a, rr in failed.items() if rr < r}
        info: dict = {}
        if plan is None:
            chosen = plan_round(r, size, self.space, self.s["seed"],
                                lambda: self._fit_for_round(r), earlier,
                                solver=self.solver, top_share=self.s["top_share"],
                                sampler=self.sampler(), pool=self.pool,
                                restrict=self.restrict, rerank=self._rerank(r, info),
                                rerank_pool=self._rerank_pool())
        else:
            chosen = [(a, "uniform") for a in plan()]
        todo = [(a, src) for a, src in chosen if a not in taken]
        report = measure_batch(self.oracle, [a for a, _ in todo], self.store,
                               executor=self.executor, metrics=self.metrics,
                               progress=self.progress, round=r,
                               source={a.key: src for a, src in todo}, ordered=True)
        self.history.append({"round": r, "planned": len(chosen), "measured": len(todo),
                             "total": len(self.store), "failed": len(report.failed), **info})
        log.info("round %d: %d planned, %d measured now, %d failed; %d samples in all", r,
                 len(chosen), len(todo), len(report.failed), len(self.store))

    def extend(self, extra: int, rounds: int, first: int) -> None:
        """``extra`` more samples after the stored run: further iterative rounds numbered from
        ``first``, or one more random round, planned from the rounds before ``first`` only, so
        a resumed extension plans the same."""
        if self.s["selection"] == "random":
            rng = np.random.default_rng([int(self.s["seed"]), first])

            def taken():
                done = self.store.samples()
                return {self.space.parse_key(k) for k, rr in zip(done["key"], done["round"])
                        if rr < first} | {a for a, rr in self.failures().items() if rr < first}

            plan = (lambda: pool_plan(self.space, self.pool, extra, rng, taken())) \
                if self.pool is not None else \
                (lambda: uniform_plan(self.space, extra, rng, taken(), self.restrict))
            self.run_round(first, extra, plan)
            return
        for i, size in enumerate(round_sizes(extra, rounds)):
            self.run_round(first + i, size, None)

    def _rerank_pool(self) -> int:
        return 1 if self.reranker is None else self.reranker.factor

    def _rerank(self, r: int, info: dict):
        """Round ``r``'s re-rank hook for ``plan_round`` (None without ``rerank``): the GCNs
        are fitted on the samples of earlier rounds, seeded by the run's seed and ``r``."""
        if self.reranker is None:
            return None

        def rerank(candidates: list[Architecture], k: int) -> list[Architecture]:
            samples = self.store.samples()
            samples = samples[samples["round"] < r]
            seed = int(np.random.default_rng([self.s["seed"], r, 104729]).integers(2**31))
            out = self.reranker.order(candidates, k, samples, seed)
            info["rerank"] = dict(self.reranker.last)
            return out

        return rerank


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

