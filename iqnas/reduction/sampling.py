"""``MemberSampler``: a calibration sampler that draws members of a cluster only.

Without a base sampler the draw is uniform over the members: spaces of up to
``ENUMERATE_LIMIT`` architectures are enumerated and the members chosen without replacement,
larger ones are sampled uniformly and non-members rejected. With a base sampler (e.g. a
``BudgetAwareSampler``), its draws are filtered the same way, so the result follows the base
sampler's distribution restricted to the cluster.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from iqnas._validation import InstanceOf, Interval
from iqnas.calibration.samplers import BaseSampler, check_n, unique_rows
from iqnas.errors import InputError
from iqnas.space import SearchSpace

if TYPE_CHECKING:
    from iqnas.reduction.cluster import Cluster

log = logging.getLogger(__name__)

ENUMERATE_LIMIT = 200_000


class MemberSampler(BaseSampler):
    """Distinct members of ``cluster``, uniformly (or by ``base``, filtered)."""

    _parameter_constraints = {
        "base": [InstanceOf(BaseSampler, "a calibration sampler"), None],
        "batch": [Interval("int", 1, None)],
        "max_draws": [Interval("int", 1, None)],
    }

    def __init__(self, cluster: Cluster, base: BaseSampler | None = None, *,
                 batch: int = 8192, max_draws: int = 2_000_000) -> None:
        self.cluster = cluster
        self.base = base
        self.batch = batch
        self.max_draws = max_draws
        self._members: np.ndarray | None = None

    def _check(self, space: SearchSpace, n) -> int:
        self._validate_params()
        if space.name != self.cluster.space.name:
            raise InputError(f"the cluster is for space {self.cluster.space.name!r}, not "
                             f"{space.name!r}")
        return check_n(self, n)

    def sample_choices(self, space: SearchSpace, n: int, seed=None) -> np.ndarray:
        n = self._check(space, n)
        rng = np.random.default_rng(seed)
        if self.base is None and space.size <= ENUMERATE_LIMIT:
            if self._members is None:
                self._members = self.cluster.members(ENUMERATE_LIMIT)
            members = self._members
            if n > len(members):
                raise InputError(f"cannot draw {n} distinct members: the cluster has only "
                                 f"{len(members)}")
            return members[rng.choice(len(members), size=n, replace=False)]
        out = np.zeros((0, space.n_groups), dtype=np.int64)
        draws = 0
        while out.shape[0] < n and draws < self.max_draws:
            m = min(self.batch, self.max_draws - draws)
            if self.base is None:
                B = space.sample_choices(rng, m)
            else:
                B = self.base.sample_choices(space, min(m, space.size), rng)
            draws += B.shape[0]
            out = unique_rows(np.concatenate([out, B[self.cluster.mask(B)]]))
        if out.shape[0] < n:
            raise InputError(f"only {out.shape[0]} distinct members of the cluster in {draws} "
                             f"draws, {n} requested; lower n or raise max_draws")
        log.debug("MemberSampler: %d members from %d draws", out.shape[0], draws)
        return out[:n]

    def __repr__(self) -> str:
        return f"MemberSampler({self.cluster!r}, base={self.base!r})"


__all__ = ["MemberSampler"]
