"""``--restrict CLUSTER.json``: a reduced space (``iqnas reduce --out``) for solve, sweep and
calibrate. The reduction modules are imported only when the option is given."""

from __future__ import annotations

import argparse

from iqnas.space import SearchSpace


def add_restrict_option(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--restrict", metavar="CLUSTER.json", default=None,
                   help=f"a reduced space written by `iqnas reduce --out`: {what}")


def load_restrict(args: argparse.Namespace, space: SearchSpace):
    """The Cluster of ``--restrict`` for ``space`` (None without the option); a file for
    another space, or a malformed one, is an InputError."""
    if getattr(args, "restrict", None) is None:
        return None
    from iqnas.reduction.cluster import Cluster

    return Cluster.load(args.restrict, space)


def restricted_rows(args: argparse.Namespace, space: SearchSpace) -> tuple:
    """The linear constraints of ``--restrict`` (empty without the option)."""
    cluster = load_restrict(args, space)
    return () if cluster is None else cluster.linear_constraints
