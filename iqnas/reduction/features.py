"""Op-usage features that are linear in the one-hot vector: ``raw = matrix @ x``.

k-means on such features gives clusters whose Voronoi cells are linear inequalities in ``x``
(see :mod:`iqnas.reduction.cells`), so a cluster is just more rows of the same IQP.

Conditional groups: an inactive group is encoded as its option 0 (``SearchSpace``), so the
indicator "group g is active and takes option o" is linear on every valid one-hot vector:

* ``x[g=o]`` for an unconditional group, or for ``o != 0``;
* ``sum(x[controller=c] for c that activate g) - sum(x[g=o'] for o' != 0)`` for ``o == 0``.

Every feature is an integer combination of these indicators (a count of active blocks with some
property, or a depth / resolution value), so ``matrix`` holds integers. ``weights`` are powers of
two near ``1 / std`` of each feature over the clustering sample: the clustered coordinates
``weights * raw`` have about unit spread (so depth, counts and resolution weigh alike) and stay
exact binary fractions; ``center`` (the sample mean, on the same binary grid as the centroids)
is subtracted so the clustered coordinates ``weights * raw - center`` lie around 0, which keeps
the Voronoi rows' bounds small next to their margins (see :mod:`iqnas.reduction.cells`).

Built-in features (``op_usage_features(space)``):

* ``nb201``: the count of each operation over the 6 edges (5 features).
* ``mobilenet``: per stage, the depth and, among its active blocks, the count of each kernel size,
  of each expansion ratio and of squeeze-excite blocks (7 per stage).
* ``ofa``: per stage, the depth and the count of each kernel size and expansion ratio among its
  active blocks (7 per stage), and the input resolution.
* any other space: per family of groups with the same option names, the count of active groups
  taking each option.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from iqnas.errors import InputError
from iqnas.space import SearchSpace

_BLOCK_OPTION = re.compile(r"^e(\d+)_k(\d+)(_se)?$")


@dataclass(frozen=True, eq=False)
class LinearFeatures:
    """Named features ``raw = matrix @ x`` of a space's one-hot vector; the clustered
    coordinates are ``weights * raw - center``.

    ``kinds`` tags each feature with what it counts (e.g. ``"op"``, ``"depth"``, ``"kernel 5"``).
    """

    space: SearchSpace
    names: tuple[str, ...]
    kinds: tuple[str, ...]
    matrix: np.ndarray
    weights: np.ndarray
    center: np.ndarray | None = None

    def __post_init__(self) -> None:
        m = np.asarray(self.matrix, dtype=float)
        w = np.asarray(self.weights, dtype=float).ravel()
        d = len(self.names)
        c = np.zeros(d) if self.center is None else np.asarray(self.center, dtype=float).ravel()
        if m.shape != (d, self.space.n_vars):
            raise InputError(f"feature matrix has shape {m.shape}, expected ({d}, "
                             f"{self.space.n_vars}) for space {self.space.name!r}")
        if len(self.kinds) != d or w.shape != (d,) or c.shape != (d,):
            raise InputError(f"{d} feature names need {d} kinds, weights and center values")
        if len(set(self.names)) != d:
            raise InputError("feature names must be distinct")
        if not np.all(np.isfinite(m)) or not np.array_equal(m, np.round(m)):
            raise InputError("feature matrix entries must be finite integers")
        if not np.all(w > 0) or not np.all(np.isfinite(w)) or \
                not np.array_equal(np.log2(w), np.round(np.log2(w))):
            raise InputError("feature weights must be positive powers of two")
        if not np.all(np.isfinite(c)):
            raise InputError("feature center values must be finite")
        for a in (m, w, c):
            a.setflags(write=False)
        object.__setattr__(self, "matrix", m)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "center", c)
        object.__setattr__(self, "names", tuple(self.names))
        object.__setattr__(self, "kinds", tuple(self.kinds))

    @property
    def n_features(self) -> int:
        return len(self.names)

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Unscaled features of one-hot rows (n, n_vars) -> (n, n_features)."""
        return np.asarray(X, dtype=float) @ self.matrix.T

    def scaled(self, X: np.ndarray) -> np.ndarray:
        """The clustered coordinates ``weights * raw - center`` of one-hot rows."""
        return self.raw(X) * self.weights - self.center

    def of_choices(self, C: np.ndarray, scaled: bool = True) -> np.ndarray:
        """Features of an (n, n_groups) array of option indices."""
        X = self.space.choices_to_onehot(np.asarray(C, dtype=np.int64))
        return self.scaled(X) if scaled else self.raw(X)

    @property
    def grid(self) -> float:
        """Every clustered coordinate of a valid architecture is a multiple of this power of
        two (given a center on that grid)."""
        return float(min(1.0, self.weights.min()))

    def fit_scaling(self, C: np.ndarray, center_grid: float) -> LinearFeatures:
        """Weights: powers of two near ``1 / std`` of each raw feature over the sample ``C`` (1
        where a feature is constant); center: the mean of ``weights * raw`` over ``C``,
        rounded to a multiple of ``center_grid`` (a power of two)."""
        raw = self.of_choices(C, scaled=False)
        std = raw.std(axis=0)
        w = np.ones(self.n_features)
        pos = std > 1e-12
        w[pos] = 2.0 ** np.round(-np.log2(std[pos]))
        center = np.round((raw * w).mean(axis=0) / center_grid) * center_grid
        return LinearFeatures(self.space, self.names, self.kinds, self.matrix, w, center)


