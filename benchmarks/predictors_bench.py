"""Predictor comparison of issue 15 on the embedded NB201 table: quadratic models vs BRP-NAS's GCN.

    python -m benchmarks.predictors_bench                     # everything, writes BENCHMARKS.md
    python -m benchmarks.predictors_bench --parts latency --columns help_lat_fpga --out -
    python -m benchmarks.predictors_bench --resume            # continue an interrupted run
    python -m benchmarks.predictors_bench --report-only benchmarks/results/predictors_bench.jsonl

Three parts, each a list of records in one JSON-lines file:

* ``latency``: BRP-NAS's protocol on every LatBench and HELP column: 900 random training cells,
  the next 100 skipped, the rest tested; LatBench's disconnected cells (NaN) are left out before
  the split. ``LinearResourceModel`` vs ``QuadraticResourceModel`` (pairwise, alpha 1e-3, as
  calibration uses) vs ``GCNRegressor``: the fraction of test cells within +/-10 %, Kendall's
  tau and the fit time. The GCN runs every seed on ``--gcn-columns`` and ``--gcn-seeds`` seeds
  on the other columns (it takes a minute or two per fit on this machine).
* ``accuracy``: CIFAR-10 / CIFAR-100 test accuracy from 50 / 100 / 200 random cells: ridge
  (``QuadraticRegressor(terms="linear")``) vs ``PairwiseRanker`` vs ``GCNRanker`` vs BINAS's
  ``MLPRegressor``: Kendall's tau on every other cell, and the best true accuracy found when
  the predictor drives BRP-NAS's search loop with the same number of measured cells (5 rounds:
  random first, then per round the predictor's best half plus random cells from its top
  1/2**r; the exhaustive argmax stands in for the IQP on this enumerable space).
* ``rerank``: ``iqnas.calibrate`` (100 cells, 5 rounds) under a latency budget (a quantile of the
  device's latencies) on the devices where the GCN beat the quadratic latency model, with and
  without ``rerank="gcn"`` (and with the GCN latency filter), over 10 seeds.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(ROOT))

from benchmarks.report import limit_blas_threads  # noqa: E402

limit_blas_threads()

import numpy as np  # noqa: E402

import iqnas  # noqa: E402
from benchmarks.report import (  # noqa: E402
    RESULTS,
    Headline,
    add_output_options,
    command_block,
    machine_line,
    new_run,
    publish_section,
    read_results,
    read_run,
    results_writer,
    section_head,
    summary_row,
)
from iqnas.calibration import (  # noqa: E402
    GCNRanker,
    GCNRegressor,
    LinearResourceModel,
    MLPRegressor,
    PairwiseRanker,
    QuadraticRegressor,
    QuadraticResourceModel,
    quality_report,
)
from iqnas.calibration.rerank import DEFAULT_LOOSEN, RULES  # noqa: E402
from iqnas.calibration.selection import round_sizes  # noqa: E402
from iqnas.calibration.verified import true_optimum  # noqa: E402

SECTION = "## Predictors: quadratic models vs BRP-NAS's GCN"
PARTS = ("latency", "accuracy", "rerank")
LAT_MODELS = ("linear", "quadratic", "gcn")
ACC_MODELS = ("ridge", "pairwise", "gcn", "mlp")
ACC_METRICS = {"cifar10": "test_acc_c10", "cifar100": "test_acc_c100"}
#: the acceptance columns and the other LatBench devices of BRP-NAS's reference table
GCN_COLUMNS = ("latbench_ms_mobile-cpu-snapdragon-855-kryo-485-int8",
               "latbench_ms_embeeded-tpu-edgetpu-int8",
               "latbench_ms_embedded-gpu-jetson-nono-fp16",
               "latbench_ms_mobile-gpu-snapdragon-855-adren0-640-int8",
               "latbench_ms_mobile-dsp-snapdragon-855-hexagon-690-int8",
               "latbench_ms_mobile-gpu-snapdragon-675-adren0-612-int8")
ACCEPT_COLUMNS = GCN_COLUMNS[:2]
#: a near-duplicate of the GTX 1080 Ti column (see the reference notes): never a rerank device
DUPLICATE_COLUMNS = ("latbench_ms_desktop-cpu-core-i7-7820x-fp32",)
N_TRAIN, N_SKIP = 900, 100
RERANK_VARIANTS = ("iqp", "iqp + gcn rerank", "iqp + gcn rerank + filter")
#: the report's words for the re-ranking rules other than the default
RULE_TEXT = {"gcn": "the GCN's order replaces the IQP's",
             "hedge": "the IQP's best k/2 of the candidates keep their place, the GCN orders "
                      "the rest",
             "borda": "ordered by the sum of the IQP's and the GCN's ranks",
             "iqp": "no GCN: the IQP's order kept"}


def latency_columns(table) -> list[str]:
    return [c for c in table.columns if c.startswith(("latbench_ms_", "help_lat_"))]


def _gcn_kw(args) -> dict:
    kw = {"progress": False}
    if args.gcn_epochs is not None:
        kw["epochs"] = args.gcn_epochs
    if args.gcn_hidden is not None:
        kw["hidden"] = args.gcn_hidden
    return kw


# ---- part 1: latency ---------------------------------------------------------------------------
def latency_split(y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """BRP-NAS's split of the cells with a measurement: 900 train, skip 100, test the rest."""
    rows = np.random.default_rng(seed).permutation(np.flatnonzero(np.isfinite(y)))
    return rows[:N_TRAIN], rows[N_TRAIN + N_SKIP:]


