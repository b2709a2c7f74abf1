"""Argument errors that show the subcommand's usage and suggest the flag that was meant."""

from __future__ import annotations

import argparse
import json
import sys
from typing import NoReturn

from iqnas._suggest import did_you_mean


class SubcommandParser(argparse.ArgumentParser):
    """An ArgumentParser whose error names close matches of the unknown flags it was given."""

    def error(self, message: str) -> NoReturn:
        flags = [a.split("=", 1)[0] for a in _argv() if a.startswith("--")]
        known = [s for s in self._option_string_actions if s.startswith("--")]
        hints = [f"{f}{did_you_mean(f, known)}" for f in dict.fromkeys(flags)
                 if f not in known and did_you_mean(f, known)]
        if hints and "unrecognized" not in message:
            message += "; unknown option " + "; ".join(hints)
        if _wants_json():
            self.exit(2, json.dumps({"error": {"type": "UsageError", "message":
                                               f"{self.prog}: {message}", "exit_code": 2}})
                      + "\n")
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def unknown_arguments_error(parser: argparse.ArgumentParser, args: argparse.Namespace,
                            extra: list[str]) -> NoReturn:
    """Report arguments no parser took with the usage of the subcommand they were given to."""
    target = _subparser(parser, args) or parser
    known = [s for s in target._option_string_actions if s.startswith("--")]
    parts = []
    for arg in extra:
        flag = arg.split("=", 1)[0]
        parts.append(f"{arg}{did_you_mean(flag, known) if flag.startswith('-') else ''}")
    SubcommandParser.error(target, "unrecognized arguments: " + " ".join(parts))


def _subparser(parser: argparse.ArgumentParser, args: argparse.Namespace):
    """The innermost subparser selected by ``args`` (``command``, then e.g. ``space``'s own)."""
    current, found = parser, None
    while True:
        subs = [a for a in current._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            return found
        name = getattr(args, subs[0].dest, None) if subs[0].dest != argparse.SUPPRESS else None
        if name is None:
            # a nested subparsers action without dest: find the chosen one by the argv
            chosen = [a for a in _argv() if a in subs[0].choices]
            name = chosen[0] if chosen else None
        if name is None or name not in subs[0].choices:
            return found
        current = found = subs[0].choices[name]


def _wants_json() -> bool:
    """``--format json`` (or ``--format=json``) among the arguments."""
    argv = _argv()
    return "--format=json" in argv or any(a == "--format" and b == "json"
                                          for a, b in zip(argv, argv[1:]))


def _argv() -> list[str]:
    from iqnas.cli import common

    return list(common.CURRENT_ARGV)
