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
from iqnas.calibration.rerank import DEFAULT_LOOSEN, RULES, check_rerank
from iqnas.calibration.store import default_store_path, stored_samples
from iqnas.cli.common import (
    EXIT_NO_SOLUTION,
    EXIT_OK,
    SPACE_HELP,
    add_backend_options,
    add_common,
    add_input_shape,
    backend_from_args,
    command_line,
    console,
    err_console,
    measured_table,
    parse_budget_spec,
    print_json,
)
from iqnas.cli.restrict import add_restrict_option, load_restrict
from iqnas.errors import InputError
from iqnas.solve import backend_for

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
    p.add_argument("--space", required=True, help=SPACE_HELP)
    p.add_argument("--oracle", required=True,
                   help="'nb201', 'ofa', 'proxies' (live training-free metrics, torch on CPU), "
                        "'torch' (build and measure each network here: latency_ms, "
                        "param_bytes, peak_activation_bytes, macs; needs --input-shape), "
                        "MODULE:FUNCTION (your function arch -> {metric: value}, e.g. train "
                        "and evaluate), or a CSV file of measurements (key column 'arch')")
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
    p.add_argument("--resource-samples", type=int, default=None, metavar="N",
                   help="resource-only measurements of the budgeted metrics (cheap look-ups "
                        "before a network is trained; default 10 x --samples, 0 for none)")
    p.add_argument("--coverage", type=float, default=0.95,
                   help="coverage of the conformal margins of the resource models "
                        "(default 0.95)")
    p.add_argument("--terms", choices=("auto", "linear", "pairwise"), default="auto",
                   help="objective model terms (auto: chosen by out-of-fold Kendall tau)")
    p.add_argument("--resource-terms", choices=("auto", "linear", "pairwise"), default="auto",
                   help="resource model terms (auto: chosen by out-of-fold RMSE)")
    p.add_argument("--metrics", nargs="+", default=None, metavar="METRIC",
                   help="--mode training-free: the training-free metrics (default naswot "
                        "logsynflow skip on nb201, naswot logsynflow elsewhere); --oracle "
                        "MODULE:FUNCTION: what the function returns (default: discovered from "
                        "one first call, on the space's first architecture); --oracle torch: "
                        "what to measure (default all)")
    p.add_argument("--top-k", type=int, default=10,
                   help="IQP candidates measured and re-ranked (--mode training-free)")
    p.add_argument("--method", choices=("pairwise", "regression"), default="pairwise")
    p.add_argument("--selection", choices=("iterative", "random"), default="iterative")
    p.add_argument("--rounds", type=int, default=10,
                   help="selection rounds (at least 10 networks each, or after a first round "
                        "of 10, 3 each in runs of fewer than 40; default 10)")
    p.add_argument("--explore", type=float, default=1.0,
                   help="random draws may exceed a budget by this many cross-validated RMSEs "
                        "of its model (the IQP solves keep budgets hard; default 1)")
    p.add_argument("--initial", choices=("uniform", "stratified"), default="stratified",
                   help="sampler of the first round (and of --selection random)")
    p.add_argument("--rerank", choices=("gcn",), default=None,
                   help="gcn: each round, a BRP-NAS GCN ranker fitted on the samples so far "
                        "orders the IQP's candidates, planned within --rerank-loosen x the "
                        "budgets while look-ups last and looked up before training, and the "
                        "best truly feasible are measured (nb201, mobilenet, ofa; needs torch)")
    p.add_argument("--rerank-factor", type=int, default=4,
                   help="--rerank: the IQP proposes this many times the candidates measured "
                        "(default 4)")
    p.add_argument("--rerank-filter", action="store_true",
                   help="--rerank: GCN models of the budgeted metrics set aside candidates "
                        "they predict over budget (the measurement still decides)")
    p.add_argument("--rerank-epochs", type=int, default=None,
                   help="--rerank: training epochs of the GCNs (default 250 ranker, 100 "
                        "filter)")
    p.add_argument("--rerank-rule", choices=RULES, default=None,
                   help="--rerank: how the GCN's order is used: gcn replaces the IQP's, hedge "
                        "keeps the IQP's best half of what a round takes first, borda sums "
                        f"both ranks, iqp keeps the IQP's order (no GCN fit; default "
                        f"{RULES[0]})")
    p.add_argument("--rerank-loosen", type=float, default=None,
                   help="--rerank: while look-ups last the IQP plans within this many times "
                        "each budget and every candidate it proposes is looked up before "
                        f"training (the true budget decides; default {DEFAULT_LOOSEN:g}, 1: "
                        "within the budgets)")
    p.add_argument("--solver", default="auto",
                   help="IQP solver in the selection loop (auto: enumerate small spaces, "
                        "else scip)")
    add_backend_options(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--store", default=None, help="SQLite sample store (default runs/<time>/)")
    p.add_argument("--save-models", metavar="DIR", default=None,
                   help="write each fitted model as DIR/<metric>.json (training-free: "
                        "DIR/score.json and DIR/training_free.json with the normalisation)")
    p.add_argument("--builder", default=None, metavar="MODULE:FUNCTION",
                   help="--oracle torch: your function arch -> torch.nn.Module (default: the "
                        "space's built-in builder); the first network of every option is "
                        "built before any work starts")
    add_input_shape(p, required=False, default_help=" (--oracle torch)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None,
                       help="measure each round's batch on an embedded Dask LocalCluster of N "
                            "worker processes")
    where.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                       help="measure on the Dask cluster of this scheduler")
    add_restrict_option(p, "measure, select and solve inside that cluster (--mode trained)")
    add_common(p)
    p.set_defaults(func=run, outputs=[("--store", "store", "store"),
                                      ("--save-models", "save_models", "dir")])


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
    solver = backend_from_args(args)
    if solver != "auto":
        backend_for(solver, "--solver")  # a bad name or option: exit 2 before any store exists
    if args.samples is not None and args.samples < 2:
        raise InputError(f"--samples must be at least 2, got {args.samples}")
    if args.top_k < 1:
        raise InputError(f"--top-k must be at least 1, got {args.top_k}")
    space = spaces.get(args.space)
    if args.mode == "trained" and args.samples is not None and args.samples > space.size:
        # checked here, before a store is made that a corrected rerun would not match
        raise InputError(f"--samples {args.samples} is more than the {space.size} architectures "
                         f"of space {space.name!r}; give at most {space.size}")
    csv_kw = {}
    if args.oracle.endswith(".csv"):
        csv_kw = {"key_column": args.key_column, "units": parse_units(args.units)}
    elif args.units or args.key_column != "arch":
        raise InputError("--units and --key-column apply to a CSV oracle (--oracle FILE.csv)")
    if args.restrict is not None and args.mode == "training-free":
        raise InputError("--restrict applies to --mode trained; training-free calibration "
                         "does not take a reduced space yet")
    rerank_set = (args.rerank_filter or args.rerank_epochs is not None
                  or args.rerank_factor != 4 or args.rerank_rule is not None
                  or args.rerank_loosen is not None)
    if args.rerank is None and rerank_set:
        raise InputError("--rerank-factor, --rerank-filter, --rerank-epochs, --rerank-rule and "
                         "--rerank-loosen need --rerank gcn")
    rerank_params = {k: v for k, v in (("epochs", args.rerank_epochs),
                                        ("rule", args.rerank_rule),
                                        ("loosen", args.rerank_loosen)) if v is not None} or None
    if args.rerank is not None and args.mode == "training-free":
        raise InputError("--rerank is for --mode trained (it re-ranks the IQP candidates of "
                         "the iterative selection)")
    if args.rerank is not None:
        check_rerank(space, args.rerank, rerank_params)  # before the oracle is loaded
    restrict = load_restrict(args, space)
    oracle = _oracle(args, space, csv_kw)
    budgets = {}
    for spec in args.constraint:
        name, path, budget = parse_budget_spec(spec)
        if path is not None:
            raise InputError(f"--constraint {spec!r}: calibrate takes METRIC=BUDGET")
        budgets[name] = budget
    n_samples = DEFAULT_SAMPLES[args.mode] if args.samples is None else args.samples
    _warn_short_oracle(oracle, n_samples, args)
    store = _announce_store(args)
    if args.mode == "training-free":
        if args.objective is not None:
            raise InputError("--objective is for --mode trained; --mode training-free maximises "
                             "the combined score of --metrics")
        return _run_training_free(args, space, oracle, budgets, n_samples, solver, store)
    if args.objective is None:
        raise InputError("--objective is required with --mode trained (e.g. --objective "
                         "test_acc_c100); or use --mode training-free")
    if args.metrics is not None and not _oracle_takes_metrics(args):
        raise InputError("--metrics is for --mode training-free, --oracle torch or --oracle "
                         "MODULE:FUNCTION; use --objective")
    with _executor(args) as executor:
        cal = calibrate(space, oracle, args.objective, budgets or None, n_samples,
                        method=args.method, selection=args.selection, seed=args.seed,
                        store=store, rounds=args.rounds, solver=solver,
                        initial=args.initial, explore=args.explore,
                        progress=None if not args.quiet else False, restrict=restrict,
                        executor=executor, rerank=args.rerank,
                        rerank_factor=args.rerank_factor, rerank_filter=args.rerank_filter,
                        rerank_params=rerank_params, resource_samples=args.resource_samples,
                        coverage=args.coverage, terms=args.terms,
                        resource_terms=args.resource_terms)
    best = cal.best
    quality = cal.quality()
    if args.format == "json":
        print_json({"best": None if best is None else best.to_dict(),
                    "true": None if best is None else dict(best.measured),
                    "n_samples": len(cal.samples), "resource_samples": len(cal.lookups),
                    "model_choice": cal.model_choice, "store": str(cal.store_path),
                    "history": cal.history, "elapsed_s": cal.elapsed,
                    "model_quality": _records(quality)})
    else:
        if not args.quiet:
            cols = ("round", "planned", "measured", "total", "looked_up")
            t = Table(*cols, title="calibration")
            for h in cal.history:
                t.add_row(*(str(h.get(k, 0)) for k in cols))
            console.print(t)
        console.print(f"{len(cal.samples)} trained, {len(cal.lookups)} looked up (resource "
                      f"only) in {cal.elapsed:.1f} s, store {cal.store_path}", markup=False)
        if not args.quiet:
            console.print(render_reports(quality.to_dict(orient="index"),
                                         title="model quality (5-fold out-of-fold predictions)"))
        if best is not None:
            console.print(measured_table(best, title="best truly feasible measured network"))
    if args.save_models:
        _save(args, store, {f"{metric}.json": form for metric, form in cal.models.items()})
    return _exit_code(best, args.format)


