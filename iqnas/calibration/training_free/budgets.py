"""The budgets of a training-free search, and which budgeted metrics only a given form measures."""

from __future__ import annotations

from collections.abc import Mapping

from iqnas.calibration.common import parse_scenario
from iqnas.calibration.training_free.columns import RESERVED
from iqnas.errors import InputError
from iqnas.quadform import QuadraticForm
from iqnas.space import SearchSpace


def check_budgets(space: SearchSpace, oracle, columns: Mapping[str, str | None],
                  constraints: Mapping[str, float] | None,
                  resource_forms: Mapping[str, QuadraticForm] | None
                  ) -> tuple[dict[str, float], dict[str, QuadraticForm], dict[str, QuadraticForm]]:
    """Validated budgets, the given forms, and the given forms of metrics the oracle lacks."""
    scenario = parse_scenario(constraints)
    if resource_forms is not None and not isinstance(resource_forms, Mapping):
        raise InputError("resource_forms must map metric name -> QuadraticForm")
    given = dict(resource_forms or {})
    for m, f in given.items():
        if m not in scenario:
            raise InputError(f"resource_forms gives {m!r}, which has no budget in constraints")
        if not isinstance(f, QuadraticForm) or f.space.name != space.name:
            raise InputError(f"resource_forms[{m!r}] must be a QuadraticForm over {space.name!r}")
    form_only = {}
    for m in scenario:
        if m in columns or m in RESERVED:
            raise InputError(f"budgeted metric {m!r} clashes with a metric or column name")
        if m not in oracle.metrics:
            if m not in given:
                raise InputError(f"budgeted metric {m!r} is not measured by oracle "
                                 f"{oracle.name!r}; give its form in resource_forms or budget "
                                 f"one of {', '.join(oracle.metrics)}")
            form_only[m] = given[m]
    return scenario, given, form_only
