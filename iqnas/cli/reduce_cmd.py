"""``iqnas reduce``: cluster a space, keep the cluster with the best training-free score and
write it as a cluster file (its Voronoi cell: linear constraints for solve/sweep/calibrate)."""

from __future__ import annotations

import argparse
import math

from rich.table import Table

from iqnas import spaces
from iqnas.cli.common import (
    EXIT_OK,
    SPACE_HELP,
    add_common,
    check_file,
    console,
    parse_budget_spec,
    print_json,
)
from iqnas.errors import InputError

SCORES = ("naswot", "freerea")
#: with more features than this the table sums feature means per kind (e.g. over stages)
MAX_FEATURE_COLUMNS = 8


def register(sub) -> None:
    p = sub.add_parser("reduce", help="reduce a space to its best cluster (C-BRED) and write "
                       "it as linear constraints",
                       description="Cluster a search space on op-usage features that are "
                       "linear in the one-hot vector (k-means), score every cluster by the mean "
                       "training-free score of a seeded ~10 % of its members (bootstrap "
                       "interval), and write the best cluster to --out. Pass the file to "
                       "`iqnas solve/sweep/calibrate --restrict` to search inside it. Exit 0 on "
                       "success, 2 on bad input.")
    p.add_argument("--space", required=True, help=SPACE_HELP)
    p.add_argument("--k", default=None, metavar="K",
                   help="number of clusters (default: chosen by silhouette over --k-range)")
    p.add_argument("--k-range", default=None, metavar="LO:HI",
                   help="candidate K for the silhouette choice (default 2:12)")
    p.add_argument("--score", default="freerea", metavar="naswot|freerea",
                   help="training-free score: mean NASWOT, or FreeREA's combined score "
                        "(default freerea)")
    p.add_argument("--out", required=True, metavar="CLUSTER.json", help="cluster file to write")
    p.add_argument("--seed", default="0", help="seed of the clustering and the scored samples")
    p.add_argument("--dataset", default=None, help="nb201 dataset (default cifar100)")
    p.add_argument("--oracle", default=None,
                   help="what measures the metrics: 'nb201', 'proxies' (live, torch on CPU) or a "
                        "CSV file (default: the nb201 table on nb201, proxies elsewhere)")
    p.add_argument("--constraint", action="append", default=[],
                   metavar="NAME=BUDGET|NAME=FILE:BUDGET",
                   help="budget on a measured metric, or on a resource form file (repeatable); "
                        "clusters are fitted and scored on the feasible architectures")
    p.add_argument("--samples", default=None, metavar="N",
                   help="architectures clustered when the space is too large to enumerate "
                        "(default 10000)")
    p.add_argument("--fraction", default="0.1", metavar="F",
                   help="share of each cluster's members measured for its score (default 0.1)")
    add_common(p)
    p.set_defaults(func=run, outputs=[("--out", "out", "file")])


def _int(text: str | None, flag: str, low: int) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{flag} {text!r} is not an integer") from None
    if value < low:
        raise InputError(f"{flag} must be >= {low}, got {value}")
    return value


def _k_range(text: str) -> tuple[int, int]:
    lo, sep, hi = text.partition(":")
    if not sep:
        raise InputError(f"--k-range {text!r}: expected LO:HI, e.g. 2:12")
    low, high = _int(lo, "--k-range low", 2), _int(hi, "--k-range high", 2)
    if low > high:
        raise InputError(f"--k-range {text!r}: LO must be <= HI")
    return low, high


def parse_constraints(specs: list[str], space) -> dict:
    from iqnas.quadform import QuadraticForm

    out: dict = {}
    for spec in specs:
        name, path, budget = parse_budget_spec(spec)
        if name in out:
            raise InputError(f"--constraint {name!r} given twice")
        if path is None:
            out[name] = budget
        else:
            out[name] = (QuadraticForm.load(check_file(path, f"constraint {name!r}"), space),
                         budget)
    return out


