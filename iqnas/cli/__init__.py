"""The ``iqnas`` command line. Exit codes: 0 solved, 1 infeasible or no solution, 2 bad input,
130 interrupted (Ctrl-C)."""

from __future__ import annotations

import argparse
import logging
import sys
import warnings

from iqnas._version import __version__
from iqnas.cli import (
    calibrate_cmd,
    common,
    demo_cmd,
    doctor_cmd,
    explain_cmd,
    export_cmd,
    info_cmd,
    lut_cmd,
    measure_cmd,
    reduce_cmd,
    report_cmd,
    solve_cmd,
    space_cmd,
    sweep_cmd,
)
from iqnas.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    report_error,
    restore_logging,
    setup_logging,
)
from iqnas.cli.paths import check_outputs
from iqnas.cli.suggest import SubcommandParser, unknown_arguments_error
from iqnas.errors import BackendUnavailableError, InputError, SolverError

COMMANDS = [info_cmd, solve_cmd, calibrate_cmd, explain_cmd, demo_cmd, sweep_cmd, measure_cmd,
            lut_cmd, export_cmd, reduce_cmd, report_cmd, space_cmd, doctor_cmd]


def build_parser() -> argparse.ArgumentParser:
    p = SubcommandParser(prog="iqnas", description="Hardware-constrained neural "
                         "architecture search by exact integer quadratic programming.")
    p.add_argument("--version", action="version", version=f"iqnas {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for mod in COMMANDS:
        mod.register(sub)
    for parser in _leaf_parsers(p):
        _add_verbosity(parser)
    return p


def _leaf_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every parser that runs a command (subcommands of subcommands included)."""
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                out.extend(_leaf_parsers(child) or [child])
    return out


def _add_verbosity(p: argparse.ArgumentParser) -> None:
    """-v / -q on every command (those that define them keep their own help)."""
    if "-v" not in p._option_string_actions:
        p.add_argument("-v", "--verbose", action="store_true",
                       help="log progress to stderr (the solver's progress, each round)")
    if "-q" not in p._option_string_actions:
        p.add_argument("-q", "--quiet", action="store_true",
                       help="only print the result (no warnings, no progress)")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    common.CURRENT_ARGV[:] = argv
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        unknown_arguments_error(parser, args, extra)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    args.argv = argv
    level = logging.getLogger("iqnas").level
    with warnings.catch_warnings():
        try:
            return _run(args)
        finally:
            restore_logging(level)


def _run(args: argparse.Namespace) -> int:
    """Run the command; errors as one line (or JSON) and their exit code."""
    try:
        setup_logging(args)
        check_outputs(args)
        return int(args.func(args))
    except (InputError, BackendUnavailableError) as exc:
        return report_error(args, exc, EXIT_BAD_INPUT)
    except SolverError as exc:
        hint = getattr(args, "resume_hint", None)
        if callable(hint):
            exc = SolverError(f"{exc}; {hint()}")
        return report_error(args, exc, 1, prefix="solver error")
    except KeyboardInterrupt:
        hint = getattr(args, "resume_hint", None)
        text = hint() if callable(hint) else "nothing was saved"
        return report_error(args, KeyboardInterrupt(f"interrupted; {text}"), EXIT_INTERRUPTED,
                            prefix="interrupted", bare=True)


if __name__ == "__main__":
    sys.exit(main())
