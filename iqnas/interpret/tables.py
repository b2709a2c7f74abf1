"""Coefficient tables of one QuadraticForm: main effects, interactions, depth, width, terms.

Every builder returns a list of row dicts over the columns of :data:`COLUMNS`:

- ``main`` / ``resources``: ``value = E[f | group=option] - E[f | group=reference]`` (or minus the
  mean over the group's options when the reference is ``"mean"``); ``raw = E[f | group=option]``.
- ``interactions``: per pair of groups with a nonzero block, ``raw`` is the coefficient of
  ``x[group=option] * x[group2=option2]`` and ``value`` the block centred so that every row and
  column averages zero (the "pure" interaction).
- ``depth``: per stage (groups ``s{stage}.depth`` with integer options), at ``position = d``:
  ``value = E[f | depth=d] - E[f | depth=previous d]`` and ``raw = E[f | depth=d]``.
- ``width``: per block ``s{stage}.b{j}`` (options ``e{ratio}_...``) or ``s{stage}.b{j}.e`` (options
  ``{ratio}``), the widest expansion minus the narrowest, each averaged uniformly over its options.
- ``coefficients``: the form's own terms (intercept, linear, pairwise); ``value = raw = coef``.

Expectations are exact under the prior of :class:`iqnas.interpret.moments.Moments`.
"""

from __future__ import annotations

import re

import numpy as np

from iqnas.errors import InputError
from iqnas.interpret.moments import Moments
from iqnas.quadform import QuadraticForm
from iqnas.space import SearchSpace

COLUMNS = ("table", "metric", "group", "option", "reference", "group2", "option2", "stage",
           "position", "value", "raw", "ci_low", "ci_high")
TABLES = ("main", "interactions", "depth", "width", "resources", "coefficients")
MEAN = "mean"
_DEPTH = re.compile(r"^s(\d+)\.depth$")
_BLOCK = re.compile(r"^s(\d+)\.b(\d+)(\.e)?$")
_EXPANSION = re.compile(r"^e(\d+(?:\.\d+)?)(?:_|$)")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


def row(table: str, metric: str, group: str = "", option: str = "", *, reference: str = "",
        group2: str = "", option2: str = "", stage=None, position=None, value: float,
        raw: float) -> dict:
    return dict(table=table, metric=metric, group=group, option=option, reference=reference,
                group2=group2, option2=option2, stage=stage, position=position,
                value=float(value), raw=float(raw), ci_low=np.nan, ci_high=np.nan)


def resolve_reference(space: SearchSpace, reference) -> list[int | None]:
    """Reference option index per group (``None`` means the mean over options)."""
    out: list[int | None] = [0] * space.n_groups
    if reference is None:
        return out
    if isinstance(reference, str):
        if reference != MEAN:
            raise InputError(f"reference={reference!r}: use None (first option), 'mean', or a "
                             "dict {group: option}")
        return [None] * space.n_groups
    if not isinstance(reference, dict):
        raise InputError("reference must be None, 'mean' or a dict {group: option}, got "
                         f"{type(reference).__name__}")
    for g, o in reference.items():
        gi = space.group_index(g)
        out[gi] = None if o == MEAN else space.option_index(gi, str(o))
    return out


def main_rows(mom: Moments, metric: str, reference=None, table: str = "main") -> list[dict]:
    space = mom.space
    refs = resolve_reference(space, reference)
    events = [{gi: o} for gi in range(space.n_groups) for o in range(space.sizes[gi])]
    vals = mom.expect_many(events)
    rows, k = [], 0
    for gi, g in enumerate(space.groups):
        v = vals[k:k + len(g.options)]
        k += len(g.options)
        base = float(v.mean()) if refs[gi] is None else float(v[refs[gi]])
        ref_name = MEAN if refs[gi] is None else g.options[refs[gi]]
        rows += [row(table, metric, g.name, o, reference=ref_name, value=v[j] - base, raw=v[j])
                 for j, o in enumerate(g.options)]
    return rows