def latency_model(name: str, space, seed: int, args):
    if name == "linear":
        return LinearResourceModel(space)
    if name == "quadratic":
        return QuadraticResourceModel(space, terms="pairwise", alpha=1e-3)
    return GCNRegressor(space, seed=seed, **_gcn_kw(args))


def graph_ceiling(y: np.ndarray, groups: np.ndarray) -> float:
    """The largest fraction of cells within +/-10 % that any function of the graph encoding
    can reach: cells with the same graph get the same prediction ``p``, and ``p`` covers the
    values in ``[p / 1.1, p / 0.9]``, so each graph scores its largest such window."""
    ok = np.isfinite(y)
    y, groups = y[ok], groups[ok]
    order = np.lexsort((y, groups))
    y, groups = y[order], groups[order]
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    ends = np.r_[starts[1:], len(y)]
    covered = 0
    for a, b in zip(starts, ends):
        v = y[a:b]
        hi = np.searchsorted(v, v * (1.1 / 0.9), side="right")  # window [v_i, v_i * 1.1/0.9]
        covered += int((hi - np.arange(len(v))).max())
    return covered / len(y)


def ceiling_cases(columns: list[str]) -> list[dict]:
    return [{"part": "ceiling", "column": col} for col in columns]


def run_ceiling(case: dict, data: dict) -> dict:
    if "graph_ids" not in data:
        from iqnas.calibration.graphs import graph_encoding

        oracle = data["oracle"]
        g = graph_encoding(oracle.space).encode_choices(oracle.choices)
        flat = np.concatenate([g.adjacency.reshape(len(g), -1),
                               g.features.reshape(len(g), -1)], axis=1)
        data["graph_ids"] = np.unique(flat, axis=0, return_inverse=True)[1].ravel()
    y = data["table"][case["column"]].to_numpy(dtype=float)
    return {**case, "graph_ceiling": graph_ceiling(y, data["graph_ids"]),
            "n_graphs": int(len(np.unique(data["graph_ids"][np.isfinite(y)])))}


def latency_cases(columns: list[str], args) -> list[dict]:
    out = []
    for col in columns:
        for seed in range(args.seeds):
            for model in LAT_MODELS:
                if model == "gcn" and col not in args.gcn_columns and seed >= args.gcn_seeds:
                    continue
                out.append({"part": "latency", "column": col, "seed": seed, "model": model})
    return out


def run_latency(case: dict, data: dict, args) -> dict:
    space, X = data["space"], data["X"]
    y = data["table"][case["column"]].to_numpy(dtype=float)
    train, test = latency_split(y, case["seed"])
    est = latency_model(case["model"], space, case["seed"], args)
    t0 = time.perf_counter()
    est.fit(X[train], y[train])
    fit_time = time.perf_counter() - t0
    rep = quality_report(y[test], est.predict(X[test]))
    return {**case, "n_train": len(train), "n_test": len(test),
            "n_missing": int((~np.isfinite(y)).sum()), "within_10pct": rep["within_10pct"],
            "kendall_tau": rep["kendall_tau"], "mae": rep["mae"], "fit_time": fit_time}


# ---- part 2: accuracy --------------------------------------------------------------------------
def accuracy_model(name: str, space, seed: int, args):
    if name == "ridge":
        return QuadraticRegressor(space, terms="linear")
    if name == "pairwise":
        return PairwiseRanker(space)
    if name == "gcn":
        return GCNRanker(space, seed=seed, **_gcn_kw(args))
    kw = {"progress": False} if args.mlp_epochs is None else {"progress": False,
                                                              "epochs": args.mlp_epochs}
    return MLPRegressor(space, seed=seed, **kw)


def accuracy_cases(args) -> list[dict]:
    """Seeds outermost, so an interrupted run has every dataset and size at fewer seeds."""
    return [{"part": "accuracy", "dataset": ds, "n": n, "seed": seed, "model": m}
            for seed in range(args.acc_seeds) for ds in args.acc_datasets for n in args.acc_sizes
            for m in ACC_MODELS]


def search_loop(make, X: np.ndarray, y: np.ndarray, n: int, seed: int, rounds: int = 5
                ) -> tuple[float, list[int]]:
    """BRP-NAS's iterative selection driven by a predictor over every cell: the best true
    value among the ``n`` measured cells, and the cells in measuring order."""
    rng = np.random.default_rng([seed, n, 2020])
    sizes = round_sizes(n, rounds)
    measured = [int(i) for i in rng.choice(len(y), sizes[0], replace=False)]
    for r, size in enumerate(sizes[1:], start=1):
        est = make(1000 * seed + r).fit(X[measured], y[measured])
        score = est.predict(X)
        free = np.setdiff1d(np.arange(len(y)), measured)
        order = free[np.argsort(-score[free], kind="stable")]
        k = size // 2
        top = order[:k]
        cut = max(int(len(free) * 0.5 ** r), size)
        pool = order[k:cut]
        rand = rng.choice(pool, size - k, replace=False)
        measured += [int(i) for i in top] + [int(i) for i in rand]
    return float(y[measured].max()), measured


