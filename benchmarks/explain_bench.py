"""Stability of interpretation: do the contributions `iqnas.explain` reads off a fitted model
keep their order when the model is fitted to other samples?

    python -m benchmarks.explain_bench                      # 5 seeds, OFA and NB201
    python -m benchmarks.explain_bench --seeds 2 --ofa-sizes 300 --nb201-sizes 100 --out -
    python -m benchmarks.explain_bench --report-only benchmarks/results/explain_bench.jsonl

Per case (space, model terms, number of samples) and seed, ``n`` distinct architectures are
drawn with ``StratifiedSampler`` (every option of every group equally often) from the seed, the
objective is measured with the oracle (OFA: the released accuracy predictor, ``acc_ofa_pred`` in
%; NB201: the CIFAR-100 test accuracy of the table, in %), a ``QuadraticRegressor`` is fitted
(ridge penalty by 5-fold cross-validation) and ``iqnas.explain`` gives its main-effect,
interaction, depth and width tables. ``iqnas.interpret.stability`` then compares the tables of
the seeds: per table the mean and smallest Spearman and Kendall correlation over the 10 pairs
of 5 seeds, and the share of rows whose sign is the same in every seed. For OFA the depth and
width contributions per stage are also summarised (mean and spread over seeds) beside BINAS's
reading: depth and width pay most in deeper stages and at the start of each resolution stage.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(ROOT))

from benchmarks.report import limit_blas_threads  # noqa: E402

limit_blas_threads()  # before numpy is imported

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

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
from iqnas.calibration import QuadraticRegressor, StratifiedSampler  # noqa: E402
from iqnas.interpret import stability  # noqa: E402
from iqnas.interpret.bootstrap import KEY  # noqa: E402

SECTION = "## Interpretation: stability of contributions across seeds"
MEASURES = ("rank correlation between the explain tables (main effects, interactions, depth, "
            "width) of models fitted with 5 seeds")
#: space -> (oracle metric of the objective, default sample sizes, model terms)
SPACES = {"ofa": ("acc_ofa_pred", (500, 2000), ("linear", "bilinear")),
          "nb201": ("test_acc_c100", (200, 1000), ("pairwise",))}
TABLES = ["main", "interactions", "depth", "width"]


def oracle_of(space: str):
    return iqnas.oracles.ofa() if space == "ofa" else iqnas.oracles.nb201("cifar100")


def measure(oracle, C: np.ndarray, metric: str) -> np.ndarray:
    if hasattr(oracle, "measure_choices"):
        return oracle.measure_choices(C)[metric]
    return oracle.values(C, metric)


def fit_and_explain(oracle, metric: str, terms: str, n: int, seed: int) -> tuple[pd.DataFrame,
                                                                                  dict]:
    """One seed's explain table and its record (fit time, ridge penalty)."""
    space = oracle.space
    C = StratifiedSampler().sample_choices(space, n, seed=seed)
    y = measure(oracle, C, metric)
    t0 = time.perf_counter()
    est = QuadraticRegressor(space, terms=terms, name=metric, units="%").fit(C, y)
    fit_time = time.perf_counter() - t0
    df = iqnas.explain(est.form_, tables=TABLES, metric=metric)
    return df, {"fit_time": fit_time, "alpha": float(est.alpha_),
                "n_features": int(est.coef_.size)}


def rows_of(df: pd.DataFrame) -> tuple[list[list], list[float]]:
    """The explain rows as keys [table, group, option, reference, group2, option2, stage,
    position] and values (what a results line keeps)."""
    cols = [c for c in KEY if c != "metric"]
    keys = []
    for r in df[cols + ["stage", "position"]].itertuples(index=False):
        k = list(r)
        k[-2] = None if pd.isna(k[-2]) else int(k[-2])
        k[-1] = None if pd.isna(k[-1]) else int(k[-1])
        keys.append(k)
    return keys, [float(f"{v:.8g}") for v in df["value"]]


def resolve_keys(runs: list[dict]) -> list[dict]:
    """Records carry their row keys only when they differ from the previous record of the same
    case (``keys`` absent: the same as that one); give every record its keys."""
    last: dict[tuple, list] = {}
    for r in runs:
        case = (r["space"], r["terms"], r["n"])
        if "keys" in r:
            last[case] = r["keys"]
        else:
            r["keys"] = last[case]
    return runs


def frame_of(keys: list[list], values: list[float], metric: str) -> pd.DataFrame:
    cols = [c for c in KEY if c != "metric"] + ["stage", "position"]
    df = pd.DataFrame(keys, columns=cols)
    df.insert(1, "metric", metric)
    df["value"] = np.asarray(values, dtype=float)
    return df


def cases(ofa_sizes, nb201_sizes) -> list[dict]:
    out = []
    for space, sizes in (("ofa", ofa_sizes), ("nb201", nb201_sizes)):
        metric, _, terms = SPACES[space]
        out += [{"space": space, "metric": metric, "terms": t, "n": n}
                for n in sizes for t in terms]
    return out


