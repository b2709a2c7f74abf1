"""``iqnas explain``: interpretation tables of a fitted form (main effects, interactions, depth)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from iqnas import spaces
from iqnas._outputs import write_text_atomic
from iqnas.cli.common import EXIT_OK, check_file, console, err_console
from iqnas.errors import InputError
from iqnas.quadform import QuadraticForm

TABLE_CHOICES = ("main", "interactions", "depth", "width", "resources", "coefficients", "all")
FORMATS = ("table", "csv", "markdown", "json")
_SUFFIX_FORMAT = {".csv": "csv", ".md": "markdown", ".json": "json", ".txt": "table"}
#: rows per table shown in table format unless --top or --all says otherwise
DEFAULT_TOP = 10


def register(sub) -> None:
    p = sub.add_parser("explain", help="interpretation tables of a fitted form",
                       description="Main effects per option (averaged exactly over uniformly "
                       "random architectures), centred pairwise interactions, the depth and "
                       "width contributions per stage and block position, per-option resource "
                       "costs and the raw coefficients of a QuadraticForm JSON/NPZ file.")
    p.add_argument("form", metavar="FORM", help="QuadraticForm file (.json or .npz)")
    p.add_argument("--space", default=None,
                   help="search space: a built-in name or a .json/.toml space file (default: "
                   "the built-in space the form file names)")
    p.add_argument("--resource", action="append", default=[], metavar="NAME=FILE",
                   help="resource form whose per-option cost goes in the resources table "
                   "(repeatable)")
    p.add_argument("--samples", metavar="CSV|STORE", default=None,
                   help="calibration samples to resample: a CSV with a 'key' (or 'arch') column "
                   "and the metric column, or the run's SQLite store (then each refit uses the "
                   "estimator the run fitted the metric with)")
    p.add_argument("--metric", default=None, help="metric column of --samples (default: the "
                   "form's name)")
    p.add_argument("--bootstrap", type=int, default=0, metavar="N",
                   help="refits on resampled --samples for 95%% intervals")
    p.add_argument("--table", action="append", choices=TABLE_CHOICES, default=None,
                   help="table(s) to show (repeatable; default: all)")
    p.add_argument("--reference", action="append", default=None, metavar="REF",
                   help="'first' (default), 'mean', or GROUP=OPTION (repeatable)")
    p.add_argument("--prior", choices=("architectures", "options"), default="architectures",
                   help="random architectures the effects average over (default: uniform over "
                   "distinct architectures)")
    p.add_argument("--top", type=int, default=None, metavar="N",
                   help="keep the N rows of largest |value| per table (default: "
                        f"{DEFAULT_TOP} in table format, every row in the other formats)")
    p.add_argument("--all", action="store_true", help="every row of every table")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="output format (default: from the --out suffix, else table)")
    p.add_argument("--out", metavar="FILE", default=None, help="write to FILE, not stdout")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    p.set_defaults(func=run, outputs=[("--out", "out", "file")])


def parse_reference(items: list[str] | None):
    if not items:
        return None
    if len(items) == 1 and items[0] in ("first", "mean"):
        return None if items[0] == "first" else "mean"
    out = {}
    for text in items:
        if "=" not in text:
            raise InputError(f"--reference {text!r}: expected 'first', 'mean' or GROUP=OPTION")
        g, o = text.split("=", 1)
        out[g.strip()] = o.strip()
    return out


def _resources(specs: list[str], space) -> dict[str, QuadraticForm]:
    out = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise InputError(f"--resource {spec!r}: expected NAME=FILE")
        if name in out:
            raise InputError(f"--resource {name!r} given twice")
        out[name] = QuadraticForm.load(check_file(path, f"resource {name!r}"), space)
    return out


def _samples(path: str, metric: str | None, form: QuadraticForm):
    """The samples to resample: a CSV with a key (or ``arch``) column and the metric column, or
    a calibration store (its samples, and the estimator the run fitted ``metric`` with)."""
    import pandas as pd

    file = check_file(path, "samples")
    metric = metric or form.name
    if _is_sqlite(file):
        return _store_samples(file, metric, form)
    try:
        df = pd.read_csv(file)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"--samples {path}: not a readable CSV ({exc})") from None
    if "key" not in df.columns and "arch" in df.columns:  # a store's export_csv
        df = df.rename(columns={"arch": "key"})
    if "key" not in df.columns:
        raise InputError(f"--samples {path}: needs a 'key' (or 'arch') column of architecture "
                         "keys")
    if not metric or metric not in df.columns:
        cols = [c for c in df.columns if c != "key"]
        raise InputError(f"--samples {path}: pass --metric, one of its columns {cols}")
    if {"round", "source"} <= set(df.columns):  # a store's export: empty = not measured
        df = df[df[metric].notna()].reset_index(drop=True)
    return df, metric, None


def _is_sqlite(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(16) == b"SQLite format 3\x00"


def _store_samples(path: Path, metric: str | None, form: QuadraticForm):
    from iqnas.calibration.run import make_estimator
    from iqnas.calibration.store import open_store

    with open_store(path) as st:
        if st.space.name != form.space.name:
            raise InputError(f"--samples {path} holds samples of space {st.space.name!r}, the "
                             f"form is over {form.space.name!r}")
        df, settings, units, metrics = st.samples(), st.get_meta("settings"), st.units, \
            st.metrics
        choice = st.get_meta("model_choice")
    if not metric or metric not in df.columns:
        raise InputError(f"--samples {path}: pass --metric, one of the store's metrics "
                         f"{metrics}")
    df = df[df[metric].notna()].reset_index(drop=True)  # the samples that measured it
    estimator = None
    if isinstance(settings, dict) and "objective" in settings:
        if isinstance(choice, dict):
            settings = {**settings, "model_choice": choice}
        estimator = make_estimator(form.space, metric, settings["objective"], settings,
                                   units.get(metric, ""))
    return df, metric, estimator


def run(args: argparse.Namespace) -> int:
    from iqnas.interpret import explain, rich_tables, to_csv, to_json, to_markdown, top_rows

    if args.out is not None and args.format is None \
            and Path(args.out).suffix.lower() not in _SUFFIX_FORMAT:
        raise InputError(f"--out {args.out}: unknown file type {Path(args.out).suffix!r}; use "
                         f"{', '.join(_SUFFIX_FORMAT)} or give --format")
    if args.all and args.top is not None:
        raise InputError("--all and --top contradict each other; give one")
    space = spaces.get(args.space) if args.space else None
    form = QuadraticForm.load(check_file(args.form, "form"), space)
    tables = None if not args.table or "all" in args.table else args.table
    if tables and "resources" in tables and not args.resource:
        raise InputError("--table resources needs at least one --resource NAME=FILE")
    if args.top is not None and args.top < 1:
        raise InputError(f"--top must be a positive number of rows, got {args.top}")
    resources = _resources(args.resource, form.space)
    samples, metric, estimator = None, None, None
    if args.samples:
        if args.bootstrap < 2:
            raise InputError("--samples needs --bootstrap N (N >= 2 refits), e.g. --bootstrap 200")
        samples, metric, estimator = _samples(args.samples, args.metric, form)
    elif args.bootstrap:
        raise InputError("--bootstrap needs --samples CSV to resample")
    df = explain(form, reference=parse_reference(args.reference), samples=samples,
                 n_bootstrap=args.bootstrap, estimator=estimator, resources=resources,
                 seed=args.seed,
                 tables=tables, metric=metric, prior=args.prior)
    fmt = args.format or (_SUFFIX_FORMAT.get(Path(args.out).suffix.lower(), "table")
                          if args.out else "table")
    top = args.top
    if top is None and fmt == "table" and not args.all:
        top = DEFAULT_TOP
    full = df
    df = top_rows(df, top)
    if fmt == "table":
        _print_tables(rich_tables(df), args.out)
        if len(df) < len(full) and args.top is None and not args.quiet:
            err_console.print(f"showing the {DEFAULT_TOP} rows of largest |value| per table "
                              f"({len(df)} of {len(full)}); --all for every row, --top N for "
                              "another number", markup=False, soft_wrap=True)
        return EXIT_OK
    text = {"csv": to_csv, "markdown": to_markdown,
            "json": lambda d: to_json(d, indent=1) + "\n"}[fmt](df)
    if args.out:
        write_text_atomic(args.out, text, "--out")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _print_tables(tables, out: str | None) -> None:
    if out is None:
        for t in tables:
            console.print(t)
        return
    import io

    from rich.console import Console

    buf = io.StringIO()
    file_console = Console(file=buf, width=200, no_color=True, highlight=False)
    for t in tables:
        file_console.print(t)
    write_text_atomic(out, buf.getvalue(), "--out")
