"""The first round under budgets: trained networks drawn from the measured feasible region.

The initial sampler's draws (stratified by default) are screened in their order: each one's
resources are looked up (resource-only, cheap) and it is trained only if it meets the budgets
of some scenario, until the round is full; with no look-ups left the rest are trained as drawn.
Further draws may be looked up without training (``probe``), so that the first resource
models are fitted on more than the trained networks.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from iqnas.calibration.samplers import BaseSampler
from iqnas.calibration.selection import Accept, pool_plan
from iqnas.space import Architecture, SearchSpace

#: draws screened per network of the first round (the feasible share may be small)
DRAWS_PER_NETWORK = 40


def initial_plan(space: SearchSpace, size: int, rng: np.random.Generator,
                 sampler: BaseSampler, taken: set[Architecture], accept: Accept, *,
                 pool: np.ndarray | None = None, probes: int = 0,
                 probe: Callable[[Architecture], object] | None = None,
                 feasible_share: float = 1.0) -> list[tuple[Architecture, str]]:
    """``size`` architectures to train first: ``ceil(feasible_share * size)`` of them accepted
    by ``accept`` (see module docstring), the rest the sampler's next draws as they come (the
    accuracy model learns the whole space too); then ``probes`` more draws passed to ``probe``
    (looked up, not trained)."""
    n_draws = min(space.size, max(DRAWS_PER_NETWORK * size, size + probes))
    if pool is not None:
        stream = pool_plan(space, pool, len(pool), rng, taken)
    else:
        stream = [a for a in sampler.sample(space, n_draws, rng) if a not in taken]
    chosen: list[Architecture] = []
    n_feasible = min(size, math.ceil(feasible_share * size))
    free = iter(stream[len(stream) // 2:]) if n_feasible < size else iter(())
    rest = iter(stream[:len(stream) // 2] if n_feasible < size else stream)
    for a in rest:
        if accept(a, None):
            chosen.append(a)
            if len(chosen) == n_feasible:
                break
    for a in free:
        if len(chosen) >= size:
            break
        if a not in chosen:
            chosen.append(a)
    if probe is not None:
        for _, a in zip(range(probes), rest):
            probe(a)
    return [(a, "initial") for a in chosen]


__all__ = ["DRAWS_PER_NETWORK", "initial_plan"]