# ---- summarising ------------------------------------------------------------------------------
def stability_rows(runs: list[dict]) -> list[dict]:
    """One row per (case, table): the stability of that table over the case's seeds."""
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        groups.setdefault((r["space"], r["terms"], r["n"]), []).append(r)
    out = []
    for (space, terms, n), rs in groups.items():
        tables = [frame_of(r["keys"], r["values"], r["metric"]) for r in rs]
        if len(tables) < 2:
            continue
        for s in stability(tables).to_dict("records"):
            out.append({"space": space, "terms": terms, "n": n, "seeds": len(rs),
                        "fit_time": float(np.median([r["fit_time"] for r in rs])), **s})
    return out


def stage_rows(runs: list[dict], space: str = "ofa") -> list[dict]:
    """Per OFA case and stage: depth (blocks 3 + 4 added) and width (first block, mean of the
    other blocks) as mean and standard deviation over seeds."""
    out = []
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        if r["space"] == space:
            groups.setdefault((r["terms"], r["n"]), []).append(r)
    for (terms, n), rs in groups.items():
        per_seed = []
        for r in rs:
            df = frame_of(r["keys"], r["values"], r["metric"])
            d = df[df["table"] == "depth"].groupby("stage")["value"].sum()
            w = df[df["table"] == "width"].pivot_table(index="stage", columns="position",
                                                       values="value")
            per_seed.append(pd.DataFrame({"depth": d, "width_first": w[1],
                                          "width_rest": w[[2, 3, 4]].mean(axis=1)}))
        stack = np.stack([p.to_numpy() for p in per_seed])
        mean, sd = stack.mean(axis=0), stack.std(axis=0, ddof=1) if len(rs) > 1 else 0 * stack[0]
        for i, stage in enumerate(per_seed[0].index):
            out.append({"terms": terms, "n": n, "stage": int(stage),
                        **{f"{k}_mean": float(mean[i, j]) for j, k in enumerate(per_seed[0])},
                        **{f"{k}_sd": float(sd[i, j]) for j, k in enumerate(per_seed[0])}})
    return out


def stability_table(rows: list[dict]) -> str:
    lines = ["| space | model | samples | seeds | table | rows | Spearman mean (min) | "
             "Kendall mean (min) | same sign in every seed | fit s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['space']} | {r['terms']} | {r['n']:,} | {r['seeds']} | "
                     f"{r['table']} | {r['n_rows']} | **{r['spearman_mean']:.3f}** "
                     f"({r['spearman_min']:.3f}) | {r['kendall_mean']:.3f} "
                     f"({r['kendall_min']:.3f}) | {r['sign_agreement']:.0%} | "
                     f"{r['fit_time']:.1f} |")
    return "\n".join(lines)


def stage_table(rows: list[dict]) -> str:
    lines = ["| model | samples | stage | depth: blocks 3+4 (points) | width e6-e3, block 1 | "
             "width e6-e3, blocks 2-4 (mean) |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['terms']} | {r['n']:,} | {r['stage']} | "
                     f"{r['depth_mean']:.3f} +/- {r['depth_sd']:.3f} | "
                     f"{r['width_first_mean']:.3f} +/- {r['width_first_sd']:.3f} | "
                     f"{r['width_rest_mean']:.3f} +/- {r['width_rest_sd']:.3f} |")
    return "\n".join(lines)


def _largest_case(rows: list[dict], space: str) -> list[dict]:
    sel = [r for r in rows if r["space"] == space]
    if not sel:
        return []
    n = max(r["n"] for r in sel)
    return [r for r in sel if r["n"] == n]


def _best_per_table(rows: list[dict]) -> dict[str, dict]:
    """Per table, the row of the model whose table is the most stable (mean Spearman)."""
    best: dict[str, dict] = {}
    for r in rows:
        if r["table"] not in best or r["spearman_mean"] > best[r["table"]]["spearman_mean"]:
            best[r["table"]] = r
    return best


def reading(stab: list[dict], stages: list[dict]) -> str:
    parts = []
    big = _largest_case(stab, "ofa")
    if big:
        best = _best_per_table(big)
        stable = {t: r for t, r in best.items() if r["spearman_mean"] >= 0.9}
        loose = {t: r for t, r in best.items() if r["spearman_mean"] < 0.9}
        if stable:
            parts.append(f"With {big[0]['n']:,} OFA samples these tables keep their order "
                         "across seeds (mean Spearman, the most stable model): " + ", ".join(
                             f"{t} {r['spearman_mean']:.2f} (min {r['spearman_min']:.2f}, "
                             f"{r['terms']})" for t, r in stable.items()) + ".")
        if loose:
            parts.append("Less stable: " + ", ".join(
                f"{t} {r['spearman_mean']:.2f} ({r['terms']})" for t, r in loose.items())
                + "; single rows of these tables should not be read one by one at this "
                "sample size.")
    if stages:
        n = max(r["n"] for r in stages)
        for terms in dict.fromkeys(r["terms"] for r in stages):
            sel = {r["stage"]: r for r in stages if r["n"] == n and r["terms"] == terms}
            deep = np.mean([sel[s]["depth_mean"] for s in (4, 5) if s in sel])
            shallow = np.mean([sel[s]["depth_mean"] for s in (1, 2, 3) if s in sel])
            gap = {s: sel[s]["width_first_mean"] - sel[s]["width_rest_mean"] for s in sel}
            starts = np.mean([gap[s] for s in (1, 2, 3, 5) if s in gap])
            parts.append(f"`{terms}` on {n:,} samples: adding blocks 3 and 4 is worth "
                         f"{deep:.2f} points per stage in stages 4-5 against {shallow:.2f} in "
                         f"stages 1-3; widening the first block of a resolution stage (stages "
                         f"1, 2, 3, 5) pays {starts:+.3f} points more than widening one of its "
                         f"other blocks (stage 4, no resolution change: "
                         f"{gap.get(4, float('nan')):+.3f}).")
    return " ".join(parts)


