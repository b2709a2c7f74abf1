"""``Cluster``: the selected cluster of a reduced space, as its Voronoi cell among all centroids.

``contains(arch)`` checks the cell's Voronoi rows (:mod:`iqnas.reduction.cells`), which hold
exactly when the architecture's nearest centroid (ties to the lowest index) is the selected one.
``linear_constraints`` are those rows plus, on enumerable spaces, the hull rows of
:mod:`iqnas.reduction.hull` (valid for every member, so the IQP under ``linear_constraints``
admits exactly the members, with a tighter relaxation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from iqnas import spaces
from iqnas.errors import InputError
from iqnas.problem import LinearConstraint, Problem
from iqnas.reduction import cells, fileformat
from iqnas.reduction.features import LinearFeatures
from iqnas.space import Architecture, SearchSpace

if TYPE_CHECKING:
    import pandas as pd

    from iqnas.calibration.samplers import BaseSampler

#: spaces up to this size list their members by enumeration
ENUMERATE_LIMIT = 200_000
#: summary columns that are not feature means
STAT_COLUMNS = ("size", "share", "score", "score_lo", "score_hi", "n_scored", "selected")


@dataclass(eq=False)
class Cluster:
    """One cluster (``index``) of a clustering of ``space`` into ``len(centroids)`` cells.

    ``clusters`` holds per-cluster statistics of the clustering sample (size, feature means,
    training-free score with its interval, feasible fractions); ``settings`` how it was made.
    """

    space: SearchSpace
    features: LinearFeatures
    centroids: np.ndarray
    index: int
    clusters: list[dict] = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.centroids = np.asarray(self.centroids, dtype=float)
        if self.features.space.name != self.space.name:
            raise InputError(f"features are for space {self.features.space.name!r}, not "
                             f"{self.space.name!r}")
        cells.check_exact(self.features, self.centroids)
        if self.centroids.shape[0] < 2:
            raise InputError("a clustering needs at least 2 centroids")
        if isinstance(self.index, bool) or not 0 <= int(self.index) < self.k:
            raise InputError(f"cluster index {self.index!r} out of range 0..{self.k - 1}")
        self.index = int(self.index)
        self._rows = cells.cell_rows(self.features, self.centroids, self.index)
        self._hull: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def k(self) -> int:
        """Number of clusters."""
        return int(self.centroids.shape[0])

    # ---- membership --------------------------------------------------------------------------
    def _onehot(self, archs: Any) -> np.ndarray:
        if isinstance(archs, np.ndarray) and archs.ndim == 2:
            if archs.shape[1] == self.space.n_groups and archs.dtype.kind in "iu":
                return self.space.choices_to_onehot(archs)
            if archs.shape[1] == self.space.n_vars:
                return archs.astype(float)
            raise InputError(f"expected an (n, {self.space.n_groups}) integer choices array or "
                             f"(n, {self.space.n_vars}) one-hot rows, got {archs.dtype} "
                             f"{archs.shape}")
        if isinstance(archs, (str, Architecture, dict)):
            raise InputError("pass a list of architectures (use contains() for one)")
        return np.stack([self.space.encode(a) for a in archs]) if len(archs) else \
            np.zeros((0, self.space.n_vars))

    def contains(self, arch: Architecture | str | dict | Sequence[int]) -> bool:
        """Whether ``arch`` (an Architecture, key, choices dict or one-hot vector) is in this
        cluster: every row of ``linear_constraints`` holds."""
        x = self.space.encode(self.space.to_arch(arch))
        _, coef, ub = self._rows
        return bool(np.all(coef @ x <= ub))

    def mask(self, archs: Any) -> np.ndarray:
        """Membership of many architectures (a list, an (n, n_groups) choices array or one-hot
        rows) as a boolean array."""
        _, coef, ub = self._rows
        X = self._onehot(archs)
        return np.all(X @ coef.T <= ub[None, :], axis=1)

    def assign(self, archs: Any) -> np.ndarray:
        """The cluster of each architecture: its nearest centroid, ties to the lowest index."""
        return cells.nearest(self.features, self.centroids, self._onehot(archs))

    @property
    def voronoi_constraints(self) -> tuple[LinearConstraint, ...]:
        """The cell as its ``k - 1`` Voronoi rows ``coef @ x <= ub`` (what ``contains``
        checks)."""
        others, coef, ub = self._rows
        return tuple(LinearConstraint(f"cluster{self.index}_vs_{j}", coef[r].copy(),
                                      ub=float(ub[r])) for r, j in enumerate(others))

    @property
    def linear_constraints(self) -> tuple[LinearConstraint, ...]:
        """The rows for ``Problem(linear_constraints=)``: the Voronoi rows and, on enumerable
        spaces, the hull rows that tighten them (the same members)."""
        coef, ub = self.hull_rows()
        return self.voronoi_constraints + tuple(
            LinearConstraint(f"cluster{self.index}_hull{r}", coef[r].copy(), ub=float(ub[r]))
            for r in range(len(ub)))

    def hull_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """``(coef, ub)`` of the hull rows (none on spaces too large to enumerate)."""
        if self._hull is None:
            if self.space.size <= ENUMERATE_LIMIT:
                from iqnas.reduction.hull import hull_rows

                Z = np.unique(self.features.of_choices(self.space.enumerate_choices()), axis=0)
                members = Z[cells.nearest_points(self.centroids, Z) == self.index]
                self._hull = hull_rows(self.features, members)
            else:
                self._hull = (np.zeros((0, self.space.n_vars)), np.zeros(0))
        return self._hull

    def restrict(self, problem: Problem) -> Problem:
        """``problem`` with this cluster's rows added to its linear constraints."""
        if problem.space.name != self.space.name:
            raise InputError(f"the cluster is for space {self.space.name!r}, the problem is "
                             f"over {problem.space.name!r}")
        return problem.replace(linear_constraints=tuple(problem.linear_constraints)
                               + self.linear_constraints)

    def select(self, index: int) -> Cluster:
        """The same clustering with cluster ``index`` selected."""
        return Cluster(self.space, self.features, self.centroids, index, self.clusters,
                       dict(self.settings))

    # ---- members and sampling ------------------------------------------------------------------
    def members(self, limit: int = ENUMERATE_LIMIT) -> np.ndarray:
        """Every member's choices (enumerates the space; up to ``limit`` architectures)."""
        if self.space.size > limit:
            raise InputError(f"space {self.space.name!r} has {self.space.size:.3g} "
                             f"architectures, more than {limit} to enumerate; sample members "
                             "with sampler() instead")
        C = self.space.enumerate_choices().astype(np.int64)
        return C[self.mask(C)]

    def sampler(self, base: BaseSampler | None = None) -> BaseSampler:
        """A calibration sampler of members only (uniform over members by default; with
        ``base``, ``base``'s draws that are members)."""
        from iqnas.reduction.sampling import MemberSampler

        return MemberSampler(self, base)

    def sample(self, n: int, seed=None) -> list[Architecture]:
        """``n`` distinct members, uniformly (``seed``: an int, a numpy Generator or None)."""
        return self.sampler().sample(self.space, n, seed)

    # ---- report --------------------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """One row per cluster: size and share of the sample, mean of each feature (the op
        distribution), the training-free score with its bootstrap interval and how many members
        it was measured on, the fraction feasible under each budget, and which is selected."""
        import pandas as pd

        rows = []
        for c, st in enumerate(self.clusters):
            row: dict[str, Any] = {"size": st.get("size"), "share": st.get("share")}
            for name, v in (st.get("means") or {}).items():
                row[name if name not in STAT_COLUMNS else f"mean {name}"] = v
            for key in ("score", "score_lo", "score_hi", "n_scored"):
                row[key] = st.get(key)
            for name, v in (st.get("feasible") or {}).items():
                row["feasible" if name == "all" else f"feasible {name}"] = v
            row["selected"] = c == self.index
            rows.append(row)
        df = pd.DataFrame(rows)
        df.index.name = "cluster"
        for col in df.columns:
            if col != "selected":
                df[col] = pd.to_numeric(df[col], errors="coerce")
        return df

    # ---- persistence ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return fileformat.encode(self.space, self.features, self.centroids, self.index,
                                 self.clusters, self.settings)

    def save(self, path: str | Path) -> Path:
        """Write the cluster file (JSON; written atomically)."""
        return fileformat.write(path, self.to_dict())

    @classmethod
    def from_dict(cls, data: dict, space: SearchSpace | str | None = None,
                  source: str = "cluster file") -> Cluster:
        if space is None:
            if not isinstance(data, dict) or not isinstance(data.get("space"), str):
                raise InputError(f"{source}: not a cluster file (no 'space' field)")
            space = data["space"]
        space = spaces.get(space)
        return cls(space, **fileformat.decode(data, space, source))

    @classmethod
    def load(cls, path: str | Path, space: SearchSpace | str | None = None) -> Cluster:
        """Read a cluster file; with ``space``, a file for another space is refused."""
        return cls.from_dict(fileformat.read(path), space, str(path))

    @property
    def digest(self) -> str:
        """The content digest of the cluster file (identifies this clustering and index)."""
        return self.to_dict()["digest"]

    def __repr__(self) -> str:
        st = self.clusters[self.index] if self.index < len(self.clusters) else {}
        score = st.get("score")
        text = "" if score is None or (isinstance(score, float) and math.isnan(score)) else \
            f", score={score:.4g}"
        return (f"Cluster({self.space.name!r}, {self.index} of {self.k}, "
                f"size={st.get('size')}{text})")


def as_cluster(obj: Cluster | str | Path, space: SearchSpace | str) -> Cluster:
    """A Cluster for ``space``: a Cluster passes (checked), a path is loaded."""
    space = spaces.get(space)
    if isinstance(obj, Cluster):
        if obj.space.name != space.name:
            raise InputError(f"the cluster is for space {obj.space.name!r}, not {space.name!r}")
        return obj
    if isinstance(obj, (str, Path)):
        return Cluster.load(obj, space)
    raise InputError(f"restrict must be a Cluster or a cluster file path, got "
                     f"{type(obj).__name__}")


__all__ = ["Cluster", "as_cluster"]
