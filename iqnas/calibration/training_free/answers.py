"""The IQP's answers, measured: the top-k new candidates, then repairs while no measured
architecture meets the true budgets."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from iqnas.calibration.training_free.measurer import Measurer
from iqnas.result import Result

log = logging.getLogger(__name__)


def measure_candidates(answers: Iterator[Result], meter: Measurer, top_k: int) -> list[Result]:
    """Measure the first ``top_k`` of ``answers`` (fewer if the IQP runs out) as one batch;
    the candidates whose measurement failed are left out (and kept in ``meter.failures``)."""
    candidates: list[Result] = []
    for res in answers:
        candidates.append(res)
        if len(candidates) >= top_k:
            break
    meter.measure_many([res.architecture for res in candidates], "candidate")
    lost = [res for res in candidates if res.architecture not in meter.rows]
    if lost:
        log.warning("%d IQP candidate(s) could not be measured: %s", len(lost),
                    "; ".join(meter.failures.get(res.architecture, "?") for res in lost))
    candidates = [res for res in candidates if res.architecture in meter.rows]
    if not candidates:
        log.warning("the fitted IQP has no measured answer; re-ranking the sample only")
    return candidates


def repair(answers: Iterator[Result], meter: Measurer, max_repairs: int,
           best: Callable[[], int | None]) -> int | None:
    """While ``best()`` finds no measured architecture within the true budgets, measure the
    IQP's next answer (at most ``max_repairs``); returns the last ``best()``."""
    found = best()
    repairs = 0
    while found is None and repairs < max_repairs:
        res = next(answers, None)
        if res is None:
            break
        log.warning("no measured architecture meets the true budgets; measuring IQP answer %s "
                    "(repair %d)", res.architecture.key, repairs + 1)
        meter.measure(res.architecture, "repair")
        repairs += 1
        found = best()
    return found