def active_indicators(space: SearchSpace) -> np.ndarray:
    """(n_vars, n_vars): row ``offset[g] + o`` is the linear function of ``x`` that equals 1 when
    group ``g`` is active and takes option ``o`` (0 otherwise), on every valid one-hot vector."""
    A = np.eye(space.n_vars)
    for g, (c, mask) in space.conditions.items():
        off = int(space.offsets[g])
        row = np.zeros(space.n_vars)
        row[space.offsets[c] + np.flatnonzero(mask)] = 1.0
        row[off + 1:off + int(space.sizes[g])] = -1.0
        A[off] = row
    return A


class _Builder:
    """Accumulates integer feature rows over a space's active indicators."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.active = active_indicators(space)
        self.names: list[str] = []
        self.kinds: list[str] = []
        self.rows: list[np.ndarray] = []

    def add(self, name: str, kind: str, terms: Sequence[tuple[int, int, int]]) -> None:
        """A feature ``sum(coef * [group g active with option o])`` over ``(g, o, coef)``."""
        row = np.zeros(self.space.n_vars)
        for g, o, coef in terms:
            row += coef * self.active[int(self.space.offsets[g]) + o]
        self.names.append(name)
        self.kinds.append(kind)
        self.rows.append(row)

    def count(self, name: str, kind: str, groups: Sequence[int],
              keep: Callable[[str], bool]) -> None:
        """How many of ``groups`` are active with an option whose name passes ``keep``."""
        self.add(name, kind, [(g, o, 1) for g in groups
                              for o, opt in enumerate(self.space.groups[g].options) if keep(opt)])

    def value(self, name: str, kind: str, group: int) -> None:
        """The integer value named by the chosen option of an unconditional ``group``."""
        opts = self.space.groups[group].options
        self.add(name, kind, [(group, o, int(opt)) for o, opt in enumerate(opts)])

    def build(self) -> LinearFeatures:
        return LinearFeatures(self.space, tuple(self.names), tuple(self.kinds),
                              np.array(self.rows), np.ones(len(self.names)))


def _nb201(space: SearchSpace) -> LinearFeatures:
    b = _Builder(space)
    edges = list(range(space.n_groups))
    for op in space.groups[0].options:
        b.count(op, "op", edges, lambda o, op=op: o == op)
    return b.build()


def _stages(space: SearchSpace, pattern: str) -> dict[int, dict[int, dict[str, int]]]:
    """stage -> block -> {suffix: group index} for groups named like ``pattern``."""
    out: dict[int, dict[int, dict[str, int]]] = {}
    rx = re.compile(pattern)
    for i, g in enumerate(space.groups):
        m = rx.match(g.name)
        if m:
            s, blk = int(m.group(1)), int(m.group(2))
            out.setdefault(s, {}).setdefault(blk, {})[m.group(3) or ""] = i
    return out


def _mobilenet(space: SearchSpace) -> LinearFeatures:
    b = _Builder(space)
    opts = [_BLOCK_OPTION.match(o) for o in space.groups[0].options]
    kernels = sorted({int(m.group(2)) for m in opts})
    expansions = sorted({int(m.group(1)) for m in opts})
    for s, blocks in sorted(_stages(space, r"^s(\d+)\.b(\d+)()$").items()):
        groups = [blocks[k][""] for k in sorted(blocks)]
        b.value(f"s{s}.depth", "depth", space.group_index(f"s{s}.depth"))
        for k in kernels:
            b.count(f"s{s}.k{k}", f"kernel {k}", groups,
                    lambda o, k=k: int(_BLOCK_OPTION.match(o).group(2)) == k)
        for e in expansions:
            b.count(f"s{s}.e{e}", f"expansion {e}", groups,
                    lambda o, e=e: int(_BLOCK_OPTION.match(o).group(1)) == e)
        b.count(f"s{s}.se", "squeeze-excite", groups,
                lambda o: _BLOCK_OPTION.match(o).group(3) is not None)
    return b.build()


def _ofa(space: SearchSpace) -> LinearFeatures:
    b = _Builder(space)
    for s, blocks in sorted(_stages(space, r"^s(\d+)\.b(\d+)\.([ke])$").items()):
        b.value(f"s{s}.depth", "depth", space.group_index(f"s{s}.depth"))
        for part, label in (("k", "kernel"), ("e", "expansion")):
            groups = [blocks[k][part] for k in sorted(blocks)]
            for opt in space.groups[groups[0]].options:
                b.count(f"s{s}.{part}{opt}", f"{label} {opt}", groups,
                        lambda o, opt=opt: o == opt)
    b.value("res", "resolution", space.group_index("res"))
    return b.build()


def _generic(space: SearchSpace) -> LinearFeatures:
    b = _Builder(space)
    families: dict[tuple[str, ...], list[int]] = {}
    for i, g in enumerate(space.groups):
        families.setdefault(tuple(g.options), []).append(i)
    for options, groups in families.items():
        prefix = "" if len(families) == 1 else f"{space.groups[groups[0]].name}~"
        for opt in options:
            b.count(f"{prefix}{opt}", "option", groups, lambda o, opt=opt: o == opt)
    return b.build()


_FEATURES: dict[str, Callable[[SearchSpace], LinearFeatures]] = {
    "nb201": _nb201, "mobilenet": _mobilenet, "ofa": _ofa,
}


def op_usage_features(space: SearchSpace) -> LinearFeatures:
    """The built-in op-usage features of ``space`` (unit weights; see the module docstring)."""
    return _FEATURES.get(space.name, _generic)(space)


__all__ = ["LinearFeatures", "active_indicators", "op_usage_features"]