def _oracle_takes_metrics(args: argparse.Namespace) -> bool:
    return args.oracle == "torch" or oracles.is_function_spec(args.oracle)


def _oracle(args: argparse.Namespace, space, csv_kw: dict):
    """The oracle of --oracle; a user's builder and a user's function are tried before any
    work starts (bad ones are one-line InputErrors)."""
    from iqnas.builders import check_buildable

    torch_oracle = args.oracle == "torch"
    if not torch_oracle and (args.builder is not None or args.input_shape is not None):
        raise InputError("--builder and --input-shape apply to --oracle torch")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers must be >= 1, got {args.workers}")
    if torch_oracle:
        from iqnas.oracles.torch_oracle import TorchOracle, parse_shape

        if args.input_shape is None:
            raise InputError("--oracle torch needs --input-shape N,C,H,W, e.g. 1,3,32,32")
        if args.dataset is not None and (args.builder is not None or space.name != "nb201"):
            raise InputError("--dataset applies to the built-in nb201 builder only")
        kw = {"dataset": args.dataset} if args.dataset else {}
        oracle = TorchOracle(space, parse_shape(args.input_shape, "--input-shape"),
                             args.builder, metrics=args.metrics if args.mode == "trained"
                             else None, seed=args.seed, **kw)
        if args.builder is not None:
            check_buildable(oracle.builder, "--builder")
        oracle.check(space.arch([0] * space.n_groups))
        return oracle
    if oracles.is_function_spec(args.oracle):
        from iqnas._callables import resolve_callable
        from iqnas.oracles import FunctionOracle

        if args.dataset is not None:
            raise InputError("--dataset applies to the nb201 oracle, not to a function")
        resolve_callable(args.oracle, "--oracle")
        metrics = args.metrics if args.mode == "trained" else None
        oracle = (FunctionOracle.discover(args.oracle, space, what="--oracle", seed=args.seed)
                  if metrics is None else
                  FunctionOracle(args.oracle, metrics, space, seed=args.seed))
        if metrics is None and not args.quiet:
            err_console.print(f"metrics of {args.oracle}, discovered from its first call: "
                              f"{', '.join(oracle.metrics)} (give --metrics to name them)",
                              soft_wrap=True)
        return oracle
    return oracles.get(args.oracle, space, dataset=args.dataset, **csv_kw)


