"""Split-conformal margins of a resource model: how far a true value may lie from the model's
prediction, from the model's out-of-fold residuals.

With ``n`` out-of-fold residuals ``e = y - prediction`` and a coverage ``c``, the
``ceil((n + 1) c)``-th smallest residual ``upper`` bounds the residual of a new architecture
from the same distribution with probability at least ``c``: an architecture predicted at most
``budget - upper`` is within the budget with that probability (*safe*). Likewise ``lower``, the
``floor((n + 1) (1 - c))``-th smallest, keeps ``y >= prediction + lower`` with probability at
least ``c``: one predicted above ``budget - lower`` is over the budget with that probability,
and one in between is *near* the budget. As the model improves its residuals shrink and so do
the margins (an exact model, such as a linear fit of an additive latency, has margins of
rounding size).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from iqnas.errors import InputError

#: the default coverage of ``calibrate``'s margins
DEFAULT_COVERAGE = 0.95


@dataclass(frozen=True)
class Margin:
    """The conformal band of one resource model: a true value lies in
    ``[prediction + lower, prediction + upper]`` with probability >= ``coverage`` on each side
    (``n`` residuals; with too few for the coverage asked, the extreme residuals)."""

    lower: float
    upper: float
    n: int
    coverage: float

    def safe(self, predicted, budget: float):
        """Predicted values whose true value meets ``budget`` with probability >= coverage."""
        return np.asarray(predicted, dtype=float) + self.upper <= budget

    def possible(self, predicted, budget: float):
        """Predicted values whose true value may meet ``budget`` (not over it for sure)."""
        return np.asarray(predicted, dtype=float) + self.lower <= budget

    def to_dict(self) -> dict[str, float]:
        return {"lower": self.lower, "upper": self.upper, "n": self.n,
                "coverage": self.coverage}


def check_coverage(coverage) -> float:
    if isinstance(coverage, bool) or not isinstance(coverage, (int, float)) \
            or not 0.5 <= coverage < 1:
        raise InputError(f"coverage must be a number in [0.5, 1), got {coverage!r}")
    return float(coverage)


def conformal_margin(y, predicted, coverage: float = DEFAULT_COVERAGE) -> Margin:
    """The :class:`Margin` of out-of-fold predictions ``predicted`` of measured values ``y``
    (NaN rows are left out)."""
    coverage = check_coverage(coverage)
    e = np.asarray(y, dtype=float) - np.asarray(predicted, dtype=float)
    e = np.sort(e[np.isfinite(e)])
    n = e.size
    if n == 0:
        return Margin(-math.inf, math.inf, 0, coverage)
    hi = math.ceil((n + 1) * coverage)
    lo = math.floor((n + 1) * (1 - coverage))
    upper = float(e[min(hi, n) - 1])
    lower = float(e[max(lo, 1) - 1])
    return Margin(min(lower, 0.0), max(upper, 0.0), n, coverage)


def tightened(budgets: Mapping[str, float], margins: Mapping[str, Margin]) -> dict[str, float]:
    """Budgets lowered by each metric's upper margin: predicted within them = safe (never below
    0: a budget is a non-negative bound)."""
    return {m: max(0.0, b - (margins[m].upper if m in margins else 0.0))
            for m, b in budgets.items()}


def loosened(budgets: Mapping[str, float], margins: Mapping[str, Margin]) -> dict[str, float]:
    """Budgets raised by each metric's lower margin: predicted above them = over for sure."""
    return {m: b - (margins[m].lower if m in margins else 0.0) for m, b in budgets.items()}


__all__ = ["DEFAULT_COVERAGE", "Margin", "check_coverage", "conformal_margin", "loosened",
           "tightened"]
