"""Resource-only measurements before training: which candidates of a round are trained.

A resource measurement (latency, memory) takes seconds where a trained accuracy takes hours, so
a candidate whose resources are not known and whose prediction is near a budget has its
resources measured first (a *look-up*, at most ``resource_samples`` in a run) and is trained
only if it meets the budget. A candidate predicted safely within every budget (the conformal
margin of ``iqnas.calibration.conformal``) is trained without a look-up; one surely over a budget
is dropped. Without look-ups left only safe candidates are trained.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from iqnas.calibration.conformal import Margin
from iqnas.measured import meets_budgets
from iqnas.quadform import QuadraticForm
from iqnas.space import Architecture

log = logging.getLogger(__name__)

#: the source tag of a resource-only measurement in the store
LOOKUP = "lookup"


@dataclass
class LookupBudget:
    """Resource-only measurements: ``total`` for the run, ``used`` so far, and ``allowance``
    for the current round (None: the rest of the run's)."""

    total: int
    used: int = 0
    allowance: int | None = None
    in_round: int = 0

    @property
    def left(self) -> int:
        run_left = max(0, self.total - self.used)
        if self.allowance is None:
            return run_left
        return max(0, min(run_left, self.allowance - self.in_round))

    def spend(self) -> None:
        self.used += 1
        self.in_round += 1


@dataclass
class Screen:
    """Decides, per candidate and scenario, whether to train it (see module docstring).

    ``known(arch)`` gives the resource values known for ``arch`` (possibly some of them, or
    none); ``look_up(arch)`` measures them (resource-only; None when the oracle gave no finite
    value) and counts against ``budget``. ``forms``/``margins``: each budgeted metric's fitted
    model and conformal margin (empty: nothing predicted, every unknown candidate is looked up
    while the budget lasts and trained blindly after).
    """

    scenarios: Sequence[Mapping[str, float]]
    known: Callable[[Architecture], Mapping[str, float]]
    look_up: Callable[[Architecture], Mapping[str, float] | None]
    budget: LookupBudget
    forms: Mapping[str, QuadraticForm] = field(default_factory=dict)
    margins: Mapping[str, Margin] = field(default_factory=dict)
    #: False: predictions decide nothing, every unknown candidate is looked up while the
    #: budget lasts (the fallback when predictions ruled a round's candidates out)
    predict: bool = True
    #: > 1: the IQP planned within ``loosen`` times the budgets, so predictions decide only
    #: above that (surely over); below it every unknown candidate is looked up, never
    #: trained on a prediction
    loosen: float = 1.0
    #: counts of decisions, for the round's history
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("known", "safe", "looked_up", "dropped", "blind"), 0))

    def accept(self, arch: Architecture, scenario: int | None = None) -> bool:
        """Whether to train ``arch``: within every budget of ``scenarios[scenario]`` (of any
        scenario when None), by measurement or by a safe prediction."""
        indices = range(len(self.scenarios)) if scenario is None else [scenario]
        budgets = [self.scenarios[i] for i in indices]
        if not any(budgets):
            return True
        values = dict(self.known(arch))
        verdict = self._decide(arch, values, budgets)
        if verdict is None and self.budget.left > 0:
            measured = self.look_up(arch)
            self.budget.spend()
            self.counts["looked_up"] += 1
            if measured is None:
                return False
            values.update(measured)
            return any(meets_budgets(values, b) for b in budgets)
        if verdict is None:
            if not self.forms:
                self.counts["blind"] += 1
                return True
            self.counts["dropped"] += 1
            return False
        return verdict

    def _decide(self, arch: Architecture, values: dict[str, float],
                budgets: list[Mapping[str, float]]) -> bool | None:
        """True/False when known values or safe predictions decide, None when a look-up would."""
        if any(all(m in values for m in b) and meets_budgets(values, b) for b in budgets):
            self.counts["known"] += 1
            return True
        if all(all(m in values for m in b) for b in budgets):
            self.counts["known"] += 1
            return False
        if not self.forms or not self.predict:
            return None
        possible = False
        for b in budgets:
            state = self._state(arch, values, b)
            if state == "safe":
                self.counts["safe"] += 1
                return True
            possible = possible or state == "near"
        if not possible:
            self.counts["dropped"] += 1
            return False
        return None

    def _state(self, arch: Architecture, values: Mapping[str, float],
               budgets: Mapping[str, float]) -> str:
        """"safe", "near" or "over" for one scenario: measured values where known, else the
        prediction with its margin."""
        state = "safe"
        for m, b in budgets.items():
            if m in values:
                if not meets_budgets({m: values[m]}, {m: b}):
                    return "over"
                continue
            margin = self.margins.get(m, Margin(-math.inf, math.inf, 0, 0.5))
            pred = float(self.forms[m](arch))
            if not margin.possible(pred, b * self.loosen):
                return "over"
            if self.loosen > 1 or not margin.safe(pred, b):
                state = "near"
        return state


__all__ = ["LOOKUP", "LookupBudget", "Screen"]
