"""End-to-end search on the real NB201 table: best true accuracy against evaluations.

    python -m benchmarks.nb201_search_bench                 # cifar100, 10 seeds, 4 scenarios
    python -m benchmarks.nb201_search_bench --datasets cifar10 --seeds 3 --evals 25 50
    python -m benchmarks.nb201_search_bench --report-only runs/nb201_search_bench.jsonl

Methods, each given N evaluations of distinct networks (N in ``--evals``):

* ``iqnas (trained)``: ``iqnas.calibrate(..., selection="iterative", method="pairwise",
  rounds=10)`` with ``n_samples=N``; an evaluation is a trained network (its table accuracy
  and latency).
* ``iqnas (training-free)``: ``iqnas.calibrate_training_free`` with ``n_samples=N-k`` and
  ``top_k=k`` (k = 10 for N >= 100, else 5); an evaluation is one computation of NASWOT and
  LogSynflow (the table's cached values), 0 trained networks.
* ``REA``: regularized evolution (population 20, sample size 5 drawn with replacement, one-edge
  mutation of the best, oldest removed) on the true test accuracy.
* ``random``: N distinct networks drawn uniformly from those within the budget.
* ``FreeREA``: FreeREA's loop on the cached training-free metrics with FreeREA's own
  set-relative score (each metric divided by its max |value| over the set compared: tournament,
  population, and the whole history for the answer); population min(100, N/2), tournament a
  quarter of it, two mutants and one crossover per tournament, ageing; an evaluation is one
  metric computation.

A method's result is the true (200-epoch) test accuracy of the network it returns: the best
trained network it evaluated (iqnas trained, REA, random), or the best by its training-free score
(iqnas training-free, FreeREA). Budgets are hard: fpga latency (``help_lat_fpga``) at its 10/30/50 %
quantiles over the table. REA, random and FreeREA check a network's latency in the table for
free before evaluating it; iqnas measures latency with each evaluation and plans with fitted
latency models. Raw runs go to ``benchmarks/results/nb201_search_bench.jsonl``; the section
"NB201 search: accuracy against evaluations" of BENCHMARKS.md and its summary row are
rewritten, others are kept.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(ROOT))

from benchmarks.report import limit_blas_threads  # noqa: E402

limit_blas_threads()  # before numpy is imported

import numpy as np  # noqa: E402

import iqnas  # noqa: E402
from benchmarks.report import (  # noqa: E402
    RESULTS,
    Headline,
    add_output_options,
    new_run,
    publish_section,
    read_run,
    results_writer,
    section_head,
    summary_row,
)
from iqnas.oracles.nb201 import DATASETS, NB201Oracle, resolve_dataset  # noqa: E402
from iqnas.solvers.genomes import crossover, mutate_one  # noqa: E402
from iqnas.spaces.nb201 import EDGES, OPS  # noqa: E402

SECTION = "## NB201 search: accuracy against evaluations"
MEASURES = ("true accuracy of the network each method returns against the networks it "
            "evaluates: iqnas (trained, training-free) vs REA, FreeREA, random search")
#: the number of evaluations the summary row quotes (when it was run)
LEAD_EVALS = 100
METHODS = ("iqnas (trained)", "iqnas (training-free)", "REA", "random", "FreeREA")
TRAINING_FREE = ("iqnas (training-free)", "FreeREA")
LATENCY = "help_lat_fpga"
DEFAULT_EVALS = (25, 50, 100, 200, 300)
DEFAULT_QUANTILES = ("none", "0.1", "0.3", "0.5")
REA_POPULATION, REA_SAMPLE = 20, 5
#: selection rounds of iqnas (trained), pinned so results do not follow a changed default
TRAINED_ROUNDS = 10
#: loops without a new evaluation after which a searcher gives up (tiny feasible sets)
MAX_IDLE = 2000


@dataclass
class Table:
    """The table of one dataset as arrays over its rows."""

    oracle: NB201Oracle
    acc: np.ndarray
    lat: np.ndarray
    free: np.ndarray      # (rows, 3) naswot, logsynflow, skip (FreeREA's metrics)
    choices: np.ndarray   # (rows, 6)
    keys: np.ndarray      # (rows,) arch strings

    @classmethod
    def load(cls, dataset: str) -> Table:
        o = iqnas.oracles.nb201(dataset)
        sfx = DATASETS[o.dataset]
        t = o.table()
        nas = t[f"naswot_{sfx}"].to_numpy(dtype=float)
        nas = np.where(np.isfinite(nas), nas, nas[np.isfinite(nas)].min())  # FreeREA's loader
        C = o.choices.astype(np.int64)
        spans = np.array([d - s - 1 for d, s in EDGES], dtype=float)
        is_skip = C == OPS.index("skip_connect")
        n_skip = is_skip.sum(axis=1)
        skip = np.where(n_skip > 0, (is_skip * spans).sum(axis=1) / np.maximum(n_skip, 1), 0.0)
        free = np.stack([nas, t[f"logsynflow_{sfx}"].to_numpy(dtype=float), skip], axis=1)
        return cls(o, t[o.accuracy_metric].to_numpy(dtype=float),
                   t[LATENCY].to_numpy(dtype=float), free, C, t.index.to_numpy())

    def feasible(self, budget: float | None) -> np.ndarray:
        return np.ones(len(self.acc), bool) if budget is None else self.lat <= budget

    def row(self, c: np.ndarray) -> int:
        return int(self.oracle.rows(np.asarray(c, dtype=np.int64)[None, :])[0])


def set_relative(free: np.ndarray) -> np.ndarray:
    """FreeREA's score over a set: each metric divided by its max |value| over the set."""
    return (free / (np.abs(free).max(axis=0) + 1e-9)).sum(axis=1)


