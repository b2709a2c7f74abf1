"""``iqnas solve``: load forms from JSON/NPZ files and solve under budgets."""

from __future__ import annotations

import argparse

from iqnas import spaces
from iqnas.cli.common import (
    EXIT_NO_SOLUTION,
    EXIT_OK,
    SPACE_HELP,
    add_common,
    add_solver_options,
    backend_from_args,
    check_file,
    console,
    err_console,
    parse_budget_spec,
    print_json,
    result_table,
)
from iqnas.cli.restrict import add_restrict_option, restricted_rows
from iqnas.errors import InputError
from iqnas.formulations.export import model_format
from iqnas.problem import Problem
from iqnas.quadform import QuadraticForm
from iqnas.solve import solve, solve_top_k


def register(sub) -> None:
    p = sub.add_parser("solve", help="maximise an objective form under resource budgets",
                       description="Solve an integer quadratic program over a search space. "
                       "Forms are QuadraticForm JSON or NPZ files (QuadraticForm.save).")
    p.add_argument("--space", required=True, help=SPACE_HELP)
    p.add_argument("--objective", required=True, metavar="FILE", help="objective form")
    p.add_argument("--constraint", action="append", default=[], metavar="NAME=FILE:BUDGET",
                   help="resource budget (repeatable), e.g. latency_ms=lat.json:3.0")
    p.add_argument("--minimize", action="store_true", help="minimise instead of maximise")
    p.add_argument("--top-k", type=int, default=1, help="return the k best architectures")
    p.add_argument("--write-model", metavar="FILE", default=None,
                   help="also write the IQP to FILE for other solvers: *.lp (CPLEX LP) or *.mps "
                        "(free MPS), in the --products form (native: quadratic terms)")
    add_restrict_option(p, "solve inside that cluster")
    add_solver_options(p)
    add_common(p)
    p.set_defaults(func=run, outputs=[("--solver-log", "solver_log", "file"),
                                      ("--write-model", "write_model", "file")])


def run(args: argparse.Namespace) -> int:
    if args.top_k < 1:
        raise InputError(f"--top-k must be at least 1 (the number of architectures to return), "
                         f"got {args.top_k}")
    if args.write_model is not None:
        model_format(args.write_model)
    solver = backend_from_args(args)
    space = spaces.get(args.space)
    objective = QuadraticForm.load(check_file(args.objective, "objective"), space)
    constraints = {}
    for spec in args.constraint:
        name, path, budget = parse_budget_spec(spec)
        if path is None:
            raise InputError(f"--constraint {spec!r}: give the resource form as NAME=FILE:BUDGET")
        if name in constraints:
            raise InputError(f"--constraint {name!r} given twice")
        form = QuadraticForm.load(check_file(path, f"constraint {name!r}"), space)
        constraints[name] = (form, budget, form.units)
    problem = Problem(space, objective, constraints,
                      sense="minimize" if args.minimize else "maximize",
                      linear_constraints=restricted_rows(args, space))
    if args.write_model is not None:
        path = problem.write(args.write_model, products=args.products)
        if not args.quiet:
            err_console.print(f"wrote the model to {path}", style="dim")
    kw = dict(time_limit=args.time_limit, gap=args.gap, seed=args.seed, products=args.products,
              log_file=args.solver_log, verbose=args.verbose)
    args.resume_hint = lambda: "nothing was saved (a solve keeps no partial answer)"
    results = (solve_top_k(problem, args.top_k, solver, **kw) if args.top_k > 1
               else [solve(problem, solver, **kw)])
    if args.format == "json":
        print_json([r.to_dict() for r in results] if args.top_k > 1 else results[0].to_dict())
    else:
        for k, r in enumerate(results, 1):
            console.print(result_table(r, title=f"#{k}" if len(results) > 1 else ""))
    return EXIT_OK if results[0].feasible else EXIT_NO_SOLUTION
