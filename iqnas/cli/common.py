"""Shared CLI pieces: exit codes, output formats, argument parsers for budgets and forms."""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from iqnas.errors import InputError
from iqnas.measured import MeasuredResult
from iqnas.result import Result

EXIT_OK, EXIT_NO_SOLUTION, EXIT_BAD_INPUT = 0, 1, 2
# keys must stay copy-pasteable: a wide console when stdout is a file or a pipe
console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, highlight=False)


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="output format (default: table)")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    p.add_argument("-q", "--quiet", action="store_true", help="only print the result")


def add_solver_options(p: argparse.ArgumentParser, time_limit_help: str = "seconds",
                       solver_log: bool = True) -> None:
    """--solver, --time-limit, --gap, --seed, --products and (``solver_log``) --solver-log."""
    p.add_argument("--solver", default="scip", help="backend (see `iqnas solvers`)")
    p.add_argument("--time-limit", type=float, default=None, help=time_limit_help)
    p.add_argument("--gap", type=float, default=0.0, help="relative gap to stop at")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--products", choices=("linearize", "native", "auto"), default="linearize",
                   help="how products of binaries reach the solver (auto: chosen per problem)")
    if solver_log:
        p.add_argument("--solver-log", metavar="FILE", default=None,
                       help="write the backend's log to FILE")


def setup_logging(args) -> None:
    level = logging.INFO if getattr(args, "verbose", False) else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)


def parse_budget_spec(text: str) -> tuple[str, str | None, float]:
    """``name=FILE:budget`` or ``name=budget`` -> (name, file or None, budget)."""
    if "=" not in text:
        raise InputError(f"--constraint {text!r}: expected NAME=FILE:BUDGET or NAME=BUDGET")
    name, rest = text.split("=", 1)
    path, budget = (rest.rsplit(":", 1) if ":" in rest else (None, rest))
    try:
        value = float(budget)
    except ValueError:
        raise InputError(f"--constraint {text!r}: budget {budget!r} is not a number") from None
    if not name:
        raise InputError(f"--constraint {text!r}: the resource name is empty")
    if not math.isfinite(value):
        raise InputError(f"--constraint {text!r}: budget must be finite")
    return name, path, value


def check_file(path: str, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{what} file not found: {path}")
    return p


def result_table(res: Result, title: str = "") -> Table:
    t = Table(title=title or None, show_header=False, box=None)
    t.add_column(style="bold", no_wrap=True)
    t.add_column(overflow="fold")
    t.add_row("status", f"{res.status.value} ({res.raw_status})")
    if res.message:
        t.add_row("message", res.message)
    if res.architecture is not None:
        t.add_row("architecture", res.architecture.key)
        t.add_row("objective", f"{res.objective:.6g}")
        for name, rv in res.resource_details.items():
            units = f" {rv.units}" if rv.units else ""
            t.add_row(name, f"{rv.value:.6g}{units} (budget {rv.budget:g}, slack {rv.slack:.4g})")
    if res.gap is not None:
        t.add_row("gap", f"{res.gap:.3%}")
    if res.dual_bound is not None:
        t.add_row("dual bound", f"{res.dual_bound:.6g}")
    t.add_row("time", f"build {res.build_time:.3f} s, solve {res.solve_time:.3f} s"
              + (f", {res.nodes} nodes" if res.nodes is not None else ""))
    t.add_row("backend", f"{res.backend} ({res.formulation}), seed {res.seed}")
    return t


def measured_table(res: MeasuredResult, title: str = "") -> Table:
    """A measured architecture: its true objective, the prediction and each measured budget."""
    t = Table(title=title or None, show_header=False, box=None)
    t.add_column(style="bold", no_wrap=True)
    t.add_column(overflow="fold")
    t.add_row("architecture", res.key)
    t.add_row(f"true {res.objective_metric}", f"{res.true_objective:.6g}")
    if res.predicted_objective is not None:
        t.add_row("predicted objective", f"{res.predicted_objective:.6g}")
    for name, rv in res.resource_details.items():
        units = f" {rv.units}" if rv.units else ""
        t.add_row(name, f"{rv.value:.6g}{units} measured (budget {rv.budget:g}, "
                  f"slack {rv.slack:.4g})")
    t.add_row("truly feasible", "yes" if res.truly_feasible else "no")
    if res.rejected:
        t.add_row("cut off", f"{len(res.rejected)} IQP answers broke a true budget")
    return t


def print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


def add_input_shape(p: argparse.ArgumentParser, required: bool, default_help: str = "") -> None:
    p.add_argument("--input-shape", required=required, default=None, metavar="N,C,H,W",
                   help="input tensor shape, batch size first, e.g. 1,3,32,32" + default_help)


def parse_named_file(text: str, flag: str) -> tuple[str, Path]:
    """``NAME=FILE`` -> (name, path to an existing file)."""
    name, sep, path = text.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise InputError(f"{flag} {text!r}: expected NAME=FILE, e.g. {flag} "
                         "latency_ms=latency.json")
    return name.strip(), check_file(path.strip(), f"{flag} {name.strip()!r}")