def run(args: argparse.Namespace) -> int:
    from iqnas.reduction import fileformat
    from iqnas.reduction.run import reduce

    space = spaces.get(args.space)
    if args.score not in SCORES:
        raise InputError(f"unknown score {args.score!r}; use one of {', '.join(SCORES)}")
    k = _int(args.k, "--k", 2)
    if k is not None and args.k_range is not None:
        raise InputError("--k fixes the number of clusters and --k-range is searched for it; "
                         "give one")
    if k is not None and k > space.size:
        raise InputError(f"--k {k} is more than the {space.size} architectures of space "
                         f"{space.name!r}")
    seed = _int(args.seed, "--seed", 0)
    n_samples = _int(args.samples, "--samples", 2)
    try:
        fraction = float(args.fraction)
    except ValueError:
        raise InputError(f"--fraction {args.fraction!r} is not a number") from None
    if not 0 < fraction <= 1:
        raise InputError(f"--fraction must be in (0, 1], got {fraction:g}")
    k_range = _k_range(args.k_range or "2:12")
    out = fileformat.check_writable(args.out)
    constraints = parse_constraints(args.constraint, space)
    cluster = reduce(space, k, args.score, seed, oracle=args.oracle, dataset=args.dataset,
                     constraints=constraints or None, n_samples=n_samples,
                     score_fraction=fraction, k_range=k_range,
                     progress=False if args.quiet else None)
    cluster.save(out)
    summary = cluster.summary()
    if args.format == "json":
        records = [{"cluster": int(i), **{c: _plain(v) for c, v in row.items()}}
                   for i, row in summary.iterrows()]
        print_json({"out": str(out), "space": space.name, "k": cluster.k,
                    "selected": cluster.index,
                    "n_constraints": len(cluster.linear_constraints),
                    "digest": cluster.digest, "settings": cluster.settings,
                    "clusters": records})
        return EXIT_OK
    console.print(_table(cluster, summary))
    if not args.quiet:
        s = cluster.settings
        how = "given" if s.get("silhouette") is None else "chosen by silhouette"
        console.print(f"K = {cluster.k} ({how}); {s['n_sample']} architectures clustered"
                      f"{'' if s['enumerated'] else ' (a uniform sample)'}, {s['n_measured']} "
                      f"measured by {s['oracle']}; score {s['score']}", soft_wrap=True)
        n_rows = len(cluster.linear_constraints)
        console.print(f"wrote {out}: cluster {cluster.index} as {n_rows} linear constraints "
                      f"({cluster.k - 1} Voronoi rows, {n_rows - cluster.k + 1} hull rows); "
                      f"search inside it with `--restrict {out}` (iqnas solve, sweep, calibrate)",
                      soft_wrap=True)
    return EXIT_OK


def _plain(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    return v.item() if hasattr(v, "item") else v


def _table(cluster, summary) -> Table:
    feats = cluster.features
    if feats.n_features <= MAX_FEATURE_COLUMNS:
        groups = {n: [n] for n in feats.names}
    else:
        groups = {}
        for n, kind in zip(feats.names, feats.kinds):
            groups.setdefault(kind, []).append(n)
    budgets = [c for c in summary.columns if str(c).startswith("feasible")]
    t = Table(title=f"{cluster.space.name}: {cluster.k} clusters "
              f"(score: {cluster.settings.get('score')})", header_style="bold", box=None)
    for col in ["", "cluster", "size", *groups, "score [interval]", "scored", *budgets]:
        t.add_column(col, no_wrap=True, justify="right")
    for i, row in summary.iterrows():
        cells = ["*" if row["selected"] else "", str(i), f"{int(row['size'])}"]
        for names in groups.values():
            vals = [row[n if n in summary.columns else f"mean {n}"] for n in names]
            cells.append(f"{sum(vals):.2f}")
        if math.isnan(row["score"]):
            cells.append("-")
        else:
            cells.append(f"{row['score']:.4g} [{row['score_lo']:.4g}, {row['score_hi']:.4g}]")
        cells.append(f"{int(row['n_scored'])}")
        cells += [f"{row[b]:.0%}" for b in budgets]
        t.add_row(*cells)
    return t