def score_ceiling(tab: Table, budget: float | None) -> tuple[float, int]:
    """Mean true accuracy of the top-1 by FreeREA's score over every network within the budget
    (what a training-free search that found its score's optimum returns, seed-systems.md 4.4),
    and how many networks tie for it (isomorphic cells share their metrics)."""
    rows = np.flatnonzero(tab.feasible(budget))
    s = set_relative(tab.free[rows])
    top = rows[s >= s.max() - 1e-12]
    return float(tab.acc[top].mean()), int(top.size)


# ---- oracle-driven baselines -------------------------------------------------------------------
def random_search(tab: Table, budget: float | None, n: int, rng: np.random.Generator) -> int:
    rows = np.flatnonzero(tab.feasible(budget))
    pick = rng.choice(rows, size=min(n, rows.size), replace=False)
    return int(pick[np.argmax(tab.acc[pick])])


def rea(tab: Table, budget: float | None, n: int, rng: np.random.Generator,
        population: int = REA_POPULATION, sample_size: int = REA_SAMPLE) -> int:
    """Regularized evolution on the true accuracy; returns the best evaluated row."""
    space = tab.oracle.space
    ok = tab.feasible(budget)
    rows = np.flatnonzero(ok)
    init = rng.choice(rows, size=min(population, n, rows.size), replace=False)
    seen = set(int(r) for r in init)
    pop = deque(int(r) for r in init)
    idle = 0
    while len(seen) < n and idle < MAX_IDLE:
        draw = [pop[i] for i in rng.integers(len(pop), size=sample_size)]
        parent = max(draw, key=lambda r: tab.acc[r])
        child = tab.row(mutate_one(space, rng, tab.choices[parent][None, :])[0])
        if not ok[child]:
            idle += 1
            continue
        idle = 0 if child not in seen else idle + 1
        seen.add(child)  # a network seen before is not trained again
        pop.append(child)
        pop.popleft()
    best = max(seen, key=lambda r: tab.acc[r])
    return int(best)


