"""``iqnas calibrate``: measure, fit, select, and report the best truly feasible network.

``--mode trained`` (default) models a measured objective such as trained accuracy;
``--mode training-free`` fits the quadratic to FreeREA's combined training-free score instead
(0 trained networks), solves for the top-k candidates and re-ranks them by their exact score.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from iqnas import oracles, spaces
from iqnas.calibration import calibrate, calibrate_training_free, render_reports
from iqnas.cli.common import (
    EXIT_NO_SOLUTION,
    EXIT_OK,
    add_common,
    console,
    measured_table,
    parse_budget_spec,
    print_json,
)
from iqnas.errors import InputError

MODES = ("trained", "training-free")
#: networks measured by default per mode
DEFAULT_SAMPLES = {"trained": 100, "training-free": 300}


def register(sub) -> None:
    p = sub.add_parser("calibrate", help="fit accuracy and resource models from measured "
                       "networks and find the best truly feasible one",
                       description="Calibrate quadratic models from an oracle's measurements "
                       "(iterative data selection by default). Samples are written to a SQLite "
                       "store as they arrive; rerun with the same --store to resume. With "
                       "--mode training-free the model is fitted to the combined training-free "
                       "score of --metrics (no trained network), the IQP's --top-k candidates "
                       "are measured and the best by exact score is reported.")
    p.add_argument("--mode", choices=MODES, default="trained",
                   help="trained: model --objective; training-free: model FreeREA's combined "
                        "score (default trained)")
    p.add_argument("--space", required=True, help="search space name")
    p.add_argument("--oracle", required=True,
                   help="'nb201', 'ofa', 'proxies' (live training-free metrics, torch on CPU), "
                        "or a CSV file of measurements (key column 'arch')")
    p.add_argument("--dataset", default=None, help="nb201 dataset (default cifar100)")
    p.add_argument("--key-column", default="arch",
                   help="CSV oracle: the column of architecture keys (default arch)")
    p.add_argument("--units", action="append", default=[], metavar="METRIC=UNIT",
                   help="CSV oracle: the unit of a metric column, e.g. latency=ms (repeatable)")
    p.add_argument("--objective", default=None, help="metric to maximise (--mode trained)")
    p.add_argument("--constraint", action="append", default=[], metavar="METRIC=BUDGET",
                   help="hard budget on a measured metric (repeatable)")
    p.add_argument("--samples", type=int, default=None,
                   help="networks to measure (default 100 trained, 300 training-free)")
    p.add_argument("--metrics", nargs="+", default=None, metavar="METRIC",
                   help="training-free metrics (default naswot logsynflow skip on nb201, "
                        "naswot logsynflow elsewhere)")
    p.add_argument("--top-k", type=int, default=10,
                   help="IQP candidates measured and re-ranked (--mode training-free)")
    p.add_argument("--method", choices=("pairwise", "regression"), default="pairwise")
    p.add_argument("--selection", choices=("iterative", "random"), default="iterative")
    p.add_argument("--rounds", type=int, default=10,
                   help="selection rounds (at least 10 networks each; default 10)")
    p.add_argument("--explore", type=float, default=1.0,
                   help="random draws may exceed a budget by this many cross-validated RMSEs "
                        "of its model (the IQP solves keep budgets hard; default 1)")
    p.add_argument("--initial", choices=("uniform", "stratified"), default="stratified",
                   help="sampler of the first round (and of --selection random)")
    p.add_argument("--rerank", choices=("gcn",), default=None,
                   help="gcn: each round, a BRP-NAS GCN ranker fitted on the samples so far "
                        "orders the IQP's candidates (all feasible under the fitted budgets) "
                        "and the best are measured (nb201, mobilenet, ofa; needs torch)")
    p.add_argument("--rerank-factor", type=int, default=4,
                   help="--rerank: the IQP proposes this many times the candidates measured "
                        "(default 4)")
    p.add_argument("--rerank-filter", action="store_true",
                   help="--rerank: GCN models of the budgeted metrics set aside candidates "
                        "they predict over budget (the measurement still decides)")
    p.add_argument("--rerank-epochs", type=int, default=None,
                   help="--rerank: training epochs of the GCNs (default 250 ranker, 100 "
                        "filter)")
    p.add_argument("--solver", default="auto",
                   help="IQP solver in the selection loop (auto: enumerate small spaces, "
                        "else scip)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--store", default=None, help="SQLite sample store (default runs/<time>/)")
    p.add_argument("--save-models", metavar="DIR", default=None,
                   help="write each fitted model as DIR/<metric>.json (training-free: "
                        "DIR/score.json and DIR/training_free.json with the normalisation)")
    add_common(p)
    p.set_defaults(func=run)


def parse_units(specs: list[str]) -> dict[str, str]:
    """``["latency=ms", ...]`` as ``{"latency": "ms", ...}``."""
    units = {}
    for spec in specs:
        name, sep, unit = spec.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--units {spec!r}: use METRIC=UNIT, e.g. --units latency=ms")
        units[name.strip()] = unit.strip()
    return units


def run(args: argparse.Namespace) -> int:
    space = spaces.get(args.space)
    csv_kw = {}
    if args.oracle.endswith(".csv"):
        csv_kw = {"key_column": args.key_column, "units": parse_units(args.units)}
    elif args.units or args.key_column != "arch":
        raise InputError("--units and --key-column apply to a CSV oracle (--oracle FILE.csv)")
    oracle = oracles.get(args.oracle, space, dataset=args.dataset, **csv_kw)
    budgets = {}
    for spec in args.constraint:
        name, path, budget = parse_budget_spec(spec)
        if path is not None:
            raise InputError(f"--constraint {spec!r}: calibrate takes METRIC=BUDGET")
        budgets[name] = budget
    n_samples = DEFAULT_SAMPLES[args.mode] if args.samples is None else args.samples
    rerank_set = (args.rerank_filter or args.rerank_epochs is not None
                  or args.rerank_factor != 4)
    if args.rerank is None and rerank_set:
        raise InputError("--rerank-factor, --rerank-filter and --rerank-epochs need --rerank gcn")
    if args.mode == "training-free":
        if args.rerank is not None:
            raise InputError("--rerank is for --mode trained (it re-ranks the IQP candidates of "
                             "the iterative selection)")
        if args.objective is not None:
            raise InputError("--objective is for --mode trained; --mode training-free maximises "
                             "the combined score of --metrics")
        return _run_training_free(args, space, oracle, budgets, n_samples)
    if args.objective is None:
        raise InputError("--objective is required with --mode trained (e.g. --objective "
                         "test_acc_c100); or use --mode training-free")
    if args.metrics is not None:
        raise InputError("--metrics is for --mode training-free; use --objective")
    cal = calibrate(space, oracle, args.objective, budgets or None, n_samples,
                    method=args.method, selection=args.selection, seed=args.seed,
                    store=args.store, rounds=args.rounds, solver=args.solver,
                    initial=args.initial, explore=args.explore,
                    progress=None if not args.quiet else False, rerank=args.rerank,
                    rerank_factor=args.rerank_factor, rerank_filter=args.rerank_filter,
                    rerank_params=None if args.rerank_epochs is None else
                    {"epochs": args.rerank_epochs})
    if args.save_models:
        out = Path(args.save_models)
        out.mkdir(parents=True, exist_ok=True)
        for metric, form in cal.models.items():
            form.save(out / f"{metric}.json")
    best = cal.best
    quality = cal.quality()
    if args.format == "json":
        print_json({"best": None if best is None else best.to_dict(),
                    "true": None if best is None else dict(best.measured),
                    "n_samples": len(cal.samples), "store": str(cal.store_path),
                    "history": cal.history, "elapsed_s": cal.elapsed,
                    "model_quality": _records(quality)})
    else:
        t = Table("round", "planned", "measured", "total", title="calibration")
        for h in cal.history:
            t.add_row(*(str(h[k]) for k in ("round", "planned", "measured", "total")))
        console.print(t)
        console.print(f"{len(cal.samples)} samples in {cal.elapsed:.1f} s, store {cal.store_path}")
        console.print(render_reports(quality.to_dict(orient="index"),
                                     title="model quality (5-fold out-of-fold predictions)"))
        if best is not None:
            console.print(measured_table(best, title="best truly feasible measured network"))
    return _exit_code(best, args.format)


def _exit_code(best, fmt: str) -> int:
    """EXIT_OK with a truly feasible network, else EXIT_NO_SOLUTION (said in table format)."""
    if best is not None:
        return EXIT_OK
    if fmt != "json":
        console.print("no measured network meets every budget")
    return EXIT_NO_SOLUTION


def _records(frame) -> dict:
    """A quality table as JSON-able nested dicts (NaN -> None)."""
    return {m: {k: (None if v != v else v) for k, v in row.items()}
            for m, row in frame.to_dict(orient="index").items()}


def _run_training_free(args: argparse.Namespace, space, oracle, budgets: dict,
                       n_samples: int) -> int:
    run = calibrate_training_free(space, oracle, args.metrics, budgets or None, n_samples,
                                  args.top_k, args.seed, solver=args.solver,
                                  progress=None if not args.quiet else False)
    if args.save_models:
        out = Path(args.save_models)
        out.mkdir(parents=True, exist_ok=True)
        run.model.save(out / "score.json")
        run.save(out / "training_free.json")
    best = run.best
    s = run.samples.set_index("key")
    cands = [{"key": c.key, "predicted": c.objective, "score": float(s.loc[c.key, "score"]),
              "feasible": bool(s.loc[c.key, "feasible"])} for c in run.candidates]
    if args.format == "json":
        print_json({"mode": "training-free", "best": None if best is None else best.to_dict(),
                    "true": None if best is None else dict(best.measured), "candidates": cands,
                    "n_evaluations": run.n_evaluations, "n_trained": run.n_trained,
                    "metrics": run.columns, "normalisation": run.score.to_dict(),
                    "elapsed_s": run.elapsed})
    else:
        t = Table("IQP rank", "candidate", "fitted score", "exact score", "within budgets",
                  title="IQP candidates, re-ranked by exact score")
        order = sorted(range(len(cands)), key=lambda i: -cands[i]["score"])
        for i in order:
            c = cands[i]
            t.add_row(str(i + 1), c["key"], f"{c['predicted']:.4f}", f"{c['score']:.4f}",
                      "yes" if c["feasible"] else "no")
        console.print(t)
        used = ", ".join(f"{m} ({c or 'computed'})" for m, c in run.columns.items())
        console.print(f"{run.n_evaluations} metric evaluations, {run.n_trained} trained "
                      f"networks, {run.elapsed:.1f} s; metrics {used}")
        if best is not None:
            console.print(measured_table(best,
                                         title="best truly feasible network by exact score"))
    return _exit_code(best, args.format)
