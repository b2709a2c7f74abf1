"""``iqnas report``: one self-contained HTML file of a calibration run (and a sweep)."""

from __future__ import annotations

import argparse

from iqnas.cli.common import EXIT_OK, console
from iqnas.errors import InputError


def register(sub) -> None:
    p = sub.add_parser("report", help="write a self-contained HTML report of a run",
                       description="Write one HTML file (plotly.js inline, opens offline) with "
                       "the run's settings and what was measured, progress over rounds beside "
                       "random search (table oracles), the Pareto front of --sweep, the "
                       "coefficient tables as figures with bootstrap intervals, model quality, "
                       "a sortable samples table and the chosen networks with their export "
                       "commands. Needs iqnas[report] (plotly).")
    p.add_argument("--store", required=True, metavar="FILE",
                   help="the run's SQLite sample store (iqnas calibrate --store)")
    p.add_argument("--models", metavar="DIR", default=None,
                   help="the run's fitted models (iqnas calibrate --save-models DIR); default: "
                        "refit them from the samples as the run did")
    p.add_argument("--sweep", metavar="FILE.jsonl", default=None,
                   help="a sweep file solved with these models (iqnas sweep --out FILE.jsonl)")
    p.add_argument("--out", required=True, metavar="FILE.html", help="the report to write")
    p.add_argument("--title", default=None, help="title of the report")
    p.add_argument("--xlabel", default=None, help="x-axis title of the Pareto front")
    p.add_argument("--ylabel", default=None, help="y-axis title of the Pareto front")
    p.add_argument("--bootstrap", type=int, default=50, metavar="N",
                   help="refits for the coefficients' 95%% intervals (0: none; default 50)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--figures", metavar="DIR", default=None,
                   help="also write every figure to DIR as PNG (matplotlib, same data)")
    p.add_argument("--figure-format", choices=("png", "svg"), default=None,
                   help="file type of --figures (default png)")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(func=run, outputs=[("--out", "out", "file"), ("--figures", "figures", "dir")])


def run(args: argparse.Namespace) -> int:
    from iqnas.reporting import report

    if args.figure_format is not None and args.figures is None:
        raise InputError("--figure-format is the file type of --figures DIR; give --figures too")
    path = report(args.store, args.models, args.sweep, args.out, title=args.title,
                  xlabel=args.xlabel, ylabel=args.ylabel, n_bootstrap=args.bootstrap,
                  seed=args.seed, figures=args.figures, figure_format=args.figure_format or "png")
    if not args.quiet:
        console.print(f"wrote {path}" + (f" and the figures in {args.figures}"
                                         if args.figures else ""), soft_wrap=True)
    return EXIT_OK
