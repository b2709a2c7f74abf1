"""Triangle inequalities over product variables: cutting planes for the linearised form.

For binaries ``x_i, x_j, x_k`` from three different groups whose three products
``y_ij, y_ik, y_jk`` all exist (``y = x * x`` exactly at integer points), every solution satisfies

* ``x_i + x_j + x_k - y_ij - y_ik - y_jk <= 1``
* ``y_ij + y_ik - y_jk <= x_i`` (and the same with ``j`` or ``k`` in the middle).

These are the triangle inequalities of the Boolean quadric polytope: valid for every integer
point, so adding them never cuts off an architecture. They cut off the "frustrated cycle"
fractional points that the aggregated (local-marginal) formulation allows, which closes most of
the root gap on dense pairwise objectives.

Separation only looks at the LP support. The aggregated rows give ``y_ij <= x_i`` and
``y_jk >= x_j + x_k - 1``, so an inequality can only be violated by more than ``eps`` when each of
its three options has ``x > eps / 4``: per group that is a handful of options at an LP vertex,
so a round costs a few thousand products instead of every option triple.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from iqnas.formulations.compiled import CompiledProblem


@dataclass
class TriangleIndex:
    """Where the products of a compiled problem are, for separating triangle inequalities."""

    n_x: int
    group_of_var: np.ndarray   # (n_x,) group of each binary
    product: np.ndarray        # (n_x + 1, n_x + 1) index of y_ij in the variable vector, -1 if none
    triples: np.ndarray        # (T, 3) groups a < b < c whose three group pairs all have products

    @property
    def n_triples(self) -> int:
        return int(self.triples.shape[0])


def triangle_index(cp: CompiledProblem, space) -> TriangleIndex | None:
    """The triangle structure of a linearised problem (None without any group triple)."""
    if cp.n_y == 0:
        return None
    n = cp.n_x
    product = np.full((n + 1, n + 1), -1, dtype=np.int64)  # row/column n: padding, never a y
    i, j = cp.products[:, 0], cp.products[:, 1]
    k = cp.n_x + np.arange(cp.n_y)
    product[i, j] = k
    product[j, i] = k
    gov = np.asarray(space.group_of_var)
    n_groups = len(space.sizes)
    linked = np.zeros((n_groups, n_groups), dtype=bool)
    linked[gov[i], gov[j]] = linked[gov[j], gov[i]] = True
    np.fill_diagonal(linked, False)
    a, b, c = np.nonzero(linked[:, :, None] & linked[:, None, :] & linked[None, :, :])
    keep = (a < b) & (b < c)
    triples = np.stack([a[keep], b[keep], c[keep]], axis=1).astype(np.int64)
    if not len(triples):
        return None
    return TriangleIndex(n, gov, product, triples)


def support(x: np.ndarray, index: TriangleIndex, eps: float) -> np.ndarray:
    """Per group, the binaries with ``x > eps / 4`` as a padded (n_groups, S) array (pad = n_x)."""
    on = np.flatnonzero(x[: index.n_x] > eps / 4)
    groups = index.group_of_var[on]
    n_groups = int(index.group_of_var.max()) + 1
    counts = np.bincount(groups, minlength=n_groups)
    width = max(int(counts.max()) if len(counts) else 0, 1)
    out = np.full((n_groups, width), index.n_x, dtype=np.int64)
    slot = np.arange(len(on)) - np.concatenate([[0], np.cumsum(counts)[:-1]])[groups]
    out[groups, slot] = on
    return out


def needed_columns(x: np.ndarray, index: TriangleIndex, eps: float = 1e-4) -> np.ndarray:
    """The product variables :func:`separate` reads at ``x`` (all others may be left unset)."""
    sup = support(x, index, eps)
    cols = []
    for p, q in ((0, 1), (0, 2), (1, 2)):
        ga, gb = index.triples[:, p], index.triples[:, q]
        cols.append(index.product[sup[ga][:, :, None], sup[gb][:, None, :]].ravel())
    cols = np.unique(np.concatenate(cols))
    return cols[cols >= 0]


def separate(v: np.ndarray, index: TriangleIndex, eps: float = 1e-4, max_cuts: int = 1000,
             per_triple: int = 0) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """The most violated triangle inequalities at ``v`` as ``(columns, coefficients, rhs)``
    meaning ``coefficients @ v[columns] <= rhs``; at most ``max_cuts``, most violated first, and
    at most ``per_triple`` per group triple if that is positive.

    ``v`` needs the binaries and the columns :func:`needed_columns` names; nothing else is read.
    """
    x = v[: index.n_x]
    sup = support(x, index, eps)
    ext = np.append(np.asarray(v, dtype=float), 0.0)       # index -1 / padding read a zero
    xpad = np.append(x, 0.0)
    A, B, C = (sup[index.triples[:, p]] for p in range(3))  # (T, S) binaries of each triple
    real = (A < index.n_x)[:, :, None, None] & (B < index.n_x)[:, None, :, None] \
        & (C < index.n_x)[:, None, None, :]
    iab = index.product[A[:, :, None], B[:, None, :]]
    iac = index.product[A[:, :, None], C[:, None, :]]
    ibc = index.product[B[:, :, None], C[:, None, :]]
    real &= (iab >= 0)[:, :, :, None] & (iac >= 0)[:, :, None, :] & (ibc >= 0)[:, None, :, :]
    xa, xb, xc = xpad[A][:, :, None, None], xpad[B][:, None, :, None], xpad[C][:, None, None, :]
    yab, yac, ybc = ext[iab][:, :, :, None], ext[iac][:, :, None, :], ext[ibc][:, None, :, :]
    viols = (xa + xb + xc - yab - yac - ybc - 1.0,
             yab + yac - ybc - xa,
             yab + ybc - yac - xb,
             yac + ybc - yab - xc)
    found = []
    for kind, viol in enumerate(viols):
        hit = np.argwhere(real & (viol > eps))
        if len(hit):
            found.append((viol[tuple(hit.T)], np.full(len(hit), kind), hit))
    if not found:
        return []
    val = np.concatenate([f[0] for f in found])
    kinds = np.concatenate([f[1] for f in found])
    hits = np.concatenate([f[2] for f in found])
    order = np.argsort(-val, kind="stable")
    if per_triple > 0:
        t = hits[order, 0]
        rank = np.empty(len(order), dtype=np.int64)      # rank of each cut within its triple
        first = np.argsort(t, kind="stable")
        ts = t[first]
        starts = np.flatnonzero(np.r_[True, ts[1:] != ts[:-1]])
        rank[first] = np.arange(len(ts)) - np.repeat(starts, np.diff(np.r_[starts, len(ts)]))
        order = order[rank < per_triple]
    cuts = []
    for r in order[:max_cuts]:
        t, i, j, k = hits[r]
        xi, xj, xk = A[t, i], B[t, j], C[t, k]
        cuts.append(_cut(int(kinds[r]), xi, xj, xk, iab[t, i, j], iac[t, i, k], ibc[t, j, k]))
    return cuts


def _cut(kind: int, xi, xj, xk, yij, yik, yjk):
    if kind == 0:
        return np.array([xi, xj, xk, yij, yik, yjk]), np.array([1., 1, 1, -1, -1, -1]), 1.0
    if kind == 1:
        return np.array([yij, yik, yjk, xi]), np.array([1., 1, -1, -1]), 0.0
    if kind == 2:
        return np.array([yij, yjk, yik, xj]), np.array([1., 1, -1, -1]), 0.0
    return np.array([yik, yjk, yij, xk]), np.array([1., 1, -1, -1]), 0.0
