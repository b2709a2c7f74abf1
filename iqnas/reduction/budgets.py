"""Budgets of a reduction: which sample members are feasible, measured or by a resource form.

``constraints`` maps a name to a budget on the oracle metric of that name (the scoring oracle
if it has it, else the space's table oracle, e.g. the NB201 table's ``params_M_c100``), or to
``(form, budget)`` with a resource :class:`~iqnas.QuadraticForm`. A member is feasible when every
value is within its budget (``iqnas.problem.within_budget``, the tolerance of ``Problem``).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from iqnas.errors import InputError
from iqnas.oracles.oracle import Oracle
from iqnas.problem import check_budget, within_budget
from iqnas.quadform import QuadraticForm, as_form
from iqnas.space import SearchSpace


@dataclass(frozen=True)
class Budget:
    """``value <= budget``, the value measured by ``oracle`` (metric ``name``) or ``form``."""

    name: str
    budget: float
    form: QuadraticForm | None = None
    oracle: Oracle | None = None

    def describe(self) -> dict:
        return {"name": self.name, "budget": self.budget,
                "by": "form" if self.form is not None else f"oracle {self.oracle.name}"}


def parse_budgets(space: SearchSpace, constraints: Mapping | None, oracle: Oracle | None,
                  dataset: str | None = None) -> list[Budget]:
    if constraints is None:
        return []
    if not isinstance(constraints, Mapping):
        raise InputError("constraints must map a name to a budget or to (form, budget)")
    out = []
    for name, spec in constraints.items():
        if not isinstance(name, str) or not name:
            raise InputError(f"constraint names must be non-empty strings, got {name!r}")
        if isinstance(spec, (tuple, list)):
            if len(spec) != 2:
                raise InputError(f"constraint {name!r} must be a budget or (form, budget)")
            form = as_form(spec[0], space, f"constraint {name!r}")
            out.append(Budget(name, check_budget(name, spec[1]), form=form))
        elif isinstance(spec, numbers.Real) and not isinstance(spec, bool):
            out.append(Budget(name, check_budget(name, spec),
                              oracle=_measuring(space, name, oracle, dataset)))
        else:
            raise InputError(f"constraint {name!r} must be a budget or (form, budget), got "
                             f"{spec!r}")
    return out


def _measuring(space: SearchSpace, metric: str, oracle: Oracle | None,
               dataset: str | None) -> Oracle:
    """The oracle that measures ``metric``: ``oracle`` if it has it, else the space's table."""
    from iqnas import oracles

    if oracle is not None and metric in oracle.metrics:
        return oracle
    table = None
    if space.name in oracles.names() and space.name != "proxies":
        table = oracles.get(space.name, space, dataset=dataset if space.name == "nb201" else None)
        if metric in table.metrics:
            return table
    have = sorted(set(oracle.metrics if oracle is not None else [])
                  | set(table.metrics if table is not None else []))
    hint = f"; measured metrics: {', '.join(have[:12])}" + (" ..." if len(have) > 12 else "") \
        if have else ""
    raise InputError(f"no oracle measures {metric!r} on space {space.name!r}; give it as "
                     f"(form, budget) with a resource QuadraticForm{hint}")


def feasible(budgets: list[Budget], space: SearchSpace, C: np.ndarray) -> dict[str, np.ndarray]:
    """Per budget, which rows of ``C`` (choices) are within it."""
    out = {}
    if not budgets:
        return out
    X = space.choices_to_onehot(C)
    for b in budgets:
        if b.form is not None:
            values = b.form.evaluate(X)
        else:
            values = b.oracle.measure_many(C)[b.name].to_numpy(dtype=float)
        out[b.name] = np.isfinite(values) & within_budget(values, b.budget)
    return out


__all__ = ["Budget", "feasible", "parse_budgets"]