def section(runs: list[dict], info: dict, command: str) -> str:
    stab, stages = stability_rows(runs), stage_rows(runs)
    seeds = sorted({r["seed"] for r in runs})
    parts = [*section_head(SECTION, info, command, "BLAS single-threaded."),
             f"Seeds {', '.join(map(str, seeds))}; per seed the samples are drawn afresh with "
             "`StratifiedSampler` and measured by the oracle (OFA: the released accuracy "
             "predictor; NB201: the table's CIFAR-100 test accuracy), a `QuadraticRegressor` "
             "is fitted (CV ridge) and explained (`iqnas.explain`, exact averages over "
             "uniformly random architectures). The columns compare the seeds' tables "
             "(`iqnas.interpret.stability`): Spearman and Kendall correlation of the rows' "
             "values, the mean and the smallest over every pair of seeds; main effects without "
             "the reference options. *fit s*: median fit time (with the CV).", "",
             stability_table(stab), "",
             "### OFA depth and width per stage (mean +/- sd over seeds)", "",
             "BINAS (arXiv 2110.12399): *adding depth and width is more effective at deeper "
             "stages of the network and at the beginning of each resolution stage* (stage 4 "
             "keeps the resolution of stage 3; the first block of stages 1, 2, 3 and 5 "
             "downsamples).", "",
             stage_table(stages), "", reading(stab, stages), ""]
    return "\n".join(parts)


def headline(runs: list[dict]) -> Headline:
    stab = stability_rows(runs)
    big = _largest_case(stab, "ofa") or stab
    if not big:
        return Headline(MEASURES, "no case with two seeds")
    n, seeds = big[0]["n"], big[0]["seeds"]
    best = _best_per_table(big)
    figure = (f"{big[0]['space']}, {n:,} samples, {seeds} seeds: mean Spearman between seeds "
              + ", ".join(f"{t} {r['spearman_mean']:.2f} ({r['terms']})"
                          for t, r in best.items()))
    return Headline(MEASURES, figure)


def load_jsonl(path: Path) -> tuple[list[dict], dict, str]:
    runs, info, command, _ = read_run(path)
    return resolve_keys(runs), info, command


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    ap.add_argument("--ofa-sizes", type=int, nargs="*", default=list(SPACES["ofa"][1]))
    ap.add_argument("--nb201-sizes", type=int, nargs="*", default=list(SPACES["nb201"][1]))
    ap.add_argument("--ofa-terms", nargs="+", default=list(SPACES["ofa"][2]),
                    choices=("linear", "bilinear", "pairwise"))
    add_output_options(ap, RESULTS / "explain_bench.jsonl", record="fitted model")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.report_only:
        runs, info, command = load_jsonl(args.report_only)
    else:
        if args.seeds < 2:
            raise SystemExit("need --seeds >= 2 to compare seeds")
        info, command = new_run("explain_bench", argv, as_module=bool(__package__))
        oracles = {s: oracle_of(s) for s in SPACES}
        runs, last = [], {}
        todo = [c for c in cases(args.ofa_sizes, args.nb201_sizes)
                if c["space"] != "ofa" or c["terms"] in args.ofa_terms]
        with results_writer(args.jsonl, info, command) as write:
            for case in todo:
                for seed in range(args.seeds):
                    df, rec = fit_and_explain(oracles[case["space"]], case["metric"],
                                              case["terms"], case["n"], seed)
                    keys, values = rows_of(df)
                    rec = {**case, "seed": seed, **rec, "values": values}
                    here = (case["space"], case["terms"], case["n"])
                    if last.get(here) != keys:
                        rec["keys"] = last[here] = keys
                    write(rec)
                    runs.append({**rec, "keys": keys})
                    print(f"{case['space']:6s} {case['terms']:9s} n={case['n']:5d} seed {seed}"
                          f"  fit {rec['fit_time']:.1f} s", flush=True)
    print()
    print(stability_table(stability_rows(runs)))
    publish_section(args.out, SECTION, section(runs, info, command),
                    summary_row(SECTION, headline(runs), info, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
