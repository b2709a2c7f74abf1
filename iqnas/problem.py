"""Problem: maximise an objective QuadraticForm under named resource budgets over a space."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from iqnas.errors import InputError
from iqnas.quadform import QuadraticForm, as_form
from iqnas.space import Architecture, SearchSpace

#: relative tolerance used when a budget is re-checked from a decoded architecture
BUDGET_RTOL = 1e-9


def within_budget(value, budget, margin: float = 0.0):
    """``value <= budget`` up to the relative tolerance BUDGET_RTOL (NaN is never within).

    Works elementwise on arrays (budgets broadcast). ``margin`` (relative, >= 0) is taken off
    the allowance, ``value <= budget + (BUDGET_RTOL - margin) * max(1, |budget|)``: a start
    handed to a solver with its own tolerances keeps that much slack.
    """
    ok = value <= budget_limit(budget, margin)
    return bool(ok) if np.ndim(ok) == 0 else ok


def budget_limit(budget, margin: float = 0.0):
    """The largest value :func:`within_budget` accepts for ``budget`` (elementwise on arrays):
    ``budget + (BUDGET_RTOL - margin) * max(1, |budget|)``, e.g. for a search in sorted
    values."""
    scale = max(1.0, abs(budget)) if np.ndim(budget) == 0 else np.maximum(1.0, np.abs(budget))
    return budget + (BUDGET_RTOL - margin) * scale


def within_bounds(value, lb: float, ub: float, margin: float = 0.0):
    """``lb <= value <= ub`` with the tolerance rule of :func:`within_budget` on each finite
    bound (an infinite bound always holds)."""
    ok = np.ones(np.shape(value), dtype=bool)
    if math.isfinite(ub):
        ok &= within_budget(value, ub, margin)
    if math.isfinite(lb):
        ok &= within_budget(-np.asarray(value), -lb, margin)
    return bool(ok) if ok.ndim == 0 else ok


def excess(value, budget) -> np.ndarray:
    """How far ``value`` lies beyond ``budget`` and its tolerance, relative to ``max(1, |budget|)``
    (0 exactly when :func:`within_budget` holds)."""
    scale = np.maximum(1.0, np.abs(budget))
    return np.maximum(value - budget - BUDGET_RTOL * scale, 0.0) / scale


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

    def holds(self, x: np.ndarray) -> bool:
        """Whether the one-hot vector ``x`` meets the bounds (tolerance as the budgets')."""
        return within_bounds(float(self.coef @ x), self.lb, self.ub)


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
    _row_forms: tuple | None = field(default=None, init=False, repr=False, compare=False)

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

    # ---- evaluation ----------------------------------------------------------------------
    # The one feasibility kernel: everything below works on (n, n_groups) option-index arrays
    # (a single row may be given as a 1-D array) and evaluates through QuadraticForm.evaluate.
    @property
    def budgets(self) -> np.ndarray:
        """The budgets, in the order of ``constraints``."""
        return np.array([c.budget for c in self.constraints], dtype=float)

    def objective_values(self, C) -> np.ndarray:
        """The objective of each row."""
        return self.objective.evaluate(choices=self._rows(C))

    def resource_values(self, C) -> np.ndarray:
        """(n, n_constraints): every budgeted resource of each row."""
        C = self._rows(C)
        if not self.constraints:
            return np.zeros((C.shape[0], 0))
        return np.stack([c.form.evaluate(choices=C) for c in self.constraints], axis=1)

    def feasible(self, C, *, margin: float = 0.0) -> np.ndarray:
        """Which rows are architectures that meet every budget (up to BUDGET_RTOL), linear
        constraint and exclusion. ``margin`` > 0 demands that much relative slack on every
        budget and bound instead of the tolerance (for a start handed to a solver)."""
        C = self._rows(C)
        ok = self._canonical_rows(C)
        for c in self.constraints:
            ok &= within_budget(c.form.evaluate(choices=C), c.budget, margin)
        for lc, vals in zip(self.linear_constraints, self._linear_values(C)):
            ok &= within_bounds(vals, lc.lb, lc.ub, margin)
        if self.exclude:
            ok &= ~self._excluded(C)
        return ok

    def violation(self, C, *, budgets: bool = True) -> np.ndarray:
        """How far each row is from feasible: 0 exactly when ``feasible``, otherwise a positive,
        scale-free amount (each budget or bound's excess relative to ``max(1, |bound|)``, plus 1
        for an excluded row or one that is not canonical). ``budgets=False`` leaves the budgets
        out."""
        C = self._rows(C)
        v = (~self._canonical_rows(C)).astype(float)
        if budgets and self.constraints:
            v += excess(self.resource_values(C), self.budgets).sum(axis=1)
        for lc, vals in zip(self.linear_constraints, self._linear_values(C)):
            if math.isfinite(lc.ub):
                v += excess(vals, lc.ub)
            if math.isfinite(lc.lb):
                v += excess(-vals, -lc.lb)
        if self.exclude:
            v += self._excluded(C)
        return v

    def resources(self, arch) -> dict[str, float]:
        values = self.resource_values(self._arch_row(arch))[0]
        return {c.name: float(v) for c, v in zip(self.constraints, values)}

    def violations(self, arch: Architecture) -> list[str]:
        """Every way ``arch`` breaks the problem, recomputed from the architecture alone."""
        row = self._arch_row(arch)
        if not self._canonical_rows(row)[0]:
            bad = [g.name for g, a, c in zip(self.space.groups, self.space.activity(row[0]),
                                             row[0]) if not a and c]
            return [f"inactive group(s) {bad} must take their first option"]
        out = []
        values = self.resource_values(row)[0]
        for c, v, ok in zip(self.constraints, values, within_budget(values, self.budgets)):
            if not ok:
                out.append(f"{c.name} = {v:.6g} exceeds its budget {c.budget:.6g}")
        for lc, vals in zip(self.linear_constraints, self._linear_values(row)):
            if not within_bounds(vals[0], lc.lb, lc.ub):
                out.append(f"linear constraint {lc.name!r} is violated")
        if self.exclude and self._excluded(row)[0]:
            out.append(f"architecture {self.space.arch(row[0]).key} is excluded")
        return out

    def _rows(self, C) -> np.ndarray:
        C = np.asarray(C)
        if C.ndim == 1:
            C = C[None, :]
        if C.ndim != 2 or C.shape[1] != self.space.n_groups:
            raise InputError(f"choices must be an (n, {self.space.n_groups}) array of option "
                             f"indices for space {self.space.name!r}, got shape {C.shape}")
        if C.dtype.kind not in "iu" and C.size:
            raise InputError("choices must be integer option indices")
        return C.astype(np.int64, copy=False)

    def _arch_row(self, arch) -> np.ndarray:
        """One architecture as a choices row, as given (not canonicalised)."""
        if isinstance(arch, Architecture) and (arch.space is self.space
                                               or arch.space.name == self.space.name):
            return self._rows(np.asarray(arch.choices, dtype=np.int64))
        return self._rows(np.asarray(self.space.to_arch(arch).choices, dtype=np.int64))

    def _canonical_rows(self, C: np.ndarray) -> np.ndarray:
        if not self.space.conditions:
            return np.ones(C.shape[0], dtype=bool)
        return (self.space.canonical(C) == C).all(axis=1)

    def _linear_values(self, C: np.ndarray) -> list[np.ndarray]:
        """The value of each linear constraint's row (coef @ x) per choices row."""
        forms = self._row_forms
        if forms is None or forms[0] is not self.linear_constraints:
            forms = self._row_forms = (self.linear_constraints, [
                QuadraticForm(self.space, 0.0, lc.coef) for lc in self.linear_constraints])
        return [f.evaluate(choices=C) for f in forms[1]]

    def _excluded(self, C: np.ndarray) -> np.ndarray:
        return excluded(self.space, C, np.array([a.choices for a in self.exclude]))

    def __repr__(self) -> str:
        cons = ", ".join(f"{c.name}<={c.budget:g}" for c in self.constraints)
        return f"Problem({self.space.name!r}, {self.sense}, [{cons}])"


def excluded(space: SearchSpace, choices: np.ndarray, archs: np.ndarray) -> np.ndarray:
    """Which rows of ``choices`` equal a row of ``archs``: one integer code per row (mixed
    radix over the groups' option counts) where it fits in int64, tuples otherwise."""
    choices, archs = np.asarray(choices, dtype=np.int64), np.asarray(archs, dtype=np.int64)
    sizes = space.sizes
    if float(np.prod(sizes.astype(float))) < 2.0 ** 62:
        weights = np.concatenate([np.cumprod(sizes[::-1])[::-1][1:], [1]])
        return np.isin(choices @ weights, archs @ weights)
    seen = set(map(tuple, archs.tolist()))
    return np.fromiter((tuple(r) in seen for r in choices.tolist()), bool, len(choices))


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
