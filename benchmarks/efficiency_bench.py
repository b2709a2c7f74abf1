"""Sample efficiency under hard budgets on NB201: iqnas against Optuna's GP, TPE and NSGA-II
samplers (with ``constraints_func``), REA and random search, with the same measurement
accounting.

    python -m benchmarks.efficiency_bench                      # the issue-12 targets (heavy)
    python -m benchmarks.efficiency_bench --seeds 3 --n 25 100 --scenarios c100-fpga-0.1
    python -m benchmarks.efficiency_bench --report-only benchmarks/results/efficiency_bench.jsonl

Every method gets ``N`` trained networks (a table accuracy and every latency: the expensive
kind) and ``10 N`` resource-only look-ups (the latency of a network, not its accuracy: the cheap
kind), on the same scenarios and seeds:

* ``iqnas``: ``iqnas.calibrate(n_samples=N, resource_samples=10 N)`` (defaults otherwise).
* ``GP`` / ``TPE`` / ``NSGA-II``: Optuna's ``GPSampler``, ``TPESampler``, ``NSGAIISampler``
  (seeded, ``constraints_func`` = latency - budget), one categorical parameter per NB201 edge,
  ask/tell. A proposed network's latency is looked up first; one over the budget is told to the
  study with that constraint value and the lowest accuracy trained so far (not trained, not
  counted); with no look-ups left every proposal is trained. A proposal trained before is told
  its known value again and not counted.
* ``REA`` (population 20, sample 5, one-edge mutations) and ``random`` (uniform draws): each
  candidate's latency is looked up and only feasible ones are trained while look-ups last.

The reported network of every method is its best trained network that is truly within the budget
(the unconstrained scenario has none); regret = the table's constrained optimum minus its true
accuracy. Scenarios are named ``<dataset>-<device>-<quantile>`` (``c100-none`` unconstrained).
Raw runs go to ``benchmarks/results/efficiency_bench.jsonl``; the section "Sample efficiency
under hard budgets" of BENCHMARKS.md and its summary row are rewritten.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections import deque
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
    merge_runs,
    new_run,
    publish_section,
    results_writer,
    section_head,
    summary_row,
)
from iqnas.solvers.genomes import mutate_one  # noqa: E402
from iqnas.spaces.nb201 import OPS  # noqa: E402

SECTION = "## Sample efficiency under hard budgets"
MEASURES = ("regret of the network iqnas and its peers (Optuna GP/TPE/NSGA-II, REA, random) "
            "return from N trained networks and 10 N latency look-ups, NB201")
METHODS = ("iqnas", "GP", "TPE", "NSGA-II", "REA", "random")
DATASETS = {"c100": "cifar100", "c10": "cifar10"}
#: the issue's scenarios: CIFAR-100 under fpga/raspi4 and unconstrained, CIFAR-10 on phones
C100 = [f"c100-{d}-{q}" for d in ("fpga", "raspi4") for q in ("0.1", "0.3", "0.5")] + \
    ["c100-none"]
C10 = [f"c10-{d}-{q}" for d in ("pixel3", "eyeriss", "samsung_a50") for q in ("0.1", "0.3", "0.5")]
DEFAULT_N = (25, 50, 100, 200)
LOOKUPS_PER_TRAINED = 10
REA_POPULATION, REA_SAMPLE = 20, 5
#: proposals without a new trained network after which a searcher stops
MAX_IDLE = 2000


class Scenario:
    """One dataset and budget: the table as arrays and the look-up / training accounting."""

    def __init__(self, name: str) -> None:
        parts = name.split("-", 2)
        if parts[0] not in DATASETS or len(parts) not in (2, 3) or \
                (len(parts) == 2 and parts[1] != "none"):
            raise SystemExit(f"bad scenario {name!r}: use e.g. c100-fpga-0.1 or c100-none")
        self.name = name
        self.oracle = iqnas.oracles.nb201(DATASETS[parts[0]])
        table = self.oracle.table()
        self.acc_metric = self.oracle.accuracy_metric
        self.acc = table[self.acc_metric].to_numpy(dtype=float)
        self.choices = self.oracle.choices.astype(np.int64)
        self.keys = table.index.to_numpy()
        if len(parts) == 2:
            self.device, self.budget, self.lat = None, None, np.zeros(len(self.acc))
        else:
            self.device = f"help_lat_{parts[1]}"
            if self.device not in table.columns:
                raise SystemExit(f"scenario {name!r}: no column {self.device}")
            self.lat = table[self.device].to_numpy(dtype=float)
            self.budget = float(np.quantile(self.lat, float(parts[2])))
        self.ok = np.ones(len(self.acc), bool) if self.budget is None else self.lat <= self.budget
        self.optimum = float(self.acc[self.ok].max())

    def row(self, choices) -> int:
        return int(self.oracle.rows(np.asarray(choices, dtype=np.int64)[None, :])[0])


class Budget:
    """N trained networks and R look-ups of one run; ``trained`` are the rows trained."""

    def __init__(self, sc: Scenario, n: int, lookups: int) -> None:
        self.sc, self.n, self.lookups_left = sc, n, lookups
        self.trained: list[int] = []
        self.seen: set[int] = set()
        self.known_lat: set[int] = set()

    @property
    def done(self) -> bool:
        return len(self.trained) >= self.n

    def looks_feasible(self, row: int) -> bool:
        """Look the latency up (if any look-ups are left and it is not known): False only when
        it is known to break the budget."""
        if self.sc.budget is None:
            return True
        if row not in self.known_lat and self.lookups_left > 0:
            self.lookups_left -= 1
            self.known_lat.add(row)
        return row not in self.known_lat or bool(self.sc.ok[row])

    def train(self, row: int) -> float:
        if row not in self.seen:
            self.seen.add(row)
            self.known_lat.add(row)
            self.trained.append(row)
        return float(self.sc.acc[row])

    def best(self) -> int | None:
        feas = [r for r in self.trained if self.sc.ok[r]]
        return max(feas, key=lambda r: self.sc.acc[r]) if feas else None


# ---- peers ------------------------------------------------------------------------------------
def random_search(sc: Scenario, b: Budget, rng: np.random.Generator) -> None:
    for row in rng.permutation(len(sc.acc)):
        if b.done:
            return
        if b.looks_feasible(int(row)):
            b.train(int(row))


def rea(sc: Scenario, b: Budget, rng: np.random.Generator) -> None:
    space = sc.oracle.space
    pop: deque[int] = deque()
    for row in rng.permutation(len(sc.acc)):
        if len(pop) >= min(REA_POPULATION, b.n):
            break
        if b.looks_feasible(int(row)):
            b.train(int(row))
            pop.append(int(row))
    idle = 0
    while not b.done and idle < MAX_IDLE:
        draw = [pop[i] for i in rng.integers(len(pop), size=REA_SAMPLE)]
        parent = max(draw, key=lambda r: sc.acc[r])
        child = sc.row(mutate_one(space, rng, sc.choices[parent][None, :])[0])
        if child in b.seen or not b.looks_feasible(child):
            idle += 1
            continue
        idle = 0
        b.train(child)
        pop.append(child)
        pop.popleft()


def optuna_search(sc: Scenario, b: Budget, method: str, seed: int) -> None:
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    # optuna 5 deprecates constraints_func for Trial.set_constraint; the issue pins the former
    warnings.filterwarnings("ignore", message=".*constraints_func.*", category=FutureWarning)

    def constraints(trial):
        return [trial.user_attrs.get("c", 0.0)]

    cons = None if sc.budget is None else constraints
    sampler = {"GP": lambda: optuna.samplers.GPSampler(seed=seed, constraints_func=cons),
               "TPE": lambda: optuna.samplers.TPESampler(seed=seed, constraints_func=cons),
               "NSGA-II": lambda: optuna.samplers.NSGAIISampler(seed=seed,
                                                                constraints_func=cons)}[method]()
    study = optuna.create_study(direction="maximize", sampler=sampler)
    n_edges = sc.choices.shape[1]
    idle = 0
    while not b.done and idle < MAX_IDLE:
        trial = study.ask()
        choice = [OPS.index(trial.suggest_categorical(f"e{i}", list(OPS)))
                  for i in range(n_edges)]
        row = sc.row(choice)
        if sc.budget is not None:
            trial.set_user_attr("c", float(sc.lat[row] - sc.budget)
                                if row in b.known_lat or b.lookups_left > 0 else 0.0)
        if row in b.seen:
            idle += 1
            study.tell(trial, float(sc.acc[row]))
            continue
        if not b.looks_feasible(row):
            idle += 1
            floor = min((sc.acc[r] for r in b.trained), default=0.0)
            study.tell(trial, float(floor))
            continue
        idle = 0
        if sc.budget is not None:
            trial.set_user_attr("c", float(sc.lat[row] - sc.budget))
        study.tell(trial, b.train(row))


def iqnas_search(sc: Scenario, b: Budget, seed: int, store: Path) -> None:
    cons = None if sc.budget is None else {sc.device: sc.budget}
    run = iqnas.calibrate("nb201", sc.oracle, sc.acc_metric, cons, b.n, seed=seed,
                          resource_samples=b.lookups_left, store=store, progress=False)
    assert len(run.samples) <= b.n and len(run.lookups) <= b.lookups_left
    b.lookups_left -= len(run.lookups)
    for key in run.samples["key"]:
        b.train(sc.row(sc.oracle.space.parse_key(key).choices))


def run_one(sc: Scenario, method: str, n: int, seed: int, workdir: Path) -> dict:
    b = Budget(sc, n, LOOKUPS_PER_TRAINED * n)
    start = b.lookups_left
    rng = np.random.default_rng([seed, n, METHODS.index(method)])
    t0 = time.perf_counter()
    if method == "iqnas":
        iqnas_search(sc, b, seed, workdir / f"{sc.name}-s{seed}-n{n}.db")
    elif method == "REA":
        rea(sc, b, rng)
    elif method == "random":
        random_search(sc, b, rng)
    else:
        optuna_search(sc, b, method, seed)
    wall = time.perf_counter() - t0
    row = b.best()
    assert len(b.trained) <= n
    if row is not None:
        assert sc.ok[row], (method, row)           # every reported network truly feasible
    return {"scenario": sc.name, "method": method, "n": n, "seed": seed, "wall": wall,
            "trained": len(b.trained), "lookups": start - b.lookups_left,
            "feasible_trained": int(sum(bool(sc.ok[r]) for r in b.trained)),
            "acc": None if row is None else float(sc.acc[row]),
            "regret": None if row is None else sc.optimum - float(sc.acc[row]),
            "key": None if row is None else str(sc.keys[row])}


# ---- summarising ------------------------------------------------------------------------------
def _mean(vals) -> float | None:
    got = [v for v in vals if v is not None]
    return float(np.mean(got)) if got else None


def regret_table(runs: list[dict], n: int, scenarios: list[str]) -> tuple[list[str], dict]:
    """Markdown rows (scenario x method mean regret at ``n``) and the means per method."""
    methods = [m for m in METHODS if any(r["method"] == m for r in runs)]
    lines = ["| scenario | " + " | ".join(methods) + " | seeds |",
             "|---|" + "---|" * (len(methods) + 1)]
    per: dict[str, dict[str, float]] = {m: {} for m in methods}
    for s in scenarios:
        mine = [r for r in runs if r["scenario"] == s and r["n"] == n]
        if not mine:
            continue
        cells = []
        for m in methods:
            vals = [r["regret"] for r in mine if r["method"] == m]
            v = _mean(vals)
            miss = sum(1 for x in vals if x is None)
            if v is not None:
                per[m][s] = v
            cells.append("-" if v is None else f"{v:.2f}" + (f" ({miss} none)" if miss else ""))
        seeds = len({r["seed"] for r in mine})
        lines.append(f"| {s} | " + " | ".join(cells) + f" | {seeds} |")
    return lines, per


def targets(runs: list[dict]) -> list[str]:
    """The issue-12 targets, each with its figure and met / not met (on what was run)."""
    out = []
    c100 = [s for s in C100 if any(r["scenario"] == s and r["n"] == 100 for r in runs)]
    if c100:
        _, per = regret_table(runs, 100, c100)
        iq, gp = per.get("iqnas", {}), per.get("GP", {})
        mean = float(np.mean(list(iq.values()))) if iq else float("nan")
        wins = [s for s in c100 if s in iq and s in gp and iq[s] <= gp[s]]
        out.append(f"* CIFAR-100, {len(c100)} of the 7 scenarios, N = 100: iqnas mean regret "
                   f"{mean:.2f} (target <= 0.20: {'met' if mean <= 0.20 else 'not met'}); "
                   f"iqnas <= GP in {len(wins)} of {len(c100)} "
                   f"({'met' if len(wins) == len(c100) else 'not met'}).")
    fpga = [s for s in C100 if "fpga" in s or s.endswith("none")]
    ns = sorted({r["n"] for r in runs})
    misses, cells = [], 0
    for s in fpga:
        for n in ns:
            mine = [r for r in runs if r["scenario"] == s and r["n"] == n]
            if not mine:
                continue
            acc = {m: _mean(r["acc"] for r in mine if r["method"] == m) for m in METHODS}
            peers = [v for m, v in acc.items() if m != "iqnas" and v is not None]
            if acc.get("iqnas") is None or not peers:
                continue
            cells += 1
            if acc["iqnas"] < max(peers):
                misses.append(f"{s} N={n} ({acc['iqnas']:.2f} vs {max(peers):.2f})")
    if cells:
        out.append(f"* NB201 search table budgets (fpga 10/30/50 %, none), every N run: iqnas >= "
                   f"the best peer's mean accuracy in {cells - len(misses)} of {cells} cells "
                   f"({'met' if not misses else 'not met: ' + '; '.join(misses)}).")
    c10 = [s for s in C10 if any(r["scenario"] == s and r["n"] == 100 for r in runs)]
    if c10:
        _, per = regret_table(runs, 100, c10)
        iq, gp = per.get("iqnas", {}), per.get("GP", {})
        mean = float(np.mean(list(iq.values()))) if iq else float("nan")
        both = [s for s in c10 if s in iq and s in gp]
        iq_b = float(np.mean([iq[s] for s in both])) if both else float("nan")
        gp_b = float(np.mean([gp[s] for s in both])) if both else float("nan")
        verdict = ("not met" if mean > 0.25 else "GP not run: <= GP unchecked" if not both
                   else "met" if iq_b <= gp_b else "not met")
        out.append(f"* CIFAR-10 phones, {len(c10)} of 9 scenarios, N = 100: iqnas mean regret "
                   f"{mean:.2f}; on the {len(both)} scenario(s) GP ran, iqnas {iq_b:.2f} vs GP "
                   f"{gp_b:.2f} (target <= 0.25 and <= GP: {verdict}).")
    bad = [r for r in runs if r["acc"] is None and not r["scenario"].endswith("none")]
    out.append(f"* Every reported network truly feasible: checked in every run (asserted); "
               f"{len(bad)} run(s) reported no network.")
    return out


def section(runs: list[dict], info: dict, command: str) -> str:
    scenarios = list(dict.fromkeys(r["scenario"] for r in runs))
    ns = sorted({r["n"] for r in runs})
    seeds = sorted({r["seed"] for r in runs})
    parts = [*section_head(SECTION, info, command),
             f"Mean regret (the table's constrained optimum minus the true accuracy of the "
             f"network a method reports) over seeds {seeds[0]}..{seeds[-1]}; every method has N "
             f"trained networks and {LOOKUPS_PER_TRAINED} N latency look-ups (see the module "
             "docstring of `benchmarks/efficiency_bench.py` for how each method spends them). "
             "'(k none)': runs that trained no feasible network.", ""]
    for n in ns:
        lines, _ = regret_table(runs, n, scenarios)
        parts += [f"**N = {n}**", "", *lines, ""]
    walls = {m: np.median([r["wall"] for r in runs if r["method"] == m]) for m in METHODS
             if any(r["method"] == m for r in runs)}
    counts = []
    for m in walls:
        mine = [r for r in runs if r["method"] == m]
        counts.append(f"{m} {len(mine)} runs (seeds {sorted({r['seed'] for r in mine})}, N "
                      f"{sorted({r['n'] for r in mine})})")
    parts += ["Runs per method: " + "; ".join(counts) + ". A cell averages the seeds that "
              "method ran; the *seeds* column is the most any method ran.", ""]
    parts += ["Median seconds per run: " + ", ".join(f"{m} {w:.2f}" for m, w in walls.items())
              + ".", "", "Targets (issue 12), on the configuration above:", "", *targets(runs),
              ""]
    return "\n".join(parts)


def headline(runs: list[dict]) -> Headline:
    n = 100 if any(r["n"] == 100 for r in runs) else max(r["n"] for r in runs)
    scen = list(dict.fromkeys(r["scenario"] for r in runs))
    _, per = regret_table(runs, n, scen)
    cells = [f"{m} {np.mean(list(v.values())):.2f}" for m, v in per.items() if v]
    return Headline(MEASURES, f"N = {n}, mean regret over {len(scen)} scenarios: "
                    + ", ".join(cells), "CIFAR-100 N = 100 mean regret <= 0.20 and <= GP in "
                    "every scenario; iqnas >= best peer at every N (fpga); CIFAR-10 phones "
                    "<= 0.25")


def merged_results(paths: list[Path]) -> tuple[dict, str, list[dict]]:
    """The runs of several results files, one per (scenario, method, N, seed) (the last file
    that has it wins), with the first file's machine info and every file's command joined by
    ``&&`` (a file without a header adds none)."""
    runs, info, command = merge_runs(
        paths, lambda r: (r["scenario"], r["method"], r["n"], r["seed"]))
    return info, command, runs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenarios", nargs="+", default=C100 + C10)
    ap.add_argument("--seeds", type=int, default=10,
                    help="how many seeds (default 10), from --seed-start on")
    ap.add_argument("--seed-start", type=int, default=0, help="the first seed (default 0)")
    ap.add_argument("--n", type=int, nargs="+", default=list(DEFAULT_N),
                    help="trained networks per run (default 25 50 100 200)")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    add_output_options(ap, RESULTS / "efficiency_bench.jsonl", record="run")
    ap.add_argument("--merge", type=Path, nargs="+", default=[],
                    help="with --report-only: more results files (e.g. runs of other seeds or "
                         "methods made apart) read after it; a later run of the same scenario, "
                         "method, N and seed replaces an earlier one")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if args.report_only:
        info, command, runs = merged_results([args.report_only, *args.merge])
    else:
        info, command = new_run("efficiency_bench", argv, as_module=bool(__package__))
        runs = []
        scenarios = [Scenario(s) for s in args.scenarios]
        with results_writer(args.jsonl, info, command) as write, \
                tempfile.TemporaryDirectory() as tmp:
            for sc in scenarios:
                for seed in range(args.seed_start, args.seed_start + args.seeds):
                    for n in args.n:
                        for m in args.methods:
                            rec = run_one(sc, m, n, seed, Path(tmp))
                            runs.append(rec)
                            write(rec)
                    print(f"{sc.name} seed {seed}: " + ", ".join(
                        f"{r['method']} {r['regret']}" for r in runs
                        if r["scenario"] == sc.name and r["seed"] == seed
                        and r["n"] == max(args.n)), flush=True)
    text = section(runs, info, command)
    print("\n" + text)
    publish_section(args.out, SECTION, text, summary_row(SECTION, headline(runs), info, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
