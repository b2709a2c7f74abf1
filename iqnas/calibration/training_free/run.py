"""TrainingFreeRun: what ``calibrate_training_free`` returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from iqnas.calibration.proxies import FreeREAScore
from iqnas.calibration.training_free.model import TrainingFreeModel
from iqnas.measured import MeasuredResult
from iqnas.problem import Problem
from iqnas.quadform import QuadraticForm
from iqnas.result import Result
from iqnas.space import SearchSpace


@dataclass
class TrainingFreeRun:
    """What ``calibrate_training_free`` returns.

    ``fitted``: the :class:`TrainingFreeModel` (``model``, ``score``, ``resource_forms``,
    ``constraints`` and ``columns`` are shortcuts to it); ``best``: the measured architecture that
    meets every budget with the highest exact combined score, a :class:`~iqnas.MeasuredResult`
    (``best.measured`` holds its measured values and ``best.measured["score"]``, its
    ``true_objective``, its score); ``samples``: every measured architecture (key, metrics,
    budgeted metrics, ``score``, ``feasible``, ``source`` = pilot / sample / candidate / repair);
    ``candidates``: the IQP's top-k new architectures; ``n_evaluations``: metric evaluations
    (oracle measurements); ``n_trained`` is always 0; ``failures``: key -> error of the
    measurements that failed (never scored, never proposed again).
    """

    fitted: TrainingFreeModel
    best: MeasuredResult | None
    samples: pd.DataFrame
    candidates: list[Result]
    n_evaluations: int
    n_trained: int = 0
    elapsed: float = 0.0
    settings: dict = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def space(self) -> SearchSpace:
        return self.fitted.space

    @property
    def model(self) -> QuadraticForm:
        return self.fitted.model

    @property
    def score(self) -> FreeREAScore:
        return self.fitted.score

    @property
    def resource_forms(self) -> dict[str, QuadraticForm]:
        return self.fitted.resource_forms

    @property
    def constraints(self) -> dict[str, float]:
        return self.fitted.constraints

    @property
    def columns(self) -> dict[str, str | None]:
        return self.fitted.columns

    def problem(self, exclude: Sequence = ()) -> Problem:
        return self.fitted.problem(exclude)

    def save(self, path: str | Path) -> Path:
        """Save the fitted model with its fixed normalisation (see ``TrainingFreeModel.save``)."""
        return self.fitted.save(path)
