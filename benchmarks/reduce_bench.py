"""Search-space reduction benchmark of issue 14 (C-BRED as IQP rows) on NB201 cifar100.

    python benchmarks/reduce_bench.py                      # writes BENCHMARKS.md
    python benchmarks/reduce_bench.py --repeats 1 --quality-seeds 1 --out -
    python benchmarks/reduce_bench.py --report-only benchmarks/results/reduce_bench.jsonl

Cluster quality, for K in ``--ks`` and both scores (``freerea``, the default, and ``naswot``),
with ``iqnas.reduce("nb201", k=K, score=..., seed=s)``; the table's true test accuracies only
judge the selection (it reads the training-free columns):

* the selected cluster's mean accuracy against the whole space's mean, and the best cluster's
  (the oracle's pick among the same K);
* with ``params_M_c100 <= 0.5`` (clusters fitted and scored on the feasible cells): the mean of
  the selected cluster's feasible members against the feasible mean;
* random search: the best true accuracy of 50 (and 10) distinct uniform draws inside the
  cluster (``Cluster.sampler()``) against 50 (10) over the whole space, mean over ``--trials``;
* the 20 best IQP answers under the cell's rows (SCIP, no-good cuts): how many are members by
  nearest centroid.

Seed 0 is the acceptance setting; seeds ``0 .. --quality-seeds - 1`` show the spread.

Solve time: the objective is the ``nb201-fitted`` accuracy model of ``iqnas.testing.instances``
(a pairwise ``QuadraticRegressor`` on all 15,625 accuracies; ``--model ridge`` fits it with a
fixed penalty, faster), solved with SCIP unconstrained and under the fpga-latency budgets of
the ``nb201-fitted`` seeds (10/30/50/70/90 % quantiles), without rows, with the rows of the
cluster reduced under the same budget (``Cluster.linear_constraints``: K-1 Voronoi rows and the
hull rows) and with its Voronoi rows only; every solve is timed (wall, ``iqnas.solve``),
``--repeats`` times in rotated order.
Raw records go to ``benchmarks/results/reduce_bench.jsonl``; the section "Search-space reduction
(issue 14)" of BENCHMARKS.md is rewritten, the others are kept.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from statistics import median

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
from iqnas.calibration import LinearResourceModel, QuadraticRegressor, UniformSampler  # noqa: E402

SECTION = "## Search-space reduction: clusters as IQP constraints"
SCORES = ("freerea", "naswot")
BUDGET = 0.5   # params_M_c100, M
LATENCY = "help_lat_fpga"
QUANTILES = (0.1, 0.3, 0.5, 0.7, 0.9)
TOP = 20
VORONOI = " Voronoi only"


class Table:
    """The NB201 cifar100 table as arrays."""

    def __init__(self) -> None:
        self.oracle = iqnas.oracles.nb201("cifar100")
        self.space = self.oracle.space
        t = self.oracle.table()
        self.choices = self.oracle.choices.astype(np.int64)
        self.X = self.space.choices_to_onehot(self.choices)
        self.acc = t["test_acc_c100"].to_numpy()
        self.params = t["params_M_c100"].to_numpy()
        self.latency = t[LATENCY].to_numpy()


# ---- cluster quality -----------------------------------------------------------------------
def best_of(table: Table, sampler, n: int, trials: int, stream: int) -> float:
    rows = table.oracle.rows
    return float(np.mean([table.acc[rows(sampler.sample_choices(table.space, n, [stream, t]))]
                          .max() for t in range(trials)]))


def quality(table: Table, k: int, score: str, seed: int, trials: int, top: bool,
            objective: iqnas.QuadraticForm | None) -> dict:
    t0 = time.perf_counter()
    cl = iqnas.reduce("nb201", k=k, score=score, seed=seed)
    reduce_time = time.perf_counter() - t0
    labels = cl.assign(table.X)
    inside = labels == cl.index
    means = [float(table.acc[labels == c].mean()) for c in range(cl.k)]
    feasible = table.params <= BUDGET
    clb = iqnas.reduce("nb201", k=k, score=score, seed=seed,
                       constraints={"params_M_c100": BUDGET})
    inside_b = clb.mask(table.choices) & feasible
    rec = {"type": "quality", "k": k, "score": score, "seed": seed, "k_found": cl.k,
           "size": int(inside.sum()), "selected_mean": float(table.acc[inside].mean()),
           "space_mean": float(table.acc.mean()), "best_cluster_mean": max(means),
           "picked_best": bool(means[cl.index] == max(means)),
           "budget_mean": float(table.acc[inside_b].mean()),
           "feasible_mean": float(table.acc[feasible].mean()),
           "budget_size": int(inside_b.sum()), "reduce_time": reduce_time,
           "selected_ops": {n: float(v) for n, v in cl.summary().loc[
               cl.index, list(cl.features.names)].items()}}
    if trials:
        uniform, members = UniformSampler(), cl.sampler()
        for n in (50, 10):
            rec[f"rs{n}_inside"] = best_of(table, members, n, trials, n)
            rec[f"rs{n}_whole"] = best_of(table, uniform, n, trials, n)
        rec["trials"] = trials
    if top and objective is not None:
        res = iqnas.solve_top_k(cl.restrict(iqnas.Problem(table.space, objective)), TOP, "scip")
        archs = [r.architecture for r in res if r.feasible]
        rec["top_n"] = len(archs)
        rec["top_members"] = int((cl.assign(archs) == cl.index).sum()) if archs else 0
    return rec


# ---- solve time ------------------------------------------------------------------------------
def build_objective(table: Table, model: str) -> tuple[iqnas.QuadraticForm, str]:
    t0 = time.perf_counter()
    if model == "fitted":
        from iqnas.testing import instances

        form = instances.make_instance("nb201-fitted", 0).objective
        text = "the `nb201-fitted` accuracy model (`QuadraticRegressor`, CV ridge penalty)"
    else:
        form = QuadraticRegressor(table.space, alpha=1.0, name="accuracy").fit(
            table.X, table.acc).form_
        text = "a pairwise `QuadraticRegressor` (ridge penalty 1) fitted on all accuracies"
    log = f"{text}, fitted in {time.perf_counter() - t0:.1f} s"
    return form, log


def problems(table: Table, objective: iqnas.QuadraticForm
             ) -> list[tuple[str, iqnas.Problem, dict | None]]:
    """(label, problem, the reduction's constraints) per problem."""
    lat = LinearResourceModel(table.space, name=LATENCY, units="ms").fit(
        table.X, table.latency).form_
    out = [("unconstrained", iqnas.Problem(table.space, objective), None)]
    for q in QUANTILES:
        b = float(np.quantile(table.latency, q))
        out.append((f"fpga q{q:g}", iqnas.Problem(table.space, objective, {LATENCY: (lat, b)}),
                    {LATENCY: b}))
    return out


def timed_solve(problem: iqnas.Problem) -> dict:
    t0 = time.perf_counter()
    res = iqnas.solve(problem, "scip")
    return {"wall": time.perf_counter() - t0, "solve_time": res.solve_time, "nodes": res.nodes,
            "status": res.status.value, "objective": res.objective,
            "key": None if res.architecture is None else res.architecture.key}


def solve_records(ks: list[int], probs, repeats: int, write) -> list[dict]:
    """Each problem with and without the rows of the cluster reduced under its own budget."""
    clusters = {(k, label): iqnas.reduce("nb201", k=k, seed=0, constraints=cons)
                for k in ks for label, _, cons in probs}
    out = []
    variants = ["none"] + [f"K={k}" for k in ks] + [f"K={k}{VORONOI}" for k in ks]
    for rep in range(repeats):
        order = variants[rep % len(variants):] + variants[:rep % len(variants)]
        for label, prob, _ in probs:
            for v in order:
                cl = None if v == "none" else clusters[int(v[2:].split()[0]), label]
                if cl is None:
                    restricted = prob
                elif v.endswith(VORONOI):
                    restricted = prob.replace(linear_constraints=cl.voronoi_constraints)
                else:
                    restricted = cl.restrict(prob)
                rec = timed_solve(restricted)
                if cl is not None and rec["key"] is not None:
                    rec["member"] = bool(cl.contains(rec["key"]))
                rec.update(type="solve", problem=label, variant=v, repeat=rep)
                out.append(rec)
                write(rec)
    return out


# ---- report ----------------------------------------------------------------------------------
def _q(records: list[dict], k: int, score: str, seed: int = 0) -> dict | None:
    for r in records:
        if r["type"] == "quality" and (r["k"], r["score"], r["seed"]) == (k, score, seed):
            return r
    return None


def section(records: list[dict], info: dict, command: str, meta: dict) -> str:
    quality_recs = [r for r in records if r["type"] == "quality"]
    ks = sorted({r["k"] for r in quality_recs})
    seeds = sorted({r["seed"] for r in quality_recs})
    lines = section_head(SECTION, info, command)
    lines += [
        "NB201 cifar100, `iqnas.reduce(\"nb201\", k=K, score=S, seed=0)`: k-means (10 starts) on "
        "the op counts of all 15,625 cells, each cluster scored by the mean training-free score "
        "of a seeded 10 % of its members, the best selected. True 200-epoch test accuracies "
        "(the table) only judge the pick. Acceptance: selected mean >= space mean + 5.0; under "
        f"params <= {BUDGET} M >= feasible mean + 4.0; random search of 50 inside beats 50 over "
        "the space by >= 0.5 (mean over "
        f"{quality_recs[0].get('trials', 0) if quality_recs else 0} trials); the top-{TOP} IQP "
        "answers under the cell's rows are members.", "",
        "| score | K | selected mean | space mean | gain | best of K | budget: selected | "
        "feasible mean | gain | rs50 inside | rs50 space | gain | rs10 gain | top-20 members |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for score in SCORES:
        for k in ks:
            r = _q(records, k, score)
            if r is None:
                continue
            rs = ("| - | - | - | - " if "rs50_inside" not in r else
                  f"| {r['rs50_inside']:.2f} | {r['rs50_whole']:.2f} | "
                  f"{r['rs50_inside'] - r['rs50_whole']:+.2f} | "
                  f"{r['rs10_inside'] - r['rs10_whole']:+.2f} ")
            top = f"{r['top_members']}/{r['top_n']}" if "top_n" in r else "-"
            lines.append(
                f"| {score} | {k} | {r['selected_mean']:.2f} | {r['space_mean']:.2f} | "
                f"{r['selected_mean'] - r['space_mean']:+.2f} | {r['best_cluster_mean']:.2f} | "
                f"{r['budget_mean']:.2f} | {r['feasible_mean']:.2f} | "
                f"{r['budget_mean'] - r['feasible_mean']:+.2f} {rs}| {top} |")
    if len(seeds) > 1:
        lines += ["", f"Spread over seeds {seeds[0]}..{seeds[-1]} (the seed drives the k-means "
                  "starts and the scored 10 %): min / median gain, and how many seeds meet the "
                  "bar.", "",
                  "| score | K | gain (min / median) | >= +5.0 | budget gain (min / median) | "
                  ">= +4.0 | rs50 gain (min / median) | >= +0.5 |",
                  "|---|---|---|---|---|---|---|---|"]
        for score in SCORES:
            for k in ks:
                rs = [r for r in quality_recs if (r["k"], r["score"]) == (k, score)]
                if not rs:
                    continue
                g = [r["selected_mean"] - r["space_mean"] for r in rs]
                b = [r["budget_mean"] - r["feasible_mean"] for r in rs]
                s = [r["rs50_inside"] - r["rs50_whole"] for r in rs if "rs50_inside" in r]
                rs_cells = (f"{min(s):+.2f} / {median(s):+.2f} | {sum(x >= 0.5 for x in s)}/"
                            f"{len(s)}" if s else "- | -")
                lines.append(f"| {score} | {k} | {min(g):+.2f} / {median(g):+.2f} | "
                             f"{sum(x >= 5.0 for x in g)}/{len(g)} | {min(b):+.2f} / "
                             f"{median(b):+.2f} | {sum(x >= 4.0 for x in b)}/{len(b)} | "
                             f"{rs_cells} |")
    solves = [r for r in records if r["type"] == "solve"]
    if solves:
        lines += solve_table(solves, meta)
    lines += [""] + findings(records)
    return "\n".join(lines) + "\n"


def headline(records: list[dict]) -> Headline:
    """The summary row: the smallest gain of the selected cluster (default score, seed 0) and the
    largest solve-time ratio with the cluster rows."""
    measures = ("C-BRED clusters on NB201 cifar100: the selected cluster's true mean accuracy, and "
                "SCIP solve time with the cluster's rows")
    q = [r for r in records if r["type"] == "quality" and r["seed"] == 0
         and r["score"] == SCORES[0]]
    parts = []
    if q:
        gain = min(r["selected_mean"] - r["space_mean"] for r in q)
        parts.append(f"selected cluster >= space mean {gain:+.2f} at every K "
                     f"({', '.join(str(r['k']) for r in q)})")
    solves = [r for r in records if r["type"] == "solve" and not r["variant"].endswith(VORONOI)]
    if solves:
        def med(p: str, v: str) -> float:
            return median(r["wall"] for r in solves if (r["problem"], r["variant"]) == (p, v))

        pairs = {(r["problem"], r["variant"]) for r in solves if r["variant"] != "none"}
        worst = max(med(p, v) / med(p, "none") for p, v in pairs)
        parts.append(f"solve time with the rows at most {worst:.2f}x without")
    return Headline(measures, "; ".join(parts) or "no results",
                    "selected mean >= space mean + 5.0; solve time <= 2x")


def solve_table(solves: list[dict], meta: dict) -> list[str]:
    repeats = len({r["repeat"] for r in solves})
    probs = list(dict.fromkeys(r["problem"] for r in solves))
    every = list(dict.fromkeys(r["variant"] for r in solves))
    variants = [v for v in every if not v.endswith(VORONOI)]
    voronoi = [v for v in every if v.endswith(VORONOI)]

    def med(problem: str, v: str) -> float:
        return median(r["wall"] for r in solves if r["problem"] == problem and r["variant"] == v)

    lines = ["", f"Solve time (SCIP, wall time of `iqnas.solve`, median of {repeats} repeats), "
             f"objective {meta.get('objective', '?')}; budgets on `{LATENCY}` (a "
             "`LinearResourceModel`) at quantiles of the table. `K=k`: with the rows of the "
             "cluster `iqnas.reduce` selects under the same latency budget (default score; "
             "`Cluster.linear_constraints`: k-1 Voronoi rows and the hull rows).", "",
             "| problem | " + " | ".join(variants) + " |",
             "|---|" + "---|" * len(variants)]
    bad = {(r["problem"], r["variant"]) for r in solves if r["status"] != "optimal"}
    for p in probs:
        base = med(p, "none")
        cells = [f"{base:.3f}"] + [f"{med(p, v):.3f} ({med(p, v) / base:.2f}x)"
                                   + (" not optimal" if (p, v) in bad else "")
                                   for v in variants[1:]]
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    worst = max((med(p, v) / med(p, "none") for p in probs for v in variants[1:]), default=1.0)
    total = {v: sum(med(p, v) for p in probs) for v in variants}
    overall = max((total[v] / total["none"] for v in variants[1:]), default=1.0)
    members = [r.get("member") for r in solves if "member" in r]

    def nodes(v: str) -> float:
        return median(r["nodes"] for r in solves if r["variant"] == v)

    lines += ["", f"Largest ratio of medians (with rows / without) over problems and K: "
              f"**{worst:.2f}x**; summed over the problems: at most {overall:.2f}x "
              f"(acceptance: <= 2x). Solves proven optimal: "
              f"{sum(r['status'] == 'optimal' for r in solves)}/{len(solves)}; restricted "
              f"answers that are members of their cluster: {sum(members)}/{len(members)}. "
              "Median SCIP nodes: " + ", ".join(f"{v} {nodes(v):g}" for v in variants) + "."]
    if voronoi:
        ratios = {v: max(med(p, v) / med(p, "none") for p in probs) for v in voronoi}
        sums = {v: sum(med(p, v) for p in probs) / total["none"] for v in voronoi}
        lines += ["", "With the Voronoi rows only (no hull rows): "
                  + "; ".join(f"{v[:-len(VORONOI)]}: largest ratio {ratios[v]:.2f}x, summed "
                              f"{sums[v]:.2f}x, median nodes {nodes(v):g}" for v in voronoi)
                  + "."]
    return lines


def findings(records: list[dict]) -> list[str]:
    q = [r for r in records if r["type"] == "quality" and r["seed"] == 0]
    if not q:
        return []
    out = ["Findings:", ""]
    nas = [r for r in q if r["score"] == "naswot" and "rs50_inside" in r]
    fr = [r for r in q if r["score"] == "freerea" and "rs50_inside" in r]
    if nas and fr:
        weak = [r for r in nas if r["rs50_inside"] - r["rs50_whole"] < 0.5]
        if weak:
            ks = ", ".join(str(r["k"]) for r in weak)
            ops = weak[0]["selected_ops"]
            other = _q(records, weak[0]["k"], "freerea")["selected_ops"]
            out.append(f"* NASWOT alone picks a cluster whose mean is high but whose best members "
                       f"are weaker: random search inside it gains less than 0.5 at K = {ks} "
                       f"(at K = {weak[0]['k']} its cluster averages "
                       f"{ops['nor_conv_1x1']:.1f} 1x1 and {ops['nor_conv_3x3']:.1f} 3x3 "
                       f"convolutions per cell, FreeREA's {other['nor_conv_1x1']:.1f} and "
                       f"{other['nor_conv_3x3']:.1f}). FreeREA's combined score (NASWOT + "
                       "LogSynflow + skip), the default, gains "
                       f"{min(r['rs50_inside'] - r['rs50_whole'] for r in fr):+.2f} or more at "
                       "every K.")
    picked = sum(r["picked_best"] for r in q)
    out.append(f"* The training-free pick is the best of the K clusters (by true mean) in "
               f"{picked} of {len(q)} (score, K) cases at seed 0.")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ks", type=int, nargs="+", default=[4, 6, 8, 10])
    ap.add_argument("--quality-seeds", type=int, default=10)
    ap.add_argument("--trials", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--model", choices=("fitted", "ridge"), default="fitted")
    add_output_options(ap, RESULTS / "reduce_bench.jsonl", record="measurement")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.report_only:
        records, info, command, header = read_run(args.report_only)
        meta = header.get("meta", {})
    else:
        info, command = new_run("reduce_bench", argv, as_module=bool(__package__))
        table = Table()
        objective, text = build_objective(table, args.model)
        meta = {"objective": text}
        print(text, flush=True)
        records = []
        with results_writer(args.jsonl, info, command, meta=meta) as write:
            for seed in range(args.quality_seeds):
                for score in SCORES:
                    for k in args.ks:
                        rec = quality(table, k, score, seed, args.trials, seed == 0, objective)
                        records.append(rec)
                        write(rec)
                        print(f"seed {seed} {score:8s} K={k:2d}: selected "
                              f"{rec['selected_mean']:.2f} (space {rec['space_mean']:.2f}), "
                              f"budget {rec['budget_mean']:.2f} (feasible "
                              f"{rec['feasible_mean']:.2f})", flush=True)
            records += solve_records(args.ks, problems(table, objective), args.repeats, write)
    text = section(records, info, command, meta)
    print("\n" + text)
    publish_section(args.out, SECTION, text,
                    summary_row(SECTION, headline(records), info, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
