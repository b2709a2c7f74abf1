"""The ``iqnas`` command line. Exit codes: 0 solved, 1 infeasible or no solution, 2 bad input."""

from __future__ import annotations

import argparse
import sys

from rich.markup import escape

from iqnas._version import __version__
from iqnas.cli import (
    calibrate_cmd,
    demo_cmd,
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
from iqnas.cli.common import EXIT_BAD_INPUT, err_console, setup_logging
from iqnas.errors import BackendUnavailableError, InputError, SolverError

COMMANDS = [info_cmd, solve_cmd, calibrate_cmd, explain_cmd, demo_cmd, sweep_cmd, measure_cmd,
            lut_cmd, export_cmd, reduce_cmd, report_cmd, space_cmd]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="iqnas", description="Hardware-constrained neural "
                                "architecture search by exact integer quadratic programming.")
    p.add_argument("--version", action="version", version=f"iqnas {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for mod in COMMANDS:
        mod.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    setup_logging(args)
    try:
        return int(args.func(args))
    except (InputError, BackendUnavailableError) as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return EXIT_BAD_INPUT
    except SolverError as exc:
        err_console.print(f"[bold red]solver error:[/] {escape(str(exc))}", soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
