"""Exact conditional expectations of a QuadraticForm under random architectures.

The space splits into independent *blocks*: each controller group (one that other groups'
``active_if`` names) with the groups it controls, and every other group on its own. Under either
prior below, the blocks are independent; inside a block, given the controller's option ``k``, the
controlled groups are independent (uniform when active, option 0 when inactive). So for any event
that fixes a few groups, ``E[f]`` follows exactly from first moments across blocks and a mixture
over ``k`` inside each block::

    E[f] = c + lin.m + m'Qm + sum_B (sum_k w_k p_k' Q_BB p_k - m_B' Q_BB m_B)

Priors: ``"architectures"`` is uniform over distinct architectures (as ``space.sample``: a
controller option weighs as many as the architectures under it); ``"options"`` draws every
unconditional group uniformly over its options and every active conditional group uniformly.
Fixing a conditional group to an option also conditions on that group being active.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from iqnas.errors import InputError
from iqnas.quadform import QuadraticForm
from iqnas.space import SearchSpace

PRIORS = ("architectures", "options")


@dataclass
class _Block:
    groups: list[int]        # group indices, the controller first when there is one
    vars: np.ndarray         # variable indices of those groups
    seg: dict[int, slice]    # group -> its slice inside ``vars``
    active: np.ndarray       # (K, len(groups)) bool: group active under controller option k
    weights: np.ndarray      # (K,) prior weight of each controller option (normalised)
    P: np.ndarray            # (K, len(vars)) marginal of each variable given controller option k
    controlled: bool


class Moments:
    """``E[form | fixed groups]`` for one form under a prior, exactly."""

    def __init__(self, form: QuadraticForm, prior: str = "architectures") -> None:
        if prior not in PRIORS:
            raise InputError(f"prior={prior!r} is unknown; use one of {', '.join(PRIORS)}")
        self.form, self.space = form, form.space
        self.blocks = _blocks(self.space, prior)
        self.block_of = {g: b for b, blk in enumerate(self.blocks) for g in blk.groups}
        q = form.pairwise.tocsr()
        self.QB = [q[blk.vars][:, blk.vars].toarray() for blk in self.blocks]
        self.base_corr = np.array([self._corr(b, blk.weights, blk.P)
                                   for b, blk in enumerate(self.blocks)])
        self.m0 = np.zeros(self.space.n_vars)
        for blk in self.blocks:
            self.m0[blk.vars] = blk.weights @ blk.P

    def _corr(self, b: int, w: np.ndarray, P: np.ndarray) -> float:
        """Within-block second-moment correction for block ``b`` under weights ``w``, rows ``P``."""
        Qb = self.QB[b]
        if not Qb.any():
            return 0.0
        mb = w @ P
        within = np.einsum("k,ki,ij,kj->", w, P, Qb, P)
        return float(within - mb @ Qb @ mb)

    def expect_many(self, events: Sequence[Mapping[int, int]]) -> np.ndarray:
        """``E[form | group gi active and at option o for every gi: o]`` for each event."""
        n_ev = len(events)
        M = np.tile(self.m0, (n_ev, 1))
        corr = np.full(n_ev, float(self.base_corr.sum()))
        for e, fixes in enumerate(events):
            touched: dict[int, tuple[np.ndarray, np.ndarray]] = {}
            for gi, o in fixes.items():
                b = self.block_of[gi]
                blk = self.blocks[b]
                w, P = touched.get(b, (blk.weights.copy(), blk.P.copy()))
                j = blk.groups.index(gi)
                sl = blk.seg[gi]
                if blk.controlled and j == 0:
                    keep = np.zeros(len(w), dtype=bool)
                    keep[o] = True
                else:
                    keep = blk.active[:, j]
                    P[:, sl] = 0.0
                    P[:, sl.start + o] = 1.0
                touched[b] = (np.where(keep, w, 0.0), P)
            for b, (w, P) in touched.items():
                total = w.sum()
                if total <= 0:
                    names = {self.space.groups[g].name: self.space.groups[g].options[o]
                             for g, o in fixes.items()}
                    raise InputError(f"the choices {names} cannot occur together in space "
                                     f"{self.space.name!r}")
                w = w / total
                blk = self.blocks[b]
                M[e, blk.vars] = w @ P
                corr[e] += self._corr(b, w, P) - self.base_corr[b]
        return self.form.evaluate(M) + corr  # the form at the first moments, plus corrections

    def expect(self, fixes: Mapping[int, int] | None = None) -> float:
        return float(self.expect_many([dict(fixes or {})])[0])


def _blocks(space: SearchSpace, prior: str) -> list[_Block]:
    sizes, offsets = space.sizes, space.offsets
    deps: dict[int, list[int]] = {}
    for gi, (c, _mask) in sorted(space.conditions.items()):
        deps.setdefault(c, []).append(gi)
    out = []
    for gi in range(space.n_groups):
        if gi in space.conditions:
            continue
        groups = [gi] + deps.get(gi, [])
        K = int(sizes[gi]) if gi in deps else 1
        active = np.ones((K, len(groups)), dtype=bool)
        for j, g in enumerate(groups[1:], start=1):
            active[:, j] = space.conditions[g][1]
        vars_, seg, pos = [], {}, 0
        for g in groups:
            n = int(sizes[g])
            vars_.append(offsets[g] + np.arange(n))
            seg[g] = slice(pos, pos + n)
            pos += n
        P = np.zeros((K, pos))
        for k in range(K):
            for j, g in enumerate(groups):
                sl = seg[g]
                if j == 0 and K > 1:
                    P[k, sl.start + k] = 1.0
                elif active[k, j]:
                    P[k, sl] = 1.0 / (sl.stop - sl.start)
                else:
                    P[k, sl.start] = 1.0
        if prior == "architectures" and K > 1:
            weights = np.array([np.prod([sizes[g] for j, g in enumerate(groups[1:], start=1)
                                         if active[k, j]]) for k in range(K)], dtype=float)
        else:
            weights = np.ones(K)
        out.append(_Block(groups, np.concatenate(vars_).astype(np.int64), seg, active,
                          weights / weights.sum(), P, K > 1))
    return out