def freerea(tab: Table, budget: float | None, n: int, rng: np.random.Generator) -> int:
    """FreeREA on the cached metrics with its set-relative score; returns the chosen row."""
    space = tab.oracle.space
    ok = tab.feasible(budget)
    size = max(2, min(100, n // 2))
    tournament = max(2, size // 4)
    rows = np.flatnonzero(ok)
    init = rng.choice(rows, size=min(size, n, rows.size), replace=False)
    history = [int(r) for r in init]
    seen = set(history)
    pop, born = list(history), [0] * len(history)
    gen, idle = 0, 0
    while len(history) < n and idle < MAX_IDLE:
        gen += 1
        while len(pop) <= size and len(history) < n and idle < MAX_IDLE:
            draw = rng.choice(len(pop), size=min(tournament, len(pop)), replace=False)
            s = set_relative(tab.free[[pop[i] for i in draw]])
            top = draw[np.argsort(-s, kind="stable")[:2]]
            a, b = tab.choices[pop[top[0]]], tab.choices[pop[top[-1]]]
            kids = np.concatenate([mutate_one(space, rng, np.stack([a, b])),
                                   crossover(rng, a[None, :], b[None, :])])
            fresh = 0
            for c in kids:
                r = tab.row(c)
                if r in seen or not ok[r] or len(history) >= n:
                    continue
                seen.add(r)
                history.append(r)
                pop.append(r)
                born.append(gen)
                fresh += 1
            idle = 0 if fresh else idle + 1
        if min(born) < max(born):  # ageing: the single oldest goes
            k = int(np.argmin(born))
            pop.pop(k)
            born.pop(k)
        keep = np.argsort(-set_relative(tab.free[pop]), kind="stable")[:size]
        pop, born = [pop[i] for i in keep], [born[i] for i in keep]
    h = np.array(history)
    return int(h[int(np.argmax(set_relative(tab.free[h])))])


# ---- iqnas --------------------------------------------------------------------------------------
def iqnas_trained(tab: Table, budget: float | None, n: int, seed: int, store: Path) -> int | None:
    cons = None if budget is None else {LATENCY: budget}
    run = iqnas.calibrate("nb201", tab.oracle, tab.oracle.accuracy_metric, cons, n, seed=seed,
                          selection="iterative", method="pairwise", rounds=TRAINED_ROUNDS,
                          store=store, progress=False)
    assert len(run.samples) <= n
    return None if run.best is None else tab.row(np.array(run.best.architecture.choices))


def tf_top_k(n: int) -> int:
    return 10 if n >= 100 else 5


def iqnas_training_free(tab: Table, budget: float | None, n: int, seed: int) -> int | None:
    cons = None if budget is None else {LATENCY: budget}
    k = tf_top_k(n)
    run = iqnas.calibrate_training_free("nb201", tab.oracle, constraints=cons,
                                        n_samples=n - k, top_k=k, seed=seed, progress=False)
    assert run.n_evaluations <= n and run.n_trained == 0
    return None if run.best is None else tab.row(np.array(run.best.architecture.choices))


def run_one(tab: Table, method: str, budget: float | None, n: int, seed: int,
            workdir: Path) -> dict:
    rng = np.random.default_rng([seed, n, METHODS.index(method)])
    t0 = time.perf_counter()
    if method == "iqnas (trained)":
        row = iqnas_trained(tab, budget, n, seed, workdir / f"s{seed}-n{n}-{budget}.db")
    elif method == "iqnas (training-free)":
        row = iqnas_training_free(tab, budget, n, seed)
    elif method == "REA":
        row = rea(tab, budget, n, rng)
    elif method == "random":
        row = random_search(tab, budget, n, rng)
    else:
        row = freerea(tab, budget, n, rng)
    wall = time.perf_counter() - t0
    if row is not None and budget is not None:
        assert tab.lat[row] <= budget + 1e-9, (method, row)
    return {"method": method, "n": n, "seed": seed, "wall": wall,
            "acc": None if row is None else float(tab.acc[row]),
            "key": None if row is None else str(tab.keys[row])}


# ---- summarising ------------------------------------------------------------------------------
def scenario_name(q: str) -> str:
    return "unconstrained" if q == "none" else f"{LATENCY} <= {float(q):.0%} quantile"


def _cell(vals: list) -> str:
    got = [v for v in vals if v is not None]
    if not got:
        return "-"
    miss = len(vals) - len(got)
    text = f"{np.mean(got):.2f} ± {np.std(got):.2f}"
    return text + (f" ({miss} none)" if miss else "")


def section(runs: list[dict], scenarios: list[dict], info: dict, command: str) -> str:
    parts = [*section_head(SECTION, info, command),
             "Best true 200-epoch test accuracy (%) of the network each method returns, against "
             "the number of networks it evaluated, mean ± std over the seeds. For *iqnas "
             "(training-free)* and *FreeREA* an evaluation is one computation of the training-"
             "free metrics (NASWOT, LogSynflow; the table's cached FreeREA values) and no network "
             "is trained; for the others it is one trained network. iqnas (trained) is "
             "`iqnas.calibrate(selection=\"iterative\", method=\"pairwise\", "
             f"rounds={TRAINED_ROUNDS})`; iqnas "
             "(training-free) is `iqnas.calibrate_training_free` (N - k sampled, top-k IQP "
             "candidates, k = 10 for N >= 100, else 5); REA has population 20 and sample size 5; "
             "FreeREA uses its own set-relative score, population min(100, N/2) and a tournament "
             "of a quarter of it. Budgets on fpga latency (`help_lat_fpga`, HW-NAS-Bench via "
             "HELP) are hard; REA, random and FreeREA look latency up for free before "
             "evaluating, iqnas measures it with each evaluation and plans with a fitted linear "
             "latency model. *optimum* is the best accuracy in the whole table within the "
             "budget; the top-1 of FreeREA's score over all of them is what a training-free "
             "search that found its score's optimum would return. *not run* marks runs left out "
             "with `--max-trained-evals`. See the module docstring of "
             "`benchmarks/nb201_search_bench.py`.", ""]
    evals = sorted({r["n"] for r in runs})
    for sc in scenarios:
        mine = [r for r in runs
                if r["dataset"] == sc["dataset"] and r["quantile"] == sc["quantile"]]
        if not mine:
            continue
        seeds = len({r["seed"] for r in mine})
        budget = "" if sc["budget"] is None else f" (<= {sc['budget']:.4g} ms)"
        if "score_ceiling" not in sc:  # results written before the field existed
            sc["score_ceiling"] = score_ceiling(Table.load(sc["dataset"]), sc["budget"])
        ceiling, ties = sc["score_ceiling"]
        tied = f" (mean of {ties} tied networks)" if ties > 1 else ""
        parts += [f"**{sc['dataset']}, {scenario_name(sc['quantile'])}{budget}**: optimum "
                  f"{sc['optimum']:.2f}; the top-1 of FreeREA's score over every network within "
                  f"the budget has {ceiling:.2f}{tied}; {seeds} seeds.", "",
                  "| method | " + " | ".join(f"N = {n}" for n in evals) + " | median s per run |",
                  "|---|" + "---|" * (len(evals) + 1)]
        for m in METHODS:
            rows = [r for r in mine if r["method"] == m]
            if not rows:
                continue
            cells = [_cell([r["acc"] for r in rows if r["n"] == n]) for n in evals]
            cells = ["not run" if c == "-" else c for c in cells]
            label = m + (" (metric evaluations)" if m in TRAINING_FREE else "")
            parts.append(f"| {label} | " + " | ".join(cells) +
                         f" | {np.median([r['wall'] for r in rows]):.2f} |")
        parts.append("")
    return "\n".join(parts)


def headline(runs: list[dict], scenarios: list[dict]) -> Headline:
    """The summary row: every method's mean accuracy in the first scenario at LEAD_EVALS."""
    for sc in scenarios:
        mine = [r for r in runs
                if r["dataset"] == sc["dataset"] and r["quantile"] == sc["quantile"]]
        if mine:
            break
    else:
        return Headline(MEASURES, "-")
    evals = sorted({r["n"] for r in mine})
    n = LEAD_EVALS if LEAD_EVALS in evals else evals[len(evals) // 2]
    cells = []
    for m in METHODS:
        got = [r["acc"] for r in mine if r["method"] == m and r["n"] == n and r["acc"] is not None]
        if got:
            cells.append(f"{m} {np.mean(got):.2f}")
    figure = (f"{sc['dataset']}, {scenario_name(sc['quantile'])}, N = {n}: {', '.join(cells)} "
              f"(optimum {sc['optimum']:.2f})")
    return Headline(MEASURES, figure)


def load_jsonl(path: Path) -> tuple[list[dict], list[dict], dict, str]:
    """(runs, scenarios, machine info, command) of a results file."""
    records, info, command, _ = read_run(path)
    scenarios = [r for r in records if r.get("type") == "scenario"]
    runs = [r for r in records if r.get("type") != "scenario"]
    return runs, scenarios, info, command


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", nargs="+", default=["cifar100"])
    ap.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    ap.add_argument("--evals", type=int, nargs="+", default=list(DEFAULT_EVALS))
    ap.add_argument("--quantiles", nargs="+", default=list(DEFAULT_QUANTILES),
                    help="latency budget quantiles ('none' = unconstrained)")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--max-trained-evals", type=int, default=max(DEFAULT_EVALS),
                    help="run iqnas (trained) only up to this N (its selection loop is the "
                         "slow part of the benchmark)")
    add_output_options(ap, RESULTS / "nb201_search_bench.jsonl", record="run or scenario")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if args.report_only:
        runs, scenarios, info, command = load_jsonl(args.report_only)
    else:
        if min(args.evals) < 12:
            raise SystemExit("--evals must be >= 12 (training-free mode needs N - k >= 2 samples "
                             "and a pilot)")
        for q in args.quantiles:
            if q != "none" and not 0 < float(q) < 1:
                raise SystemExit(f"bad quantile {q!r}: use 'none' or a number in (0, 1)")
        datasets = [resolve_dataset(d) for d in args.datasets]
        info, command = new_run("nb201_search_bench", argv, as_module=bool(__package__))
        runs, scenarios = [], []
        with results_writer(args.jsonl, info, command) as write, \
                tempfile.TemporaryDirectory() as tmp:
            for ds in datasets:
                tab = Table.load(ds)
                for q in args.quantiles:
                    budget = None if q == "none" else float(np.quantile(tab.lat, float(q)))
                    sc = {"type": "scenario", "dataset": ds, "quantile": q, "budget": budget,
                          "optimum": float(tab.acc[tab.feasible(budget)].max()),
                          "score_ceiling": score_ceiling(tab, budget)}  # (mean, ties)
                    scenarios.append(sc)
                    write(sc)
                    work = Path(tmp) / f"{ds}-{q}"
                    work.mkdir()
                    for seed in range(args.seeds):
                        for n in args.evals:
                            for m in args.methods:
                                if m == "iqnas (trained)" and n > args.max_trained_evals:
                                    continue
                                rec = {"dataset": ds, "quantile": q, "budget": budget,
                                       **run_one(tab, m, budget, n, seed, work)}
                                runs.append(rec)
                                write(rec)
                        print(f"{ds} {scenario_name(q)} seed {seed}: " + ", ".join(
                            f"{r['method']} {r['acc']}" for r in runs
                            if r["seed"] == seed and r["n"] == max(args.evals)
                            and r["dataset"] == ds and r["quantile"] == q), flush=True)
    text = section(runs, scenarios, info, command)
    print("\n" + text)
    publish_section(args.out, SECTION, text,
                    summary_row(SECTION, headline(runs, scenarios), info, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
