"""``iqnas sweep``: solve over a list (or grid) of budgets; print the points and their front."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.table import Table

from iqnas import oracles, spaces
from iqnas.cli.common import (
    EXIT_NO_SOLUTION,
    EXIT_OK,
    SPACE_HELP,
    add_solver_options,
    backend_from_args,
    check_file,
    console,
    parse_budget_spec,
    print_json,
)
from iqnas.cli.restrict import add_restrict_option, restricted_rows
from iqnas.errors import InputError
from iqnas.problem import Problem
from iqnas.quadform import QuadraticForm
from iqnas.sweeps import Sweep, parse_budgets, sweep
from iqnas.sweeps.points import neighbours

ORACLES = ("nb201", "ofa")


def register(sub) -> None:
    p = sub.add_parser("sweep", help="solve over a range of budgets; print the Pareto front",
                       description="Solve one problem at every budget of a resource (or a grid "
                       "of two resources), exactly, and report the Pareto front. Forms are "
                       "QuadraticForm JSON or NPZ files. Exit 0 if any point is feasible, 1 if "
                       "none is, 2 on bad input.")
    p.add_argument("--space", required=True, help=SPACE_HELP)
    p.add_argument("--objective", required=True, metavar="FILE", help="objective form")
    p.add_argument("--constraint", action="append", default=[], metavar="NAME=FILE:BUDGET",
                   help="resource budget (repeatable); a swept resource may omit :BUDGET")
    p.add_argument("--minimize", action="store_true", help="minimise instead of maximise")
    p.add_argument("--resource", required=True, metavar="NAME", help="the swept resource")
    p.add_argument("--budgets", required=True, metavar="B1,B2,..|LO:HI:N",
                   help="budgets of the swept resource: a list, or N evenly spaced from LO to HI")
    p.add_argument("--grid", metavar="NAME=B1,B2,..|NAME=LO:HI:N", default=None,
                   help="a second resource and its budgets: solve the grid of both")
    add_restrict_option(p, "every point is solved inside that cluster")
    add_solver_options(p, time_limit_help="seconds per point", solver_log=False)
    p.add_argument("--jobs", type=int, default=1, help="processes (contiguous runs of points)")
    p.add_argument("--out", metavar="FILE.jsonl", default=None,
                   help="write points as they finish; resume this file if it exists")
    p.add_argument("--no-warm-start", action="store_true",
                   help="no MIP starts from neighbouring answers")
    p.add_argument("--no-reuse", action="store_true",
                   help="solve every point, even where a larger budget's answer fits")
    p.add_argument("--oracle", choices=ORACLES, default=None,
                   help="measure every answer (nb201 table or the OFA predictor/LUT)")
    p.add_argument("--dataset", default=None, help="nb201 dataset (default cifar100)")
    p.add_argument("--true-metric", default=None, metavar="METRIC",
                   help="oracle metric of the true objective (e.g. test_acc_c100)")
    p.add_argument("--true-resource", action="append", default=[], metavar="NAME=METRIC",
                   help="oracle metric measuring a resource (default: the metric of the same "
                   "name)")
    p.add_argument("--plot", metavar="FILE.png|FILE.svg", default=None,
                   help="write the Pareto front plot")
    p.add_argument("--title", default=None, help="title of the --plot figure")
    p.add_argument("--xlabel", default=None,
                   help="x-axis title of --plot (default: the resource and its units)")
    p.add_argument("--ylabel", default=None,
                   help="y-axis title of --plot (default: the objective and its units)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table",
                   help="output format (default: table)")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    solver = backend_from_args(args)
    budgets = parse_budgets(args.budgets, "--budgets")
    grid = _grid(args.grid)
    if args.plot is not None:
        _check_plot(args.plot)
    elif args.title or args.xlabel or args.ylabel:
        raise InputError("--title, --xlabel and --ylabel set the --plot figure; add --plot FILE")
    space = spaces.get(args.space)
    swept = {args.resource} | ({grid[0]} if grid else set())
    objective = QuadraticForm.load(check_file(args.objective, "objective"), space)
    constraints = {}
    for spec in args.constraint:
        name, path, budget = _constraint(spec, swept)
        if name in constraints:
            raise InputError(f"--constraint {name!r} given twice")
        form = QuadraticForm.load(check_file(path, f"constraint {name!r}"), space)
        if budget is None:
            budget = budgets[0] if name == args.resource else grid[1][0]
        constraints[name] = (form, budget, form.units)
    missing = sorted(swept - set(constraints))
    if missing:
        raise InputError(f"the swept resource {missing[0]!r} has no --constraint "
                         f"{missing[0]}=FILE; constraints are {', '.join(constraints) or '(none)'}")
    problem = Problem(space, objective, constraints,
                      sense="minimize" if args.minimize else "maximize",
                      linear_constraints=restricted_rows(args, space))
    oracle = _oracle(args)
    result = sweep(problem, args.resource, budgets, solver, oracle, grid=grid,
                   jobs=args.jobs, out=args.out, time_limit=args.time_limit, gap=args.gap,
                   seed=args.seed, warm_start=not args.no_warm_start, reuse=not args.no_reuse,
                   products=args.products, progress=False if args.quiet else None,
                   objective_metric=args.true_metric,
                   resource_metrics=_true_resources(args.true_resource) if oracle else None)
    _print(result, args.format)
    if args.plot is not None:
        from iqnas.plots.pareto import plot_pareto

        plot_pareto(result, args.plot, title=args.title, xlabel=args.xlabel,
                    ylabel=args.ylabel)
    return EXIT_OK if result.n_feasible else EXIT_NO_SOLUTION


# ---- argument parsing ------------------------------------------------------------------------
def _constraint(spec: str, swept: set[str]) -> tuple[str, str, float | None]:
    name, _, rest = spec.partition("=")
    if rest and ":" not in rest:
        if name in swept:
            return name, rest, None
        if not _is_float(rest):
            raise InputError(f"--constraint {spec!r}: give its budget as NAME=FILE:BUDGET (only "
                             f"a swept resource, {' or '.join(sorted(swept))}, may leave it out)")
    name, path, budget = parse_budget_spec(spec)
    if path is None:
        raise InputError(f"--constraint {spec!r}: give the resource form as NAME=FILE:BUDGET")
    return name, path, budget


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _grid(text: str | None) -> tuple[str, list[float]] | None:
    if text is None:
        return None
    name, sep, spec = text.partition("=")
    if not sep or not name or not spec:
        raise InputError(f"--grid {text!r}: expected NAME=B1,B2,.. or NAME=LO:HI:N")
    return name, parse_budgets(spec, "--grid")


def _true_resources(specs: list[str]) -> dict[str, str] | None:
    if not specs:
        return None
    out = {}
    for spec in specs:
        name, sep, metric = spec.partition("=")
        if not sep or not name or not metric:
            raise InputError(f"--true-resource {spec!r}: expected NAME=METRIC")
        out[name] = metric
    return out


def _oracle(args: argparse.Namespace):
    if args.oracle is None:
        if args.dataset or args.true_metric or args.true_resource:
            raise InputError("--dataset, --true-metric and --true-resource need --oracle")
        return None
    return oracles.get(args.oracle, dataset=args.dataset)


def _check_plot(path: str) -> None:
    from iqnas._optional import require
    from iqnas.plots.pareto import FORMATS

    if Path(path).suffix.lower() not in FORMATS:
        raise InputError(f"--plot {path}: the file must end in {' or '.join(FORMATS)}")
    if not Path(path).resolve().parent.is_dir():
        raise InputError(f"--plot {path}: the folder {Path(path).parent} does not exist")
    require("matplotlib", "--plot")


# ---- output ----------------------------------------------------------------------------------
def _print(result: Sweep, fmt: str) -> None:
    if fmt == "json":
        print_json(result.to_dict())
        return
    df = result.to_dataframe()
    if fmt == "csv":
        df.to_csv(sys.stdout, index=False)
        return
    labels = _labels(df)
    console.print(_table(result, df, labels))
    console.print("\narchitectures:")
    for key, label in labels.items():
        console.print(f"  {label:>3}  {key}", soft_wrap=True)
    changes = _changes(result, df)
    if changes:
        console.print("\nchanges between neighbouring points:")
        for line in changes:
            console.print(line, soft_wrap=True)
    console.print(_summary(result), soft_wrap=True)


def _labels(df) -> dict[str, str]:
    """A short label (A, B, .., Z, A1, ..) per distinct architecture, in point order."""
    keys = [k for k in dict.fromkeys(df["key"]) if isinstance(k, str)]
    return {k: chr(ord("A") + i % 26) + (str(i // 26) if i >= 26 else "")
            for i, k in enumerate(keys)}


def _table(result: Sweep, df, labels: dict[str, str]) -> Table:
    names = [c.name for c in result.problem.constraints]
    true = "true_objective" in df.columns
    front = set(result.pareto_front()["point"])
    t = Table(box=None, header_style="bold")
    cols = ["budget"] + ([f"{result.grid_resource} budget"] if result.grid_resource else [])
    cols += ["status", "objective"] + names
    if true:
        cols += ["true objective"] + [f"true {n}" for n in result.truth.metrics] + ["true ok"]
    cols += ["front", "source", "arch"]
    for c in cols:
        t.add_column(c, no_wrap=True)
    t.add_column("message", overflow="fold")
    for _, r in df.iterrows():
        cells = [f"{r['budget']:.6g}"] + ([f"{r['grid_budget']:.6g}"]
                                          if result.grid_resource else [])
        cells += [r["status"], _fmt(r["objective"])] + [_fmt(r[n]) for n in names]
        if true:
            cells += [_fmt(r["true_objective"])]
            cells += [_fmt(r[f"true_{n}"]) for n in result.truth.metrics]
            ok = r["true_feasible"]
            cells += ["" if _missing(ok) else ("yes" if ok else "NO")]
        cells += ["*" if r["point"] in front else "", r["source"],
                  labels.get(r["key"], ""), _text(r["message"])]
        t.add_row(*[str(c) for c in cells])
    return t


def _changes(result: Sweep, df) -> list[str]:
    """``budget a -> b: group: option->option; ...`` per neighbouring pair that changes."""
    out = []
    by_point = df.set_index("point")
    for a, b in neighbours(result.points):
        text = by_point.loc[b.index, "changes"]
        if isinstance(text, str) and text:
            grid = "" if b.grid_budget is None else f" ({result.grid_resource} {b.grid_budget:g})"
            out.append(f"  {result.resource} {a.budget:g} -> {b.budget:g}{grid}: {text}")
    return out


def _summary(result: Sweep) -> str:
    front = result.pareto_front()
    text = (f"{len(result)} points: {result.n_feasible} feasible; {result.n_solved} solved, "
            f"{result.n_reused} reused in {result.elapsed:.2f} s"
            + (f" ({result.resumed} resumed from {result.path})" if result.resumed else "")
            + f"; Pareto front: {len(front)} architectures")
    if result.has_true_front and result.n_feasible:
        regret = result.true_front()["regret"].dropna()
        if len(regret):
            text += f"; regret against the true front: mean {regret.mean():.4g}, " \
                    f"max {regret.max():.4g}"
    return text


def _fmt(v) -> str:
    return "" if _missing(v) else f"{float(v):.6g}"


def _text(v) -> str:
    return "" if _missing(v) else str(v)


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and v != v)
