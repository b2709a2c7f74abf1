"""The calibration sample: a uniform pilot to fit the missing resource forms, the rest drawn
within the budgets (uniformly when the budgets leave too few architectures)."""

from __future__ import annotations

import logging

import numpy as np

from iqnas.calibration.common import fit_resource_forms
from iqnas.calibration.samplers import BudgetAwareSampler, UniformSampler
from iqnas.calibration.training_free.measurer import Measurer
from iqnas.errors import InputError
from iqnas.quadform import QuadraticForm
from iqnas.space import SearchSpace

log = logging.getLogger(__name__)


def measure_sample(space: SearchSpace, meter: Measurer, scenario: dict[str, float],
                   given: dict[str, QuadraticForm], n: int, pilot_share: float,
                   resource_terms: str, rng: np.random.Generator) -> dict[str, QuadraticForm]:
    """Measure ``n`` distinct architectures (in batches: the pilot, then the rest; failures
    are replaced by further draws); returns the resource forms sampling used."""
    missing = [m for m in scenario if m not in given]
    forms = dict(given)
    if missing:
        n_pilot = min(n, max(2, round(pilot_share * n)))
        meter.measure_many(UniformSampler().sample(space, n_pilot, rng), "pilot")
        forms.update(fit_resource_forms(space, meter.frame(), missing, resource_terms,
                                        meter.oracle.units))
    rest = n - len(meter.rows)
    if rest <= 0:
        return forms
    want = min(space.size, rest + len(meter.rows))
    if scenario:
        cons = {m: (forms[m], b) for m, b in scenario.items()}
        try:
            pool = BudgetAwareSampler(cons).sample(space, want, rng)
        except InputError as exc:
            log.warning("sampling within the budgets failed (%s); sampling uniformly", exc)
            pool = UniformSampler().sample(space, want, rng)
    else:
        pool = UniformSampler().sample(space, rest, rng)
    meter.fill(pool, n, "sample")
    if len(meter.rows) < n:  # the budgets leave too few architectures: fill uniformly
        meter.fill(UniformSampler().sample(space, min(space.size, 2 * n), rng), n, "sample")
    return forms
