"""Design matrices over a space's one-hot vector, and their exact map back to a QuadraticForm.

A feature map holds the one-hot columns (one per variable) followed, for every chosen pair of
groups ``(gi, gj)``, by the ``sizes[gi] * sizes[gj]`` products ``x_a * x_b`` of their options.
A row has exactly one nonzero product per pair, so the matrix is built sparse from option indices.
Coefficients learned on it map one-to-one onto ``QuadraticForm(linear=..., pairwise=...)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp

from iqnas.errors import InputError
from iqnas.quadform import QuadraticForm
from iqnas.space import SearchSpace

TERMS = ("linear", "pairwise", "bilinear")


def group_pairs(space: SearchSpace, terms: str | Iterable) -> list[tuple[int, int]]:
    """The pairs of group indices ``(gi < gj)`` whose products a model of ``terms`` uses.

    - ``"linear"``: none (one-hot only).
    - ``"pairwise"``: every two different groups.
    - ``"bilinear"``: BINAS's ``alpha x beta`` form: every controller group (a group some other
      group's ``active_if`` names, e.g. the mobilenet depths) with every non-controller group
      (e.g. every block, of every stage). A space without conditions has no controllers; there
      ``"bilinear"`` falls back to ``"pairwise"``.
    - an iterable of ``(group, group)`` names or indices: exactly those pairs.
    """
    n = space.n_groups
    if isinstance(terms, str):
        if terms == "linear":
            return []
        if terms == "pairwise":
            return list(itertools.combinations(range(n), 2))
        if terms == "bilinear":
            ctrls = {c for c, _ in space.conditions.values()}
            if not ctrls:
                return list(itertools.combinations(range(n), 2))
            return sorted((min(g, c), max(g, c)) for c in ctrls for g in range(n)
                          if g not in ctrls)
        raise InputError(f"terms={terms!r} is unknown; use one of {', '.join(TERMS)} or a list "
                         "of (group, group) pairs")
    out = set()
    for k, pair in enumerate(terms):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise InputError(f"terms[{k}] = {pair!r} must be a (group, group) pair")
        a, b = (space.group_index(g) for g in pair)
        if a == b:
            raise InputError(f"terms[{k}] pairs group {space.groups[a].name!r} with itself; "
                             "products inside one group are always zero")
        out.add((min(a, b), max(a, b)))
    return sorted(out)


def as_choices(space: SearchSpace, X) -> np.ndarray:
    """Coerce architectures, keys, an (n, n_vars) one-hot matrix or an (n, n_groups) integer
    choices matrix to an (n, n_groups) int64 array of option indices (inactive groups hold 0)."""
    if sp.issparse(X):
        X = X.toarray()
    if isinstance(X, np.ndarray) and X.ndim == 2:
        if X.shape[1] == space.n_vars:
            return _onehot_to_choices(space, X)
        if X.shape[1] == space.n_groups and np.issubdtype(X.dtype, np.integer):
            return _check_choices(space, X)
        raise InputError(f"X has {X.shape[1]} columns; space {space.name!r} needs a one-hot "
                         f"matrix with {space.n_vars} columns, an integer choices matrix with "
                         f"{space.n_groups} columns, or a list of architectures/keys")
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__"):
        raise InputError("X must be a list of architectures/keys or a 2-D array, got "
                         f"{type(X).__name__}")
    if len(X) == 0:
        return np.zeros((0, space.n_groups), dtype=np.int64)
    rows = []
    for i, a in enumerate(X):
        try:
            rows.append(space.to_arch(a).choices)
        except InputError as exc:
            raise InputError(f"X[{i}]: {exc}") from None
    return np.asarray(rows, dtype=np.int64)


def _onehot_to_choices(space: SearchSpace, X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.shape[0] == 0:
        return np.zeros((0, space.n_groups), dtype=np.int64)
    ok = (X == 0.0) | (X == 1.0)
    sums = np.add.reduceat(X, space.offsets, axis=1)
    bad = ~ok.all(axis=1) | (sums != 1.0).any(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"X row {i} is not one-hot in every group (entries must be 0/1 with "
                         "one 1 per group); encode it with space.encode")
    C = space.onehot_to_choices(X).astype(np.int64)
    wrong = space.canonical(C) != C
    if wrong.any():
        i, gi = (int(v) for v in np.argwhere(wrong)[0])
        raise InputError(f"X row {i}: inactive group {space.groups[gi].name!r} must take "
                         "its first option")
    return C


def _check_choices(space: SearchSpace, C: np.ndarray) -> np.ndarray:
    C = np.asarray(C, dtype=np.int64)
    bad = (C < 0) | (C >= space.sizes[None, :])
    if bad.any():
        i, g = (int(v) for v in np.argwhere(bad)[0])
        raise InputError(f"choices row {i}: option {C[i, g]} out of range for group "
                         f"{space.groups[g].name!r} (0..{space.sizes[g] - 1})")
    return space.canonical(C)


class FeatureMap:
    """Columns: the ``n_vars`` one-hot variables, then one block per group pair."""

    def __init__(self, space: SearchSpace, pairs: Sequence[tuple[int, int]]) -> None:
        self.space = space
        self.pairs = [(int(a), int(b)) for a, b in pairs]
        sizes = space.sizes
        widths = [int(sizes[a] * sizes[b]) for a, b in self.pairs]
        starts = np.concatenate([[0], np.cumsum(widths)[:-1]]) if widths else np.zeros(0)
        self.pair_offsets = (space.n_vars + starts).astype(np.int64)
        self.n_features = space.n_vars + int(sum(widths))

    @classmethod
    def from_terms(cls, space: SearchSpace, terms: str | Iterable) -> FeatureMap:
        return cls(space, group_pairs(space, terms))

    def transform(self, choices: np.ndarray) -> sp.csr_matrix:
        """(n, n_groups) option indices -> sparse (n, n_features) 0/1 design matrix."""
        C = np.asarray(choices, dtype=np.int64)
        n = C.shape[0]
        cols = [C + self.space.offsets[None, :]]
        sizes = self.space.sizes
        for (a, b), off in zip(self.pairs, self.pair_offsets):
            cols.append((off + C[:, a] * sizes[b] + C[:, b])[:, None])
        idx = np.concatenate(cols, axis=1)
        k = idx.shape[1]
        indptr = np.arange(0, n * k + 1, k, dtype=np.int64)
        mat = sp.csr_matrix((np.ones(n * k), idx.ravel(), indptr), shape=(n, self.n_features))
        mat.sort_indices()
        return mat

    def to_form(self, intercept: float, coef: np.ndarray, *, name: str = "",
                units: str = "") -> QuadraticForm:
        """The QuadraticForm equal to ``intercept + design @ coef`` on every architecture."""
        coef = np.asarray(coef, dtype=float).ravel()
        if coef.shape != (self.n_features,):
            raise InputError(f"coef has {coef.shape[0]} entries, the feature map has "
                             f"{self.n_features}")
        space, nv = self.space, self.space.n_vars
        rows, cols, vals = [], [], []
        for (a, b), off in zip(self.pairs, self.pair_offsets):
            sa, sb = int(space.sizes[a]), int(space.sizes[b])
            rows.append(np.repeat(space.offsets[a] + np.arange(sa), sb))
            cols.append(np.tile(space.offsets[b] + np.arange(sb), sa))
            vals.append(coef[off:off + sa * sb])
        pairwise = None
        if rows:
            pairwise = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                             np.concatenate(cols))),
                                     shape=(nv, nv))
        return QuadraticForm(space, float(intercept), coef[:nv], pairwise, name=name, units=units)

    def feature_names(self) -> list[str]:
        names = self.space.var_names()
        out = list(names)
        for a, b in self.pairs:
            na = names[self.space.offsets[a]:self.space.offsets[a] + self.space.sizes[a]]
            nb = names[self.space.offsets[b]:self.space.offsets[b] + self.space.sizes[b]]
            out += [f"{u}*{v}" for u in na for v in nb]
        return out

    def __repr__(self) -> str:
        return (f"FeatureMap({self.space.name!r}, pairs={len(self.pairs)}, "
                f"n_features={self.n_features})")
