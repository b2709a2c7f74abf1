"""Re-ranking by the exact combined score: every measured architecture scored with the fixed
normalisation, and the best one within the true budgets."""

from __future__ import annotations

import pandas as pd

from iqnas.calibration.common import best_index
from iqnas.calibration.proxies import FreeREAScore
from iqnas.calibration.training_free.columns import SCORE
from iqnas.measured import feasible_rows


def best_row(frame: pd.DataFrame, score: FreeREAScore, scenario: dict[str, float]) -> int | None:
    """Position of the measured row with the highest exact score among those within every
    budget (None: no row meets them)."""
    return best_index(score.score(frame), frame, scenario)


def scored(frame: pd.DataFrame, score: FreeREAScore, scenario: dict[str, float]) -> pd.DataFrame:
    """``frame`` with its exact ``score`` and whether it meets every budget (``feasible``)."""
    out = frame.copy()
    out[SCORE] = score.score(out)
    out["feasible"] = feasible_rows(out, scenario)
    return out
