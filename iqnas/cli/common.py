"""Shared CLI pieces: exit codes, output formats, argument parsers for budgets and forms."""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import warnings
from pathlib import Path

from rich.console import Console
from rich.table import Table

from iqnas import solvers
from iqnas.errors import InputError
from iqnas.measured import MeasuredResult
from iqnas.result import Result
from iqnas.solvers.base import Backend

EXIT_OK, EXIT_NO_SOLUTION, EXIT_BAD_INPUT = 0, 1, 2
#: the arguments of the command being run (for error messages that suggest a flag)
CURRENT_ARGV: list[str] = []
#: the logger of "resuming N ... from FILE" notices (shown by the CLI unless -q)
RESUME_LOG = "iqnas.resume"
#: exit code after Ctrl-C (128 + SIGINT, as shells report it)
EXIT_INTERRUPTED = 130
#: help of every --space flag: a name or a space file
SPACE_HELP = "search space: a built-in name (see `iqnas spaces`) or a .json/.toml space file"
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
    """--solver, --solver-option, --scip-param, --time-limit, --gap, --seed, --products and
    (``solver_log``) --solver-log."""
    p.add_argument("--solver", default="scip", help="backend (see `iqnas solvers`)")
    add_backend_options(p)
    p.add_argument("--time-limit", type=float, default=None, help=time_limit_help)
    p.add_argument("--gap", type=float, default=0.0, help="relative gap to stop at")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--products", choices=("linearize", "native", "auto"), default="linearize",
                   help="how products of binaries reach the solver (auto: chosen per problem)")
    if solver_log:
        p.add_argument("--solver-log", metavar="FILE", default=None,
                       help="write the backend's log to FILE")


def add_backend_options(p: argparse.ArgumentParser) -> None:
    """--solver-option KEY=VALUE and --scip-param NAME=VALUE (both repeatable)."""
    p.add_argument("--solver-option", action="append", default=[], metavar="KEY=VALUE",
                   help="an option of the --solver backend (repeatable), e.g. mode=rea for "
                        "evolution or triangle_cuts=false for scip; VALUE is read as JSON "
                        "(numbers, true/false, null, lists) or else as a string")
    p.add_argument("--scip-param", action="append", default=[], metavar="NAME=VALUE",
                   help="a SCIP parameter for --solver scip (repeatable), e.g. "
                        "limits/nodes=1000")


def backend_from_args(args) -> str | Backend:
    """``--solver`` with its ``--solver-option`` / ``--scip-param`` settings: the name alone
    when there are none, else the configured backend (names and values checked now)."""
    name = args.solver
    options = _assignments(args.solver_option, "--solver-option")
    scip = _assignments(args.scip_param, "--scip-param")
    if not options and not scip:
        return name
    if name == "auto":
        raise InputError("--solver-option and --scip-param need an explicit --solver (not "
                         "auto), e.g. --solver scip")
    base = solvers.get(name)
    if scip:
        if "scip_params" not in type(base)._param_names():
            raise InputError(f"--scip-param applies to --solver scip, not {name!r}; use "
                             "--solver-option for its options")
        if "scip_params" in options:
            raise InputError("give SCIP parameters with --scip-param or with --solver-option "
                             "scip_params=..., not both")
        options["scip_params"] = scip
    known = type(base)._param_names()
    unknown = [k for k in options if k not in known]
    if unknown:
        raise InputError(f"--solver-option {unknown[0]}: solver {name!r} has no option "
                         f"{unknown[0]!r}; its options are {', '.join(known) or '(none)'}")
    return solvers.create(name, **options)


def _assignments(specs: list[str], flag: str) -> dict:
    """``["k=v", ...]`` as ``{k: v}``, each value read as JSON when it parses, else a string."""
    out: dict = {}
    for spec in specs:
        key, sep, text = spec.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"{flag} {spec!r}: expected KEY=VALUE, e.g. {flag} "
                             f"{'limits/nodes=1000' if flag == '--scip-param' else 'mode=rea'}")
        if key in out:
            raise InputError(f"{flag} {key!r} given twice")
        try:
            out[key] = json.loads(text)
        except ValueError:
            out[key] = text
    return out


