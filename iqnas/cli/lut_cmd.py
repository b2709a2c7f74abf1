"""``iqnas lut``: measure the BINAS latency lookup table of the mobilenet space here."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from iqnas import spaces
from iqnas.cli.common import EXIT_OK, add_common, add_input_shape, console, print_json
from iqnas.errors import InputError


def register(sub) -> None:
    p = sub.add_parser("lut", help="measure the latency lookup table of the mobilenet space",
                       description="Time every block option at every position of the mobilenet "
                       "space alone, at the input it sees there, plus the fixed stem and tail, "
                       "and turn the table into the bilinear latency QuadraticForm (block option "
                       "x depth activity, as BINAS). --out saves the form (.json or .npz) for "
                       "`iqnas solve --constraint latency_ms=FILE:BUDGET`.")
    p.add_argument("--space", required=True, help="mobilenet (the only space with blocks)")
    add_input_shape(p, required=False, default_help=" (default 1,3,224,224)")
    p.add_argument("--out", default=None, metavar="FILE", help="write the form (.json or .npz)")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="the form --out saves: wall-clock latency (latency_ms, default) or CPU "
                        "time (latency_ms_cpu, not stretched by other work on the machine)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--warmup", type=int, default=5, help="untimed calls first (default 5)")
    p.add_argument("--repeats", type=int, default=30, help="timed calls (default 30)")
    p.add_argument("--seed", type=int, default=0)
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from iqnas.oracles.latency_lut import SPACE, build_latency_lut
    from iqnas.oracles.torch_oracle import parse_shape

    space = spaces.get(args.space)
    if space.name != SPACE:
        raise InputError(f"--space {space.name}: a latency lookup table is defined for the "
                         f"{SPACE} space (block options at positions)")
    if space.content_hash() != spaces.get(SPACE).content_hash():
        raise InputError(f"--space {args.space}: a part of the {SPACE} space; the latency "
                         f"lookup table is measured for the whole built-in space (--space "
                         f"{SPACE})")
    shape = parse_shape(args.input_shape or "1,3,224,224", "--input-shape")
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix not in (".json", ".npz"):
        raise InputError(f"--out {out}: use a .json or .npz file name")
    if out is not None and out.is_dir():
        raise InputError(f"--out {out} is a directory; give a file name like {out / 'lut.json'}")
    lut = build_latency_lut(shape, num_threads=args.threads, warmup=args.warmup,
                            repeats=args.repeats, seed=args.seed,
                            progress=None if not args.quiet else False)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        lut.save(out, clock=args.clock)
    if args.format == "json":
        print_json({**lut.to_dict(), "out": None if out is None else str(out)})
        return EXIT_OK
    from iqnas.spaces.mobilenet import BLOCK_OPTIONS

    cpu = args.clock == "cpu"
    table = lut.cpu_table if cpu else lut.table
    stem, tail = (lut.cpu_stem_ms, lut.cpu_tail_ms) if cpu else (lut.stem_ms, lut.tail_ms)
    t = Table("stage", "block", "fastest option (ms)", "slowest option (ms)",
              title=f"latency LUT ({'CPU time' if cpu else 'wall clock'}), input "
                    f"{','.join(map(str, shape))}")
    for s in range(table.shape[0]):
        for b in range(table.shape[1]):
            row = table[s, b]
            lo, hi = int(row.argmin()), int(row.argmax())
            t.add_row(str(s + 1), str(b + 1), f"{BLOCK_OPTIONS[lo]} {row[lo]:.4g}",
                      f"{BLOCK_OPTIONS[hi]} {row[hi]:.4g}")
    console.print(t)
    console.print(f"constant (stem {stem:.4g} + tail {tail:.4g}) = {stem + tail:.4g} ms"
                  + (f"; form written to {out}" if out else ""))
    return EXIT_OK
