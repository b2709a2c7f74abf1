"""``iqnas space show|save``: print a search space (built-in or from a file), or write it as a
space file."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from iqnas import spaces
from iqnas.cli.common import EXIT_OK, SPACE_HELP, add_common, console, print_json
from iqnas.errors import InputError
from iqnas.space import SearchSpace
from iqnas.space_file import ARCHITECTURE, DATA


def register(sub) -> None:
    p = sub.add_parser("space", help="show a search space or write it as a space file",
                       description="Inspect a built-in search space or one from a .json/.toml "
                       "space file (groups, options, conditions, metadata, size).")
    cmds = p.add_subparsers(dest="space_command", metavar="ACTION")
    show = cmds.add_parser("show", help="print a space's groups, options, conditions and size")
    show.add_argument("space", metavar="NAME|FILE", help=SPACE_HELP)
    add_common(show)
    show.set_defaults(func=run_show)
    save = cmds.add_parser("save", help="write a space as a .json or .toml space file",
                           description="Write a space as a space file (by the suffix of OUT), "
                           "e.g. to start your own from a built-in one (rename it: a file with "
                           "a built-in name must stay a part of that space).")
    save.add_argument("space", metavar="NAME|FILE", help=SPACE_HELP)
    save.add_argument("out", metavar="OUT", help="the file to write (.json or .toml)")
    save.add_argument("--force", action="store_true", help="replace OUT if it exists")
    add_common(save)
    save.set_defaults(func=run_save, outputs=[("OUT", "out", "file")])
    p.set_defaults(func=lambda args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    raise InputError("iqnas space needs an action: `iqnas space show NAME|FILE` or "
                     "`iqnas space save NAME|FILE OUT`")


def describe(space: SearchSpace) -> dict:
    """The JSON of ``space show``: the space's file dict plus its size and identity, and the
    names of its data and architecture groups apart."""
    return {**space.to_dict(), "size": space.size, "n_groups": space.n_groups,
            "n_vars": space.n_vars, "content_hash": space.content_hash(),
            "data_groups": list(space.data_groups),
            "architecture_groups": list(space.architecture_groups)}


def run_show(args: argparse.Namespace) -> int:
    space = spaces.get(args.space)
    if args.format == "json":
        print_json(describe(space))
        return EXIT_OK
    size = f"{space.size:,}" if space.size < 1e12 else f"{space.size:.4g}"
    head = Table(show_header=False, box=None)
    head.add_column(style="bold", no_wrap=True)
    head.add_column(overflow="fold")
    head.add_row("space", space.name)
    if space.description:
        head.add_row("description", space.description)
    head.add_row("architectures", size)
    head.add_row("groups", f"{space.n_groups} ({space.n_vars} one-hot variables)")
    head.add_row("content hash", space.content_hash())
    if space.data_groups:
        head.add_row("data groups", ", ".join(space.data_groups))
        head.add_row("architecture groups", ", ".join(space.architecture_groups))
    console.print(head)
    kinds = [(DATA, "data groups (input choices)"), (ARCHITECTURE, "architecture groups")] \
        if space.data_groups else [(ARCHITECTURE, None)]
    for kind, title in kinds:
        t = Table("group", "options", "active if", "units", "description", title=title,
                  title_justify="left")
        for g in space.groups:
            if g.kind != kind:
                continue
            cond = ""
            if g.active_if is not None:
                ctrl, opts = g.active_if
                order = space.groups[space.group_index(ctrl)].options
                cond = f"{ctrl} in {{{', '.join(o for o in order if o in opts)}}}"
            t.add_row(g.name, ", ".join(g.options), cond, g.units, g.description)
        console.print(t)
    described = [(g.name, o, g.option_descriptions[o]) for g in space.groups for o in g.options
                 if o in g.option_descriptions]
    if described:
        d = Table("group", "option", "description", title="options")
        for row in described:
            d.add_row(*row)
        console.print(d)
    return EXIT_OK


def run_save(args: argparse.Namespace) -> int:
    space = spaces.get(args.space)
    out = Path(args.out)
    if out.suffix.lower() not in (".json", ".toml"):
        raise InputError(f"OUT {out}: a space file ends in .json or .toml")
    if out.exists() and not args.force:
        raise InputError(f"OUT {out} exists; pick another file or pass --force")
    if not out.parent.is_dir():
        raise InputError(f"OUT {out}: the folder {out.parent} does not exist")
    space.save(out)
    if args.format == "json":
        print_json({"out": str(out), "space": space.name, "size": space.size,
                    "content_hash": space.content_hash()})
    elif not args.quiet:
        console.print(f"wrote space {space.name!r} ({space.size:,} architectures) to {out}")
    return EXIT_OK
