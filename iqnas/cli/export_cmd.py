"""``iqnas export``: write a chosen network as a torch.export program (and ONNX) with its
architecture record."""

from __future__ import annotations

import argparse
import json

from rich.table import Table

from iqnas import spaces
from iqnas.cli.common import (
    EXIT_OK,
    SPACE_HELP,
    add_common,
    add_input_shape,
    console,
    parse_named_file,
    print_json,
)
from iqnas.errors import InputError


def register(sub) -> None:
    p = sub.add_parser("export", help="write a network as model.pt2 (+ model.onnx) and arch.json",
                       description="Build the network of --arch with seeded initial weights and "
                       "write DIR/model.pt2 (torch.export, never a pickle), DIR/model.onnx with "
                       "--onnx, and DIR/arch.json (key, space name and content hash, and the "
                       "predictions of --model forms and the measurements of --store). DIR is "
                       "written atomically; an existing non-empty DIR needs --force.")
    p.add_argument("--space", required=True, help=SPACE_HELP)
    p.add_argument("--arch", required=True, metavar="KEY", help="architecture key")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.add_argument("--onnx", action="store_true", help="also write model.onnx")
    p.add_argument("--builder", default=None, metavar="MODULE:FUNCTION",
                   help="your function arch -> torch.nn.Module (default: built-in)")
    add_input_shape(p, required=False,
                    default_help=" (default: batch 1 at the built-in network's input)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    p.add_argument("--store", default=None, metavar="FILE",
                   help="record this store's measurements of the architecture")
    p.add_argument("--model", action="append", default=[], metavar="NAME=FILE",
                   help="record this QuadraticForm's prediction (repeatable)")
    p.add_argument("--force", action="store_true", help="replace a non-empty DIR")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from iqnas.network_export import ARCH_FILE, export_network

    space = spaces.get(args.space)
    arch = space.parse_key(args.arch)
    models = {}
    for spec in args.model:
        name, path = parse_named_file(spec, "--model")
        if name in models:
            raise InputError(f"--model {name!r} given twice")
        models[name] = path
    out = export_network(space, arch, args.out, builder=args.builder,
                         input_shape=args.input_shape, onnx=args.onnx, seed=args.seed,
                         store=args.store, models=models, force=args.force)
    record = json.loads((out / ARCH_FILE).read_text())
    if args.format == "json":
        print_json({**record, "out": str(out)})
        return EXIT_OK
    t = Table(show_header=False, box=None, title=f"exported to {out}")
    t.add_column(style="bold", no_wrap=True)
    t.add_column(overflow="fold")
    t.add_row("architecture", record["key"])
    t.add_row("space", f"{record['space']} ({record['space_hash'][:19]}...)")
    t.add_row("files", ", ".join(record["files"]))
    t.add_row("input shape", ",".join(map(str, record["input_shape"])))
    for kind in ("predicted", "measured"):
        for name, v in record[kind].items():
            t.add_row(f"{kind} {name}", f"{v['value']:.6g} {v['units']}".strip())
    console.print(t)
    return EXIT_OK
