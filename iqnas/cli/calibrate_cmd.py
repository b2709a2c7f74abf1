"""``iqnas calibrate``: measure, fit, select, and report the best truly feasible network."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from iqnas import benchmarks, spaces
from iqnas.calibration import calibrate
from iqnas.cli.common import (
    EXIT_NO_SOLUTION,
    EXIT_OK,
    add_common,
    console,
    parse_budget_spec,
    print_json,
    result_table,
)
from iqnas.errors import InputError


def register(sub) -> None:
    p = sub.add_parser("calibrate", help="fit accuracy and resource models from measured "
                       "networks and find the best truly feasible one",
                       description="Calibrate quadratic models from an oracle's measurements "
                       "(iterative data selection by default). Samples are written to a SQLite "
                       "store as they arrive; rerun with the same --store to resume.")
    p.add_argument("--space", required=True, help="search space name")
    p.add_argument("--oracle", required=True,
                   help="'nb201', 'ofa', or a CSV file of measurements (key column 'arch')")
    p.add_argument("--dataset", default="cifar100", help="nb201 dataset (default cifar100)")
    p.add_argument("--objective", required=True, help="metric to maximise")
    p.add_argument("--constraint", action="append", default=[], metavar="METRIC=BUDGET",
                   help="hard budget on a measured metric (repeatable)")
    p.add_argument("--samples", type=int, default=100, help="networks to measure")
    p.add_argument("--method", choices=("pairwise", "regression"), default="pairwise")
    p.add_argument("--selection", choices=("iterative", "random"), default="iterative")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--initial", choices=("uniform", "stratified"), default="stratified",
                   help="sampler of the first round (and of --selection random)")
    p.add_argument("--solver", default="auto",
                   help="IQP solver in the selection loop (auto: enumerate small spaces, "
                        "else scip)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--store", default=None, help="SQLite sample store (default runs/<time>/)")
    p.add_argument("--save-models", metavar="DIR", default=None,
                   help="write each fitted model as DIR/<metric>.json")
    add_common(p)
    p.set_defaults(func=run)


def make_oracle(spec: str, space, dataset: str = "cifar100"):
    if spec == "nb201":
        return benchmarks.nb201(dataset)
    if spec == "ofa":
        return benchmarks.ofa()
    if spec.endswith(".csv"):
        if not Path(spec).is_file():
            raise InputError(f"oracle CSV file not found: {spec}")
        return benchmarks.csv_oracle(spec, space)
    raise InputError(f"unknown oracle {spec!r}; use nb201, ofa or a .csv file of measurements")


def run(args: argparse.Namespace) -> int:
    space = spaces.get(args.space)
    oracle = make_oracle(args.oracle, space, args.dataset)
    budgets = {}
    for spec in args.constraint:
        name, path, budget = parse_budget_spec(spec)
        if path is not None:
            raise InputError(f"--constraint {spec!r}: calibrate takes METRIC=BUDGET")
        budgets[name] = budget
    cal = calibrate(space, oracle, args.objective, budgets or None, args.samples,
                    method=args.method, selection=args.selection, seed=args.seed,
                    store=args.store, rounds=args.rounds, solver=args.solver,
                    initial=args.initial,
                    progress=None if not args.quiet else False)
    if args.save_models:
        out = Path(args.save_models)
        out.mkdir(parents=True, exist_ok=True)
        for metric, form in cal.models.items():
            form.save(out / f"{metric}.json")
    best = cal.best
    if args.format == "json":
        print_json({"best": None if best is None else best.to_dict(),
                    "true": None if best is None else _true(best),
                    "n_samples": len(cal.samples), "store": str(cal.store_path),
                    "history": cal.history, "elapsed_s": cal.elapsed})
    else:
        t = Table("round", "planned", "measured", "total", title="calibration")
        for h in cal.history:
            t.add_row(*(str(h[k]) for k in ("round", "planned", "measured", "total")))
        console.print(t)
        console.print(f"{len(cal.samples)} samples in {cal.elapsed:.1f} s, store {cal.store_path}")
        if best is not None:
            console.print(result_table(best, title="best truly feasible measured network"))
    if best is None:
        console.print("no measured network meets every budget") if args.format != "json" else None
        return EXIT_NO_SOLUTION
    return EXIT_OK


def _true(res) -> dict:
    return {k[5:]: v for k, v in res.options.items() if k.startswith("true_")}