def _executor(args: argparse.Namespace):
    """The executor of --workers / --scheduler (an unreachable scheduler is an InputError
    before any store is written)."""
    from iqnas.executors import make_executor

    return make_executor(args.workers, args.scheduler)


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
                       n_samples: int, solver, store: Path) -> int:
    with _executor(args) as executor:
        run = calibrate_training_free(space, oracle, args.metrics, budgets or None, n_samples,
                                      args.top_k, args.seed, solver=solver,
                                      progress=None if not args.quiet else False,
                                      executor=executor, store=store)
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
    if args.save_models:
        _save(args, store, {"score.json": run.model, "training_free.json": run})
    return _exit_code(best, args.format)


def _announce_store(args: argparse.Namespace) -> Path:
    """The store path (a fresh runs/<time>/samples.db by default); an interrupt names it and
    the command that resumes (the run itself says "resuming N samples from FILE")."""
    store = Path(args.store) if args.store is not None else default_store_path()
    extra = [] if args.store is not None else ["--store", str(store)]
    args.resume_hint = lambda: (f"the {stored_samples(store)} samples measured so far are in "
                                f"{store}; to resume, run again: {command_line(args, extra)}")
    return store


def _warn_short_oracle(oracle, n_samples: int, args: argparse.Namespace) -> None:
    """Say so when a table oracle (a CSV) has fewer rows than --samples: every row is used."""
    pool = oracle.candidates() if hasattr(oracle, "candidates") else None
    if pool is not None and len(pool) < n_samples and not args.quiet:
        err_console.print(f"warning: --oracle {args.oracle} has {len(pool)} architectures, "
                          f"fewer than --samples {n_samples}; all {len(pool)} are measured",
                          markup=False, soft_wrap=True)


def _save(args: argparse.Namespace, store: Path, files: dict) -> None:
    """Write the --save-models files; a failure says the results above and the store are
    complete."""
    out = Path(args.save_models)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, obj in files.items():
            obj.save(out / name)
    except OSError as exc:
        raise InputError(f"--save-models {out}: writing failed ({exc.strerror or exc}); the "
                         f"results above are complete and every sample is in {store}") from None