def setup_logging(args) -> None:
    """-v: INFO (progress, each round's figures); -q: errors only; else warnings."""
    verbose, quiet = getattr(args, "verbose", False), getattr(args, "quiet", False)
    if verbose and quiet:
        raise InputError("-v (--verbose) and -q (--quiet) contradict each other; give one")
    level = logging.INFO if verbose else logging.ERROR if quiet else logging.WARNING
    for name, fmt, lvl in (("iqnas", "%(levelname)s %(name)s: %(message)s", level),
                           (RESUME_LOG, "%(message)s", logging.ERROR if quiet else logging.INFO)):
        logger = logging.getLogger(name)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(fmt))
        handler.iqnas_cli = True
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(lvl)
    if quiet:
        warnings.simplefilter("ignore")


def restore_logging(level: int) -> None:
    """Undo setup_logging (the CLI may run several times in one process, e.g. in tests)."""
    for name, lvl in (("iqnas", level), (RESUME_LOG, logging.NOTSET)):
        logger = logging.getLogger(name)
        for h in list(logger.handlers):
            if getattr(h, "iqnas_cli", False):
                logger.removeHandler(h)
        logger.propagate = True
        logger.setLevel(lvl)


def command_line(args, extra: list[str] | None = None) -> str:
    """The command being run, as a shell line (with ``extra`` arguments appended)."""
    import shlex

    return shlex.join(["iqnas", *getattr(args, "argv", []), *(extra or [])])


def report_error(args, exc: BaseException, code: int, prefix: str = "error",
                 bare: bool = False) -> int:
    """Write ``exc`` to stderr as one literal line (``prefix: text``; ``bare``: the text alone),
    or as a JSON object under ``--format json``; returns ``code``."""
    text = " ".join(str(exc).split("\n")).strip() or type(exc).__name__
    if getattr(args, "format", None) == "json":
        kind = "Interrupted" if isinstance(exc, KeyboardInterrupt) else type(exc).__name__
        sys.stderr.write(json.dumps({"error": {"type": kind, "message": text,
                                               "exit_code": code}}) + "\n")
    else:
        sys.stderr.write((text if bare else f"{prefix}: {text}") + "\n")
    sys.stderr.flush()
    return code


def parse_budget_spec(text: str) -> tuple[str, str | None, float]:
    """``name=FILE:budget`` or ``name=budget`` -> (name, file or None, budget)."""
    if "=" not in text:
        raise InputError(f"--constraint {text!r}: expected NAME=FILE:BUDGET or NAME=BUDGET")
    name, rest = text.split("=", 1)
    path, budget = (rest.rsplit(":", 1) if ":" in rest else (None, rest))
    try:
        value = float(budget)
    except ValueError:
        if path is None and Path(budget).suffix.lower() in (".json", ".npz"):
            raise InputError(f"--constraint {text!r}: no budget; give it after the file, e.g. "
                             f"{name}={budget}:3.0") from None
        raise InputError(f"--constraint {text!r}: budget {budget!r} is not a number") from None
    if not name:
        raise InputError(f"--constraint {text!r}: the resource name is empty")
    if not math.isfinite(value):
        raise InputError(f"--constraint {text!r}: budget must be finite")
    return name, path, value


def check_file(path: str, what: str) -> Path:
    """``path`` if it is an existing file (an InputError naming ``what`` otherwise)."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{what} file {path} is a folder; give the file in it")
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
    if not sep and Path(text).suffix:
        raise InputError(f"{flag} {text!r}: no name; expected NAME=FILE, e.g. {flag} "
                         f"latency_ms={text}")
    if not sep or not name.strip() or not path.strip():
        raise InputError(f"{flag} {text!r}: expected NAME=FILE, e.g. {flag} "
                         "latency_ms=latency.json")
    return name.strip(), check_file(path.strip(), f"{flag} {name.strip()!r}")