def run_accuracy(case: dict, data: dict, args) -> dict:
    space, X = data["space"], data["X"]
    y = data["table"][ACC_METRICS[case["dataset"]]].to_numpy(dtype=float)
    seed, n = case["seed"], case["n"]
    rows = np.random.default_rng([seed, n, 7]).permutation(len(y))
    train, test = rows[:n], rows[n:]
    t0 = time.perf_counter()
    est = accuracy_model(case["model"], space, seed, args).fit(X[train], y[train])
    fit_time = time.perf_counter() - t0
    rep = quality_report(y[test], est.predict(X[test]))
    t0 = time.perf_counter()
    best, _ = search_loop(lambda s: accuracy_model(case["model"], space, s, args), X, y, n, seed)
    return {**case, "kendall_tau": rep["kendall_tau"], "spearman": rep["spearman"],
            "fit_time": fit_time, "search_best": best, "search_time": time.perf_counter() - t0,
            "optimum": float(y.max())}


# ---- part 3: rerank inside calibration ---------------------------------------------------------
def gcn_wins(records: list[dict]) -> dict[str, float]:
    """Column -> GCN minus quadratic mean within +/-10 % over the seeds both ran, for the
    columns where the GCN is ahead."""
    out = {}
    for col in dict.fromkeys(r["column"] for r in records if r["part"] == "latency"):
        g = {r["seed"]: r["within_10pct"] for r in records if r["part"] == "latency"
             and r["column"] == col and r["model"] == "gcn"}
        q = {r["seed"]: r["within_10pct"] for r in records if r["part"] == "latency"
             and r["column"] == col and r["model"] == "quadratic" and r["seed"] in g}
        if q:
            margin = float(np.mean([g[s] for s in q]) - np.mean(list(q.values())))
            if margin > 0:
                out[col] = margin
    return out


def rerank_devices(records: list[dict], args) -> list[str]:
    if args.rerank_devices != ["auto"]:
        return list(args.rerank_devices)
    wins = {c: m for c, m in gcn_wins(records).items() if c not in DUPLICATE_COLUMNS}
    return sorted(wins, key=lambda c: -wins[c])[:args.rerank_top]


def rerank_cases(devices: list[str], args) -> list[dict]:
    """Every variant x seed x device (seeds before devices, so that an interrupted run has
    every device at fewer seeds); the re-ranked cases record their ``rule`` (``--rerank-rule``,
    default calibrate's)."""
    how = "auto" if args.rerank_devices == ["auto"] else "given"
    seeds = range(args.rerank_seed_start, args.rerank_seed_start + args.rerank_seeds)
    rule = {"rule": args.rerank_rule or RULES[0],
            "loosen": DEFAULT_LOOSEN if args.rerank_loosen is None else args.rerank_loosen}
    return [{"part": "rerank", "device": d, "quantile": args.rerank_quantile, "seed": s,
             "variant": v, "samples": args.rerank_samples, "rounds": args.rerank_rounds,
             "chosen": how, **({} if v == "iqp" else rule)}
            for v in args.rerank_variants for s in seeds for d in devices]


def run_rerank(case: dict, data: dict, args, tmp: Path) -> dict:
    oracle = data["oracle"]
    col = data["table"][case["device"]].to_numpy(dtype=float)
    budget = float(np.nanquantile(col, case["quantile"]))
    budgets = {case["device"]: budget}
    _, opt = true_optimum(oracle, "test_acc_c100", budgets)
    kw = {}
    if case["variant"] != "iqp":
        params = {k: v for k, v in _gcn_kw(args).items() if k != "progress"}
        params.update({k: case[k] for k in ("rule", "loosen") if k in case})
        kw = {"rerank": "gcn", "rerank_filter": case["variant"].endswith("filter"),
              "rerank_params": params}
    t0 = time.perf_counter()
    store = tmp / f"{case['device']}-{case['seed']}-{len(list(tmp.iterdir()))}.db"
    run = iqnas.calibrate("nb201", oracle, "test_acc_c100", budgets, case["samples"],
                          rounds=case["rounds"], seed=case["seed"], store=store,
                          progress=False, **kw)
    best = None if run.best is None else run.best.measured["test_acc_c100"]
    feasible = run.best is not None and oracle.measure(run.best.architecture)[
        case["device"]] <= budget
    return {**case, "budget": budget, "optimum": float(opt["test_acc_c100"]), "best": best,
            "truly_feasible": bool(feasible), "n_samples": len(run.samples),
            "filtered_out": sum(h.get("rerank", {}).get("filtered_out", 0) for h in run.history),
            "lookups": max((int(h.get("lookups", 0)) for h in run.history), default=0),
            "time": time.perf_counter() - t0}


# ---- the report --------------------------------------------------------------------------------
def _mean(rs: list[dict], key: str) -> float:
    vals = [r[key] for r in rs if r.get(key) is not None]
    return float(np.mean(vals)) if vals else float("nan")