def interaction_rows(form: QuadraticForm, metric: str) -> list[dict]:
    space, rows = form.space, []
    for (a, b), blk in form.pair_blocks.items():
        pure = blk - blk.mean(axis=1, keepdims=True) - blk.mean(axis=0, keepdims=True) + blk.mean()
        ga, gb = space.groups[a], space.groups[b]
        for i, oa in enumerate(ga.options):
            for j, ob in enumerate(gb.options):
                rows.append(row("interactions", metric, ga.name, oa, group2=gb.name, option2=ob,
                                value=pure[i, j], raw=blk[i, j]))
    return rows


def depth_groups(space: SearchSpace) -> list[tuple[int, int, list[int]]]:
    """(stage, group index, option indices sorted by depth) for every ``s{stage}.depth`` group."""
    out = []
    for gi, g in enumerate(space.groups):
        m = _DEPTH.match(g.name)
        if m and len(g.options) > 1 and all(o.isdigit() for o in g.options):
            order = sorted(range(len(g.options)), key=lambda k: int(g.options[k]))
            out.append((int(m.group(1)), gi, order))
    return out


def depth_rows(mom: Moments, metric: str) -> list[dict]:
    space, rows = mom.space, []
    for stage, gi, order in depth_groups(space):
        vals = mom.expect_many([{gi: o} for o in order])
        opts = space.groups[gi].options
        for t in range(1, len(order)):
            rows.append(row("depth", metric, space.groups[gi].name, opts[order[t]],
                            reference=opts[order[t - 1]], stage=stage,
                            position=int(opts[order[t]]), value=vals[t] - vals[t - 1],
                            raw=vals[t]))
    return rows


def expansion_classes(space: SearchSpace) -> list[tuple[int, int, int, dict[float, list[int]]]]:
    """(stage, block, group index, {expansion ratio: option indices}) for each block group."""
    out = []
    for gi, g in enumerate(space.groups):
        m = _BLOCK.match(g.name)
        if not m:
            continue
        classes: dict[float, list[int]] = {}
        for k, o in enumerate(g.options):
            mm = _NUMBER.match(o) if m.group(3) else _EXPANSION.match(o)
            if mm is None:
                classes = {}
                break
            classes.setdefault(float(mm.group(mm.lastindex or 0)), []).append(k)
        if len(classes) > 1:
            out.append((int(m.group(1)), int(m.group(2)), gi, classes))
    return out


def width_rows(mom: Moments, metric: str) -> list[dict]:
    space, rows = mom.space, []
    for stage, block, gi, classes in expansion_classes(space):
        vals = mom.expect_many([{gi: o} for o in range(space.sizes[gi])])
        hi, lo = max(classes), min(classes)
        wide, narrow = vals[classes[hi]].mean(), vals[classes[lo]].mean()
        rows.append(row("width", metric, space.groups[gi].name, f"e{hi:g}", reference=f"e{lo:g}",
                        stage=stage, position=block, value=wide - narrow, raw=wide))
    return rows


def coefficient_rows(form: QuadraticForm, metric: str) -> list[dict]:
    return [row("coefficients", metric, t["group"], t["option"], group2=t["group2"],
                option2=t["option2"], value=t["coef"], raw=t["coef"]) for t in form.terms()]


def form_rows(form: QuadraticForm, metric: str, tables, reference=None,
              prior: str = "architectures") -> list[dict]:
    """All requested objective tables (not ``resources``) of one form."""
    mom = Moments(form, prior) if {"main", "depth", "width"} & set(tables) else None
    rows: list[dict] = []
    for t in tables:
        if t == "main":
            rows += main_rows(mom, metric, reference)
        elif t == "interactions":
            rows += interaction_rows(form, metric)
        elif t == "depth":
            rows += depth_rows(mom, metric)
        elif t == "width":
            rows += width_rows(mom, metric)
        elif t == "coefficients":
            rows += coefficient_rows(form, metric)
    return rows
