"""Problem: maximise an objective QuadraticForm under named resource budgets over a space."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from iqnas.errors import InputError
from iqnas.quadform import QuadraticForm, as_form
from iqnas.space import Architecture, SearchSpace

#: relative tolerance used when a budget is re-checked from a decoded architecture
BUDGET_RTOL = 1e-9


def within_budget(value: float, budget: float) -> bool:
    """``value <= budget`` up to the relative tolerance BUDGET_RTOL (NaN is never within)."""
    return value <= budget + BUDGET_RTOL * max(1.0, abs(budget))


@dataclass(frozen=True)
class Constraint:
    """``form(arch) <= budget`` (in ``units``)."""

    name: str
    form: QuadraticForm
    budget: float
    units: str = ""

    def holds(self, value: float) -> bool:
        return within_budget(value, self.budget)


@dataclass(frozen=True)
class LinearConstraint:
    """``lb <= coef @ x <= ub`` on the one-hot vector, e.g. 'at most 2 pooling edges'."""

    name: str
    coef: np.ndarray
    lb: float = -math.inf
    ub: float = math.inf

    def holds(self, x: np.ndarray, tol: float = 1e-9) -> bool:
        v = float(self.coef @ x)
        return self.lb - tol <= v <= self.ub + tol


@dataclass(eq=False)
class Problem:
    """Maximise (or minimise) ``objective`` subject to resource budgets and extra constraints.

    ``constraints`` maps a resource name to ``(form, budget)`` or ``(form, budget, units)``;
    ``exclude`` lists architectures that must not be returned (no-good cuts).
    """

    space: SearchSpace
    objective: QuadraticForm
    constraints: Mapping[str, tuple] | Sequence[Constraint] | None = None
    sense: str = "maximize"
    linear_constraints: Sequence[LinearConstraint] = ()
    exclude: Iterable = ()
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.space, SearchSpace):
            raise InputError(f"space must be a SearchSpace, got {type(self.space).__name__}")
        self.objective = as_form(self.objective, self.space, "objective")
        if self.sense not in ("maximize", "minimize"):
            raise InputError(f"sense must be 'maximize' or 'minimize', got {self.sense!r}")
        self.constraints = tuple(self._parse_constraints(self.constraints))
        self.linear_constraints = tuple(self._check_linear(c) for c in self.linear_constraints)
        self.exclude = tuple(dict.fromkeys(self.space.to_arch(a) for a in self.exclude))

    def _parse_constraints(self, spec) -> Iterable[Constraint]:
        if spec is None:
            return
        items = spec.items() if isinstance(spec, Mapping) else [(None, c) for c in spec]
        seen = set()
        for name, value in items:
            if isinstance(value, Constraint):
                c = value
            else:
                if not isinstance(value, (tuple, list)) or len(value) not in (2, 3):
                    raise InputError(f"constraint {name!r} must be (form, budget) or "
                                     "(form, budget, units)")
                form = as_form(value[0], self.space, f"constraint {name!r}")
                units = value[2] if len(value) == 3 else form.units
                c = Constraint(str(name), form, check_budget(name, value[1]), str(units or ""))
            if c.name in seen:
                raise InputError(f"constraint {c.name!r} appears twice")
            seen.add(c.name)
            as_form(c.form, self.space, f"constraint {c.name!r}")
            check_budget(c.name, c.budget)
            yield c

    def _check_linear(self, c: LinearConstraint) -> LinearConstraint:
        coef = np.asarray(c.coef, dtype=float).ravel()
        if coef.shape != (self.space.n_vars,) or not np.all(np.isfinite(coef)):
            raise InputError(f"linear constraint {c.name!r} needs {self.space.n_vars} finite "
                             "coefficients")
        if math.isnan(c.lb) or math.isnan(c.ub) or c.lb > c.ub:
            raise InputError(f"linear constraint {c.name!r} has bounds [{c.lb}, {c.ub}]")
        return LinearConstraint(c.name, coef, float(c.lb), float(c.ub))

    # ---- views -----------------------------------------------------------------------------
    def constraint(self, name: str) -> Constraint:
        for c in self.constraints:
            if c.name == name:
                return c
        raise InputError(f"unknown resource {name!r}; constraints are "
                         f"{', '.join(c.name for c in self.constraints) or '(none)'}")

    @property
    def forms(self) -> list[QuadraticForm]:
        return [self.objective] + [c.form for c in self.constraints]

    def replace(self, **changes) -> Problem:
        kw = dict(space=self.space, objective=self.objective, constraints=self.constraints,
                  sense=self.sense, linear_constraints=self.linear_constraints,
                  exclude=self.exclude, name=self.name)
        kw.update(changes)
        return Problem(**kw)

    def with_budget(self, name: str, budget: float) -> Problem:
        self.constraint(name)
        cons = [Constraint(c.name, c.form, check_budget(name, budget), c.units) if c.name == name
                else c for c in self.constraints]
        return self.replace(constraints=cons)

    def excluding(self, archs: Iterable) -> Problem:
        return self.replace(exclude=tuple(self.exclude) + tuple(archs))

    # ---- evaluation ------------------------------------------------------------------------
    def resources(self, arch) -> dict[str, float]:
        x = self.space.encode(arch)
        return {c.name: c.form(x) for c in self.constraints}

    def violations(self, arch: Architecture) -> list[str]:
        """Every way ``arch`` breaks the problem, recomputed from the architecture alone."""
        x = self.space.encode(arch)
        try:
            self.space.decode(x)
        except InputError as exc:
            return [str(exc)]
        out = []
        for c in self.constraints:
            v = c.form(x)
            if not c.holds(v):
                out.append(f"{c.name} = {v:.6g} exceeds its budget {c.budget:.6g}")
        for lc in self.linear_constraints:
            if not lc.holds(x):
                out.append(f"linear constraint {lc.name!r} is violated")
        if arch in self.exclude:
            out.append(f"architecture {arch.key} is excluded")
        return out

    def __repr__(self) -> str:
        cons = ", ".join(f"{c.name}<={c.budget:g}" for c in self.constraints)
        return f"Problem({self.space.name!r}, {self.sense}, [{cons}])"


def check_budget(name, value) -> float:
    """``value`` as a float if it is a finite, non-negative number; else a one-line InputError
    naming the budget of ``name``."""
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise InputError(f"budget of {name!r} is not a number: {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise InputError(f"budget of {name!r} is {value}, not finite; give a finite number")
    if value < 0:
        raise InputError(f"budget of {name!r} is negative ({value:g}); budgets must be >= 0")
    return value