def _mean_std(rs: list[dict], key: str, digits: int) -> str:
    v = [r[key] for r in rs]
    return "-" if not v else f"{np.mean(v):.{digits}f} ({np.std(v):.{digits}f})"


def _short(col: str) -> str:
    return col.replace("latbench_ms_", "LatBench ").replace("help_lat_", "HELP ")


def latency_lines(recs: list[dict]) -> list[str]:
    lat = [r for r in recs if r["part"] == "latency"]
    if not lat:
        return []
    cols = list(dict.fromkeys(r["column"] for r in lat))
    seeds = sorted({r["seed"] for r in lat})
    lines = ["### Latency (BRP-NAS protocol)", "",
             f"{N_TRAIN} random training cells, the next {N_SKIP} skipped, the rest tested; "
             "LatBench's cells without a measurement (the 341 disconnected cells, a few more "
             "on some devices: the `missing` column) are left out before the split, as BRP-NAS "
             "does. Mean over the seeds of the fraction of test cells predicted within +/-10 % "
             "and of Kendall's tau; linear and quadratic models ran seeds "
             f"{seeds[0]}..{seeds[-1]}, the GCN the seeds in its `seeds` column. Bold: the "
             "best within +/-10 %. `graph ceiling`: the largest fraction within +/-10 % that "
             "any predictor of BRP-NAS's graph encoding can reach on the column (cells with "
             "the same graph get the same prediction; the encoding drops skip connections and "
             "operations off every input-to-output path, which the HELP latencies, measured "
             "on the full networks, still pay for).", "",
             "| column | missing | test | within 10 %: linear | quadratic | GCN | GCN seeds | "
             "graph ceiling | tau: linear | quadratic | GCN |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    ceiling = {r["column"]: r["graph_ceiling"] for r in recs if r["part"] == "ceiling"}
    for col in cols:
        rs = {m: [r for r in lat if r["column"] == col and r["model"] == m] for m in LAT_MODELS}
        w = {m: _mean(rs[m], "within_10pct") for m in LAT_MODELS}
        best = max((v for v in w.values() if v == v), default=None)
        cell = {m: ("-" if w[m] != w[m] else
                    (f"**{w[m]:.3f}**" if w[m] == best else f"{w[m]:.3f}")) for m in LAT_MODELS}
        tau = {m: _mean(rs[m], "kendall_tau") for m in LAT_MODELS}
        tau_s = {m: "-" if tau[m] != tau[m] else f"{tau[m]:.3f}" for m in LAT_MODELS}
        any_r = rs["linear"][0] if rs["linear"] else next(iter(r for v in rs.values() for r in v))
        gseeds = ",".join(str(r["seed"]) for r in rs["gcn"]) or "-"
        ceil = f"{ceiling[col]:.3f}" if col in ceiling else "-"
        lines.append(f"| {_short(col)} | {any_r['n_missing']} | {any_r['n_test']} | "
                     f"{cell['linear']} | {cell['quadratic']} | {cell['gcn']} | {gseeds} | "
                     f"{ceil} | {tau_s['linear']} | {tau_s['quadratic']} | {tau_s['gcn']} |")
    lines += [""]
    fit = {m: [r["fit_time"] for r in lat if r["model"] == m] for m in LAT_MODELS}
    if fit["gcn"]:
        lines.append(f"Fit time on {N_TRAIN} cells (median / max over all fits): linear "
                     f"{np.median(fit['linear']):.3f} / {np.max(fit['linear']):.3f} s, quadratic "
                     f"{np.median(fit['quadratic']):.3f} / {np.max(fit['quadratic']):.3f} s, "
                     f"GCN {np.median(fit['gcn']):.1f} / {np.max(fit['gcn']):.1f} s "
                     f"({len(fit['gcn'])} fits; acceptance: under 300 s).")
        lines.append("")
    checks = []
    for col in ACCEPT_COLUMNS:
        q = _mean([r for r in lat if r["column"] == col and r["model"] == "quadratic"],
                  "within_10pct")
        li = _mean([r for r in lat if r["column"] == col and r["model"] == "linear"],
                   "within_10pct")
        if q == q:
            ok = q >= 0.78 and q - li >= 0.08
            checks.append(f"{_short(col)}: quadratic {q:.3f}, {q - li:+.3f} over linear "
                          f"({'pass' if ok else 'FAIL'})")
    if checks:
        lines += ["Acceptance (quadratic >= 0.78 within +/-10 % and >= 0.08 above linear): "
                  + "; ".join(checks) + ".", ""]
    wins = gcn_wins(recs)
    ran = {r["column"] for r in lat if r["model"] == "gcn"}
    if ran:
        names = ", ".join(f"{_short(c)} ({m:+.3f})" for c, m in
                          sorted(wins.items(), key=lambda kv: -kv[1])) or "none"
        lines += [f"The GCN beats the quadratic model (mean within +/-10 %, over the seeds "
                  f"both ran) on {len(wins)} of the {len(ran)} columns it ran: {names}.", ""]
    return lines


def accuracy_lines(recs: list[dict]) -> list[str]:
    acc = [r for r in recs if r["part"] == "accuracy"]
    if not acc:
        return []
    lines = ["### Accuracy predictors", "",
             "Mean (std) over the `seeds` of each row. Kendall's tau of the predictor fitted "
             "on `n` random cells, on every other cell; `search best`: the best true test accuracy "
             "among the `n` cells measured when the predictor drives BRP-NAS's 5-round "
             "selection (table optimum: "
             + ", ".join(f"{ds} {_mean([r for r in acc if r['dataset'] == ds], 'optimum'):.2f}"
                         for ds in dict.fromkeys(r["dataset"] for r in acc)) + ").", "",
             "| dataset | n | seeds | tau: ridge | pairwise | GCN | MLP | search best: ridge | "
             "pairwise | GCN | MLP | fit s: GCN | MLP |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for ds in dict.fromkeys(r["dataset"] for r in acc):
        for n in sorted({r["n"] for r in acc if r["dataset"] == ds}):
            rs = {m: [r for r in acc if r["dataset"] == ds and r["n"] == n and r["model"] == m]
                  for m in ACC_MODELS}

            taus = " | ".join(_mean_std(rs[m], "kendall_tau", 3) for m in ACC_MODELS)
            best = " | ".join(_mean_std(rs[m], "search_best", 2) for m in ACC_MODELS)
            fits = " | ".join(f"{_mean(rs[m], 'fit_time'):.1f}" for m in ("gcn", "mlp"))
            seeds = min(len(v) for v in rs.values())
            lines.append(f"| {ds} | {n} | {seeds} | {taus} | {best} | {fits} |")
    return lines + [""]


def rerank_lines(recs: list[dict]) -> list[str]:
    rr = [r for r in recs if r["part"] == "rerank"]
    if not rr:
        return []
    lines = ["### GCN re-ranking inside calibration", "",
             "`iqnas.calibrate(\"nb201\", oracle, \"test_acc_c100\", {device: budget}, "
             f"{rr[0]['samples']}, rounds={rr[0]['rounds']})`, the budget the "
             f"{rr[0]['quantile']:.0%} quantile of the device's latencies; `iqp`: "
             "calibrate's defaults (pairwise ranker, IQP top-k; since issue 12 also "
             "resource-only look-ups screening the candidates and the latency model chosen "
             "by out-of-fold RMSE); `+ gcn rerank`: `rerank=\"gcn\"` with its defaults (while "
             f"look-ups last the IQP plans within {DEFAULT_LOOSEN:g} x the budget, its 4 x k "
             "best candidates are ordered by a GCNRanker fitted on the trained samples, and "
             "they are looked up in that order until k pass the true budget, then the IQP's "
             "further answers; `iqp` screens its own k in the IQP's order within the budget)"
             + "".join(f"; `({_config_name(u)})`: `rerank_params={_config_params(u)}` "
                       f"({_config_text(u)})" for u in _configs(rr) if u != RULES[0])
             + ("; `+ filter`: also `rerank_filter=True` (a GCNRegressor of the latency sets "
                "aside candidates it predicts over budget)"
                if any(r["variant"].endswith("filter") for r in rr) else "")
             + ". Best truly feasible test accuracy found, mean (std) over "
             "the seeds, and per seed; `change`: mean (std) over the seeds of the "
             "difference to `iqp` with the same seed. "
             + ("Devices: the columns where the GCN's lead over the quadratic latency model "
                "(within +/-10 %, above) is largest, LatBench's desktop CPU column (a "
                "near-duplicate of its GPU column) left out."
                if rr[0].get("chosen") == "auto" else "Devices as given on the command line."),
             "",
             "| device | budget ms | optimum | variant | mean best | seeds | per seed | "
             "change | vs iqp (wins/ties/losses) | truly feasible | mean look-ups | median s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    summary, verdict, pooled, others, other_verdicts = [], [], [], {}, {}
    rules = _configs(rr)
    for dev in dict.fromkeys(r["device"] for r in rr):
        base = {r["seed"]: r["best"] for r in rr if r["device"] == dev and r["variant"] == "iqp"}
        for v, rule in [(w, u) for w in RERANK_VARIANTS
                        for u in (rules if w != "iqp" else [None])]:
            rs = sorted((r for r in rr if r["device"] == dev and r["variant"] == v
                         and _rule(r) == rule), key=lambda r: r["seed"])
            if not rs:
                continue
            name = _variant_name(v, rule)
            vals = [r["best"] if r["best"] is not None else float("nan") for r in rs]
            cmp = [(r["best"] or 0) - (base.get(r["seed"]) or 0) for r in rs
                   if r["seed"] in base]
            wtl = "-" if v == "iqp" else _wins_ties_losses(cmp)
            change = ("-" if v == "iqp" or not cmp
                      else f"{np.mean(cmp):+.2f} ({np.std(cmp):.2f})")
            if v == "iqp + gcn rerank" and rule == RULES[0]:
                pooled += cmp
            elif v == "iqp + gcn rerank" and cmp:
                others.setdefault(rule, []).extend(cmp)
                other_verdicts.setdefault(rule, []).append(
                    f"{_short(dev)}: {np.mean(cmp):+.2f} points over {len(cmp)} seeds "
                    f"({_verdict(cmp)}{'' if len(cmp) >= 10 else ', fewer than 10 seeds'})")
            lines.append(f"| {_short(dev)} | {rs[0]['budget']:.3f} | {rs[0]['optimum']:.2f} | "
                         f"{name} | {np.nanmean(vals):.2f} ({np.nanstd(vals):.2f}) | {len(rs)} | "
                         f"{' '.join(f'{x:.2f}' for x in vals)} | {change} | {wtl} | "
                         f"{sum(r['truly_feasible'] for r in rs)}/{len(rs)} | "
                         f"{_mean_lookups(rs)} | {np.median([r['time'] for r in rs]):.0f} |")
            if v != "iqp" and cmp:
                summary.append(f"{_short(dev)} {name}: {np.mean(cmp):+.2f}")
            if v == "iqp + gcn rerank" and rule == RULES[0] and cmp:
                verdict.append(f"{_short(dev)}: {np.mean(cmp):+.2f} points over {len(cmp)} "
                               f"seeds ({_verdict(cmp)}"
                               f"{'' if len(cmp) >= 10 else ', fewer than 10 seeds'})")
    if summary:
        lines += ["", "Mean change of the best accuracy found against `iqp`, same seeds: "
                  + "; ".join(summary) + "."]
    for rule, diffs in [(RULES[0], pooled), *others.items()]:
        if diffs:
            lines += ["", f"`{_variant_name('iqp + gcn rerank', rule)}` over all {len(diffs)} "
                      f"device-seed pairs: {np.mean(diffs):+.2f} points (std "
                      f"{np.std(diffs):.2f}), wins/ties/losses {_wins_ties_losses(diffs)}; "
                      f"{_verdict(diffs)}."]
    if verdict:
        lines += ["", "Acceptance (`--rerank gcn` improves the mean best accuracy found with "
                  "100 samples, 10 seeds, on the devices where the GCN latency model beats the "
                  "quadratic one): " + "; ".join(verdict) + "."]
    for rule, vs in other_verdicts.items():
        lines += ["", f"The same with `{_variant_name('iqp + gcn rerank', rule)}`: "
                  + "; ".join(vs) + "."]
    return lines + [""]


def _rule(rec: dict) -> tuple | None:
    """A re-ranked record's (rule, loosen): ``gcn`` for records made before rules existed, 1
    (no loosening) for those made before ``loosen``; RULES[0] is calibrate's default."""
    if rec["variant"] == "iqp":
        return None
    key = (rec.get("rule", "gcn"), float(rec.get("loosen", 1.0)))
    return RULES[0] if key == (RULES[0], DEFAULT_LOOSEN) else key


def _configs(rr: list[dict]) -> list:
    """The re-ranked records' configurations, calibrate's default first."""
    found = {_rule(r) for r in rr if r["variant"] != "iqp"}
    return sorted(found, key=lambda u: (u != RULES[0], str(u)))


def _config_name(rule) -> str:
    rule, loosen = (RULES[0], DEFAULT_LOOSEN) if rule == RULES[0] else rule
    return (f"rule {rule}" if loosen == DEFAULT_LOOSEN
            else f"loosen {loosen:g}" if rule == RULES[0] else f"rule {rule}, loosen {loosen:g}")


def _config_params(rule) -> str:
    rule, loosen = rule
    return json.dumps({"rule": rule, "loosen": loosen})


def _config_text(rule) -> str:
    rule, loosen = rule
    return (RULE_TEXT[rule] + "; " + (f"the IQP plans within {loosen:g} x the budget"
                                      if loosen > 1 else "the IQP plans within the budget"))


def _variant_name(variant: str, rule) -> str:
    """The table's name of a variant: the default configuration's runs carry the variant's
    name."""
    return variant if rule in (None, RULES[0]) else f"{variant} ({_config_name(rule)})"


def _mean_lookups(rs: list[dict]) -> str:
    """The mean look-ups of the runs that recorded them ("-" if none did)."""
    vals = [r["lookups"] for r in rs if r.get("lookups") is not None]
    return f"{np.mean(vals):.0f}" if vals else "-"


def _verdict(diffs: list[float]) -> str:
    """"improves" / "worse" when the mean paired change is more than two standard errors
    from 0, else "within seed noise"."""
    mean = float(np.mean(diffs))
    se = float(np.std(diffs, ddof=1) / np.sqrt(len(diffs))) if len(diffs) > 1 else np.inf
    if abs(mean) > 2 * se:
        return "improves" if mean > 0 else "worse"
    return f"within seed noise, 2 standard errors {2 * se:.2f}"


def _wins_ties_losses(diffs: list[float]) -> str:
    return (f"{sum(c > 1e-9 for c in diffs)}/{sum(abs(c) <= 1e-9 for c in diffs)}/"
            f"{sum(c < -1e-9 for c in diffs)}")


def _settings_line(settings: dict) -> list[str]:
    if not settings:
        return []
    return ["Settings: " + ", ".join(f"{k} {v}" for k, v in settings.items()) + ".", ""]


def section(recs: list[dict], info: dict, command: str, settings: dict,
            merged: list[dict] = ()) -> str:
    """The BENCHMARKS.md section; ``merged``: the headers of the other results files whose
    records ``recs`` include (each named with its machine line, command and settings)."""
    lines = [*section_head(SECTION, info, command), *_settings_line(settings)]
    for head in merged:
        parts = ", ".join(head.get("parts", ())) or "no"
        lines += [f"The {parts} records come from another run (first written to "
                  f"`{head.get('file')}`, folded in with `--merge`): "
                  + machine_line(head.get("info", {})), "",
                  *command_block(head.get("command", "")),
                  *_settings_line(head.get("settings", {}))]
    lines += latency_lines(recs) + accuracy_lines(recs) + rerank_lines(recs)
    return "\n".join(lines).rstrip("\n") + "\n"


MEASURES = ("NB201 predictors: linear / quadratic / BRP-NAS GCN latency models (900 train, "
            "5 seeds), accuracy predictors, GCN re-ranking inside calibration")
TARGET = ("quadratic >= 0.78 within +/-10 % and >= linear + 0.08 on Kryo-485 and Edge TPU int8; "
          "GCN fit on 900 cells < 300 s; rerank gain reported")


def headline(recs: list[dict]) -> Headline:
    """The summary row: the acceptance columns, the GCN's fit time, where it wins, and the
    re-ranking's change of the best accuracy found."""
    lat = [r for r in recs if r["part"] == "latency"]
    parts = []
    for col in ACCEPT_COLUMNS:
        q = _mean([r for r in lat if r["column"] == col and r["model"] == "quadratic"],
                  "within_10pct")
        li = _mean([r for r in lat if r["column"] == col and r["model"] == "linear"],
                   "within_10pct")
        if q == q:
            short = "Kryo-485" if "kryo-485" in col else "Edge TPU int8"
            parts.append(f"{short} quadratic {q:.3f} (linear {li:.3f})")
    fits = [r["fit_time"] for r in lat if r["model"] == "gcn"]
    if fits:
        parts.append(f"GCN fit median {np.median(fits):.0f} s, max {np.max(fits):.0f} s")
        wins = gcn_wins(recs)
        ran = {r["column"] for r in lat if r["model"] == "gcn"}
        parts.append(f"GCN beats quadratic on {len(wins)}/{len(ran)} columns")
    rr = [r for r in recs if r["part"] == "rerank"]
    pooled, n_devices = [], 0
    for dev in dict.fromkeys(r["device"] for r in rr):
        base = {r["seed"]: r["best"] for r in rr if r["device"] == dev and r["variant"] == "iqp"}
        cmp = [(r["best"] or 0) - (base[r["seed"]] or 0) for r in rr if r["device"] == dev
               and r["variant"] == "iqp + gcn rerank" and _rule(r) == RULES[0]
               and r["seed"] in base]
        if cmp:
            pooled, n_devices = pooled + cmp, n_devices + 1
            parts.append(f"--rerank gcn {np.mean(cmp):+.2f} points on {_short(dev)} "
                         f"({len(cmp)} seeds)")
    if n_devices > 1:
        parts.append(f"--rerank gcn over all {len(pooled)} device-seeds {np.mean(pooled):+.2f} "
                     f"points (wins/ties/losses {_wins_ties_losses(pooled)})")
    return Headline(MEASURES, "; ".join(parts) or "-", TARGET)


# ---- the run -----------------------------------------------------------------------------------
def case_key(case: dict) -> tuple:
    return tuple(sorted((k, v) for k, v in case.items()
                        if k in ("part", "column", "seed", "model", "dataset", "n", "device",
                                 "quantile", "variant", "samples", "rounds", "rule",
                                 "loosen")))


def fold_results(header: dict, recs: list[dict], paths: list[Path]
                 ) -> tuple[dict, list[dict]]:
    """``recs`` with the records of the results files ``paths`` (a case found again replaces
    the earlier record); the header lists each file's machine, command, settings and parts
    under ``merged``."""
    by_key = {case_key(r): r for r in recs}
    merged = list(header.get("merged", []))
    for path in paths:
        head, more = read_results(path)
        merged.append({"file": path.name, "info": head.get("info", {}),
                       "command": head.get("command", ""), "settings": head.get("settings", {}),
                       "parts": sorted({r["part"] for r in more})})
        by_key.update((case_key(r), r) for r in more)
    return {**header, "merged": merged}, list(by_key.values())


def write_results(path: Path, header: dict, recs: list[dict]) -> None:
    """Rewrite the results file ``path`` with ``header`` and ``recs``."""
    extra = {k: v for k, v in header.items() if k not in ("type", "info", "command")}
    with results_writer(path, header.get("info", {}), header.get("command", ""),
                        **extra) as write:
        for r in recs:
            write(r)


def load_data() -> dict:
    oracle = iqnas.oracles.nb201("cifar100")
    space = oracle.space
    return {"oracle": oracle, "space": space, "table": oracle.table(),
            "X": space.choices_to_onehot(oracle.choices)}


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    ap.add_argument("--columns", nargs="+", default=None,
                    help="latency columns (default every latbench_ms_* and help_lat_* column)")
    ap.add_argument("--seeds", type=int, default=5, help="latency seeds (default 5)")
    ap.add_argument("--gcn-columns", nargs="+", default=list(GCN_COLUMNS),
                    help="columns where the GCN runs every seed (default: 6 LatBench devices)")
    ap.add_argument("--gcn-seeds", type=int, default=1,
                    help="GCN seeds on the other columns (default 1)")
    ap.add_argument("--gcn-epochs", type=int, default=None, help="override the GCNs' epochs")
    ap.add_argument("--gcn-hidden", type=int, default=None, help="override the GCNs' width")
    ap.add_argument("--mlp-epochs", type=int, default=None, help="override the MLP's epochs")
    ap.add_argument("--acc-datasets", nargs="+", choices=tuple(ACC_METRICS),
                    default=list(ACC_METRICS))
    ap.add_argument("--acc-sizes", nargs="+", type=int, default=[50, 100, 200])
    ap.add_argument("--acc-seeds", type=int, default=5)
    ap.add_argument("--rerank-devices", nargs="+", default=["auto"],
                    help="latency columns of the rerank part; auto: the --rerank-top columns "
                         "where the GCN beat the quadratic model by the most (LatBench's "
                         "desktop CPU column, a near-duplicate of its GPU column, left out)")
    ap.add_argument("--rerank-top", type=int, default=2)
    ap.add_argument("--rerank-seeds", type=int, default=10)
    ap.add_argument("--rerank-seed-start", type=int, default=0,
                    help="first rerank seed (tune on seeds apart from the published 0..9)")
    ap.add_argument("--rerank-rule", choices=RULES, default=None,
                    help=f"the re-ranked variants' rule (rerank_params['rule']; default "
                         f"calibrate's, {RULES[0]})")
    ap.add_argument("--rerank-loosen", type=float, default=None,
                    help=f"the re-ranked variants' rerank_params['loosen'] (default "
                         f"calibrate's, {DEFAULT_LOOSEN:g})")
    ap.add_argument("--rerank-samples", type=int, default=100)
    ap.add_argument("--rerank-rounds", type=int, default=5)
    ap.add_argument("--rerank-quantile", type=float, default=0.5)
    ap.add_argument("--rerank-variants", nargs="+", choices=RERANK_VARIANTS,
                    default=list(RERANK_VARIANTS),
                    help="rerank variants, run in this order (each over every device and seed)")
    ap.add_argument("--merge", nargs="+", type=Path, default=[],
                    help="results files of other runs of this benchmark (e.g. one part run "
                         "with other settings) folded into --jsonl (their machine, command "
                         "and settings kept in its header) before the report; a case in "
                         "several files is taken from the last")
    ap.add_argument("--resume", action="store_true",
                    help="keep the records of --jsonl and run only the missing cases")
    add_output_options(ap, RESULTS / "predictors_bench.jsonl", record="model fit or search")
    return ap.parse_args(argv)


def settings_of(args) -> dict:
    out = {"GCN epochs": args.gcn_epochs or "default (regressor 100, ranker 250)",
           "GCN width": args.gcn_hidden or 600, "MLP epochs": args.mlp_epochs or 500}
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.report_only:
        recs, info, command, header = read_run(args.report_only)
        if args.merge:
            header, recs = fold_results(header, recs, args.merge)
            write_results(args.jsonl, header, recs)
        text = section(recs, info, command, header.get("settings", {}),
                       header.get("merged", []))
        print(text)
        publish_section(args.out, SECTION, text,
                        summary_row(SECTION, headline(recs), info, command))
        return 0
    import torch

    torch.set_num_threads(1)
    info, command = new_run("predictors_bench", argv, as_module=bool(__package__))
    old: list[dict] = []
    if args.resume and args.jsonl.exists():
        header, old = read_results(args.jsonl)
        command = header.get("command", command)
    done = {case_key(r) for r in old}
    data = load_data()
    columns = args.columns or latency_columns(data["table"])
    recs = list(old)
    settings = settings_of(args)
    t_start = time.perf_counter()
    with results_writer(args.jsonl, info, command, settings=settings) as write, \
            tempfile.TemporaryDirectory() as tmp:
        for r in old:
            write(r)

        def run_all(cases, fn):
            for case in cases:
                if case_key(case) in done:
                    continue
                rec = fn(case)
                write(rec)
                recs.append(rec)
                done.add(case_key(rec))
                print(f"[{time.perf_counter() - t_start:7.0f} s] "
                      + " ".join(f"{k}={v}" for k, v in rec.items() if k != "part"
                                 and not isinstance(v, float)) + " "
                      + " ".join(f"{k}={v:.4g}" for k, v in rec.items()
                                 if isinstance(v, float)), flush=True)

        if "latency" in args.parts:
            run_all(ceiling_cases(columns), lambda c: run_ceiling(c, data))
            run_all(latency_cases(columns, args), lambda c: run_latency(c, data, args))
        if "rerank" in args.parts:
            devices = rerank_devices(recs, args)
            run_all(rerank_cases(devices, args), lambda c: run_rerank(c, data, args, Path(tmp)))
        if "accuracy" in args.parts:
            run_all(accuracy_cases(args), lambda c: run_accuracy(c, data, args))
    header = {"info": info, "command": command, "settings": settings}
    if args.merge:
        header, recs = fold_results(header, recs, args.merge)
        write_results(args.jsonl, header, recs)
    text = section(recs, info, command, settings, header.get("merged", []))
    print(text)
    publish_section(args.out, SECTION, text, summary_row(SECTION, headline(recs), info, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
