"""Calibration benchmark on the embedded NB201 table: the best network BRP-NAS iterative selection
finds with 100 measurements, with and without latency budgets.

    python -m benchmarks.calibration_bench                 # 10 seeds, writes BENCHMARKS.md
    python -m benchmarks.calibration_bench --seeds 2 --out -
    python -m benchmarks.calibration_bench --report-only benchmarks/results/calibration_bench.jsonl

Unconstrained: ``iqnas.calibrate`` (PairwiseRanker, iterative selection, 100 measured networks)
against random search with the same 100 networks, on CIFAR-100 and CIFAR-10: the mean best true
test accuracy over the seeds. Constrained: FPGA and Raspberry Pi 4 latency budgets at their 10 /
30 / 50 % quantiles over the table, 100 networks each: the regret (true constrained optimum
enumerated from the table minus the best truly feasible network found).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(ROOT))

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
from iqnas.calibration.verified import true_optimum  # noqa: E402

SECTION = "## Calibration: the best network from 100 measurements"
MEASURES = ("true accuracy of the best network `iqnas.calibrate` finds with 100 measured NB201 "
            "networks, under latency budgets and without")
#: the acceptance threshold of the mean regret over the budgeted runs (points)
MAX_REGRET = 0.5
UNCONSTRAINED = (("cifar100", "test_acc_c100"), ("cifar10", "test_acc_c10"))
DEVICES = ("help_lat_fpga", "help_lat_raspi4")
QUANTILES = (0.1, 0.3, 0.5)


def cases(seeds: int) -> list[dict]:
    """Every (scenario, selection, seed) run of the benchmark, in order."""
    out = []
    for ds, metric in UNCONSTRAINED:
        for selection in ("iterative", "random"):
            out += [dict(dataset=ds, metric=metric, selection=selection, seed=s, device=None,
                         quantile=None) for s in range(seeds)]
    for device in DEVICES:
        for q in QUANTILES:
            out += [dict(dataset="cifar100", metric="test_acc_c100", selection="iterative",
                         seed=s, device=device, quantile=q) for s in range(seeds)]
    return out


def run_case(case: dict, oracles: dict, tmp: Path) -> dict:
    oracle = oracles[case["dataset"]]
    metric = case["metric"]
    budgets = None
    optimum = float(oracle.table()[metric].max())
    if case["device"] is not None:
        b = float(np.quantile(oracle.table()[case["device"]], case["quantile"]))
        budgets = {case["device"]: b}
        optimum = float(true_optimum(oracle, metric, budgets)[1][metric])
    t0 = time.perf_counter()
    run = iqnas.calibrate("nb201", oracle, metric, budgets, 100, selection=case["selection"],
                          seed=case["seed"], store=tmp / f"{len(list(tmp.iterdir()))}.db",
                          progress=False)
    found = run.best.measured[metric]
    feasible = all(oracle.measure(run.best.architecture)[m] <= b
                   for m, b in (budgets or {}).items())
    return {**case, "budget": None if budgets is None else budgets[case["device"]],
            "best": found, "optimum": optimum, "regret": optimum - found,
            "truly_feasible": feasible, "n_samples": len(run.samples),
            "time": time.perf_counter() - t0}


def section(runs: list[dict], info: dict, command: str) -> str:
    lines = [*section_head(SECTION, info, command),
             "Unconstrained, 100 measured networks, mean (std) best true test accuracy over "
             f"{len({r['seed'] for r in runs})} seeds; the table's optimum for reference:", "",
             "| dataset | iterative (pairwise ranker) | random search | gain | optimum |",
             "|---|---|---|---|---|"]
    for ds, _ in UNCONSTRAINED:
        vals = {s: [r["best"] for r in runs if r["dataset"] == ds and r["device"] is None
                    and r["selection"] == s] for s in ("iterative", "random")}
        if not vals["iterative"]:
            continue
        it, rnd = np.mean(vals["iterative"]), np.mean(vals["random"])
        opt = [r["optimum"] for r in runs if r["dataset"] == ds][0]
        lines.append(f"| {ds} | {it:.2f} ({np.std(vals['iterative']):.2f}) | {rnd:.2f} "
                     f"({np.std(vals['random']):.2f}) | {it - rnd:+.2f} | {opt:.2f} |")
    lines += ["", "Latency budgets at quantiles of the table, CIFAR-100, 100 measured networks "
              "per budget: mean regret (true constrained optimum minus the best truly feasible "
              "network found) and how often the optimum itself was found:", "",
              "| device | quantile | budget ms | optimum | mean found | mean regret "
              "| optimum found | truly feasible |", "|---|---|---|---|---|---|---|---|"]
    cons = [r for r in runs if r["device"] is not None]
    for device in DEVICES:
        for q in QUANTILES:
            rs = [r for r in cons if r["device"] == device and r["quantile"] == q]
            if not rs:
                continue
            lines.append(
                f"| {device} | {q:.0%} | {rs[0]['budget']:.3f} | {rs[0]['optimum']:.2f} | "
                f"{np.mean([r['best'] for r in rs]):.2f} | {np.mean([r['regret'] for r in rs]):.2f}"
                f" | {sum(r['regret'] < 1e-9 for r in rs)}/{len(rs)} | "
                f"{sum(r['truly_feasible'] for r in rs)}/{len(rs)} |")
    if cons:
        lines += ["", f"Mean regret over all {len(cons)} constrained runs: "
                  f"**{np.mean([r['regret'] for r in cons]):.3f}** points (acceptance: <= "
                  f"{MAX_REGRET:g}); "
                  f"median calibration time {np.median([r['time'] for r in runs]):.1f} s per run."]
    return "\n".join(lines) + "\n"


def headline(runs: list[dict]) -> Headline:
    """The summary row: the mean regret under budgets and the gain over random search."""
    parts = []
    cons = [r for r in runs if r["device"] is not None]
    if cons:
        feasible = sum(r["truly_feasible"] for r in cons)
        parts.append(f"mean regret {np.mean([r['regret'] for r in cons]):.3f} points over "
                     f"{len(cons)} budgeted runs ({feasible}/{len(cons)} answers truly feasible)")
    for ds, _ in UNCONSTRAINED:
        free = {s: [r["best"] for r in runs if r["dataset"] == ds and r["device"] is None
                    and r["selection"] == s] for s in ("iterative", "random")}
        if free["iterative"] and free["random"]:
            gain = np.mean(free["iterative"]) - np.mean(free["random"])
            parts.append(f"{gain:+.2f} points over random search ({ds}, unconstrained)")
            break
    return Headline(MEASURES, "; ".join(parts) or "-",
                    f"mean regret <= {MAX_REGRET:g} points over the budgeted runs")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    add_output_options(ap, RESULTS / "calibration_bench.jsonl")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.report_only:
        runs, info, command, _ = read_run(args.report_only)
    else:
        info, command = new_run("calibration_bench", argv, as_module=bool(__package__))
        oracles = {ds: iqnas.oracles.nb201(ds) for ds, _ in UNCONSTRAINED}
        runs = []
        with results_writer(args.jsonl, info, command) as write, \
                tempfile.TemporaryDirectory() as tmp:
            for case in cases(args.seeds):
                rec = run_case(case, oracles, Path(tmp))
                write(rec)
                runs.append(rec)
    text = section(runs, info, command)
    print(text)
    publish_section(args.out, SECTION, text, summary_row(SECTION, headline(runs), info, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
