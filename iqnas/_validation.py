"""Declarative parameter validation, one mechanism and one message shape for the whole API.

Modelled on scikit-learn's ``_parameter_constraints``: a parameter maps to a list of accepted
forms (any one may match), e.g. ``{"alpha": [Interval("real", 0, None), None]}``. A mismatch is an
:class:`~iqnas.errors.InputError` of one shape::

    The 'alpha' parameter of QuadraticRegressor must be a float in the range [0, inf) or None.
    Got -1 instead.

Estimators, samplers and solver backends derive from :class:`Parameterized` (parameters are the
constructor's keyword arguments, ``get_params`` / ``set_params`` / ``repr`` / :func:`clone` in the
scikit-learn style) and declare ``_parameter_constraints``, checked by ``_validate_params()``;
functions use the :func:`validate_params` decorator or :func:`validate` on their arguments.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from iqnas.errors import InputError


class Constraint:
    """One accepted form of a parameter value."""

    def accepts(self, value: Any) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def coerce(self, value: Any) -> Any:
        """The accepted value in its canonical Python type."""
        return value

    def describe(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class Interval(Constraint):
    """A number of ``kind`` "int" or "real" in ``[low, high]``; ``closed`` says which ends count.

    Booleans are never numbers here, and reals must be finite.
    """

    kind: str
    low: float | None = None
    high: float | None = None
    closed: str = "both"

    def __post_init__(self) -> None:
        if self.kind not in ("int", "real"):
            raise ValueError(f"Interval kind must be 'int' or 'real', not {self.kind!r}")
        if self.closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"Interval closed must be both/left/right/neither: {self.closed!r}")

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        if self.kind == "int" and not isinstance(value, numbers.Integral):
            return False
        v = float(value)
        if not math.isfinite(v):
            return False
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.low is not None and (v < self.low or (v == self.low and not left)):
            return False
        return not (self.high is not None and (v > self.high or (v == self.high and not right)))

    def coerce(self, value: Any) -> Any:
        return int(value) if self.kind == "int" else float(value)

    def describe(self) -> str:
        what = "an int" if self.kind == "int" else "a float"
        if self.low is None and self.high is None:
            return what
        lo = "[" if self.closed in ("both", "left") and self.low is not None else "("
        hi = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{what} in the range {lo}{low}, {high}{hi}"


@dataclass(frozen=True)
class Options(Constraint):
    """One of a fixed set of values (strings, usually)."""

    values: tuple

    def __init__(self, values: Iterable) -> None:
        object.__setattr__(self, "values", tuple(values))

    def accepts(self, value: Any) -> bool:
        try:
            return any(value == v and type(value) is type(v) for v in self.values)
        except (TypeError, ValueError):
            return False

    def describe(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclass(frozen=True)
class InstanceOf(Constraint):
    """An instance of ``cls`` (``description`` names it in messages)."""

    cls: type | tuple[type, ...]
    description: str = ""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, self.cls)

    def describe(self) -> str:
        if self.description:
            return self.description
        classes = self.cls if isinstance(self.cls, tuple) else (self.cls,)
        return "an instance of " + " or ".join(c.__name__ for c in classes)


@dataclass(frozen=True)
class Boolean(Constraint):
    """``True`` or ``False`` (numpy booleans too)."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool) or type(value).__name__ in ("bool_", "bool")

    def coerce(self, value: Any) -> Any:
        return bool(value)

    def describe(self) -> str:
        return "a boolean"


@dataclass(frozen=True)
class IsCallable(Constraint):
    """A callable."""

    def accepts(self, value: Any) -> bool:
        return callable(value)

    def describe(self) -> str:
        return "a callable"


@dataclass(frozen=True)
class Check(Constraint):
    """Any value for which ``predicate(value)`` is true; ``description`` names what is wanted."""

    predicate: Callable[[Any], bool]
    description: str

    def accepts(self, value: Any) -> bool:
        try:
            return bool(self.predicate(value))
        except (TypeError, ValueError):
            return False

    def describe(self) -> str:
        return self.description


def _as_constraint(c: Any) -> Constraint | None:
    """``None`` in a constraint list means "None is allowed"."""
    if c is None or isinstance(c, Constraint):
        return c
    if c is bool:
        return Boolean()
    if c is callable:
        return IsCallable()
    if isinstance(c, type):
        return InstanceOf(c)
    raise TypeError(f"not a parameter constraint: {c!r}")


def check_value(value: Any, constraints: Iterable, name: str, owner: str) -> Any:
    """``value`` (coerced) if it matches one of ``constraints``, else the one-line InputError."""
    forms = [_as_constraint(c) for c in constraints]
    if value is None and None in forms:
        return None
    for form in forms:
        if form is not None and form.accepts(value):
            return form.coerce(value)
    raise InputError(f"The {name!r} parameter of {owner} must be {describe(forms)}. "
                     f"Got {value!r} instead.")


def finite_vector(values: Any, name: str, missing: str = "drop rows without a value"):
    """``values`` as a 1-D float array, or the one-line InputError naming the first entry that is
    not a number (``name[i] is 'abc', not a number``) or not finite (``name[i] is nan;`` and
    ``missing``, the fix)."""
    import numpy as np

    try:
        v = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        for i, item in enumerate(np.asarray(values, dtype=object).ravel()):
            try:
                float(item)
            except (TypeError, ValueError):
                raise InputError(f"{name}[{i}] is {item!r}, not a number; {missing}") from None
        raise InputError(f"{name} must be a flat sequence of numbers; {missing}") from None
    bad = np.flatnonzero(~np.isfinite(v))
    if len(bad):
        raise InputError(f"{name}[{bad[0]}] is {v[bad[0]]}; {missing}")
    return v


def describe(forms: Iterable[Constraint | None]) -> str:
    """'a float in the range [0, inf) or None' for a list of accepted forms."""
    forms = list(forms)
    parts = [f.describe() for f in forms if f is not None]
    if None in forms:
        parts.append("None")
    if len(parts) <= 1:
        return parts[0] if parts else "nothing"
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def validate(params: Mapping[str, Any], constraints: Mapping[str, Iterable],
             owner: str) -> dict[str, Any]:
    """Check every parameter that has constraints; unknown names are an InputError.

    Returns the parameters with accepted values coerced (ints as int, reals as float).
    """
    unknown = [k for k in params if k not in constraints]
    if unknown:
        raise InputError(f"{owner} has no parameter(s) {', '.join(map(repr, unknown))}; its "
                         f"parameters are {', '.join(constraints)}")
    return {k: check_value(v, constraints[k], k, owner) for k, v in params.items()}


def validate_params(constraints: Mapping[str, Iterable]) -> Callable:
    """Decorator: validate a function's named arguments (defaults included) before it runs.

    Arguments without an entry in ``constraints`` are passed through unchecked.
    """

    def wrap(fn: Callable) -> Callable:
        sig = inspect.signature(fn)
        missing = set(constraints) - set(sig.parameters)
        if missing:
            raise TypeError(f"{fn.__name__} has no parameter(s) {sorted(missing)}")

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as exc:
                raise InputError(f"{fn.__name__}(): {exc}") from None
            bound.apply_defaults()
            for name, accepted in constraints.items():
                bound.arguments[name] = check_value(bound.arguments[name], accepted, name,
                                                    f"{fn.__name__}()")
            return fn(*bound.args, **bound.kwargs)

        run.__wrapped_constraints__ = dict(constraints)  # type: ignore[attr-defined]
        return run

    return wrap


class Parameterized:
    """Parameters are exactly the keyword arguments of ``__init__``, stored unchanged as
    attributes of the same name; ``_parameter_constraints`` says what each accepts and
    ``_validate_params()`` checks them (subclasses call it before they use them)."""

    _parameter_constraints: ClassVar[dict[str, list]] = {}

    @classmethod
    def _param_defaults(cls) -> dict[str, Any]:
        """Each parameter's default (``inspect.Parameter.empty`` when it has none), read once
        per class from the signature of ``__init__``."""
        found = cls.__dict__.get("_param_defaults_cache")
        if found is None:
            init = cls.__init__
            params = ([] if init is object.__init__
                      else list(inspect.signature(init).parameters.values())[1:])
            if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
                raise TypeError(f"{cls.__name__}.__init__ must list its parameters explicitly")
            found = {p.name: p.default for p in params}
            cls._param_defaults_cache = found
        return found

    @classmethod
    def _param_names(cls) -> tuple[str, ...]:
        return tuple(cls._param_defaults())

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters as given to ``__init__`` (``deep`` is accepted for compatibility)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Parameterized:
        """Set parameters by name (checked when the object is next used); returns ``self``."""
        names = self._param_names()
        unknown = [k for k in params if k not in names]
        if unknown:
            raise InputError(f"{type(self).__name__} has no parameter(s) "
                             f"{', '.join(map(repr, unknown))}; its parameters are "
                             f"{', '.join(names)}")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def _validate_params(self) -> dict[str, Any]:
        """Every parameter checked against ``_parameter_constraints`` (one message shape);
        returns them coerced (ints as int, reals as float), unconstrained ones unchanged."""
        owner = type(self).__name__
        spec = self._parameter_constraints
        return {k: check_value(v, spec[k], k, owner) if k in spec else v
                for k, v in self.get_params().items()}

    def _non_default_params(self) -> dict[str, Any]:
        """The parameters that differ from the constructor's defaults."""
        defaults = self._param_defaults()
        return {k: v for k, v in self.get_params().items() if not _same(v, defaults[k])}

    def _recorded_params(self) -> dict[str, Any]:
        """The non-default parameters as JSON-able values (what a run's record or a file
        header keeps; a value that is not a number, string, None or dict of those as its
        repr)."""
        return {k: _jsonable(v) for k, v in sorted(self._non_default_params().items())}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._non_default_params().items())
        return f"{type(self).__name__}({args})"


def _jsonable(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in sorted(v.items(), key=lambda kv: str(kv[0]))}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v if v is None or isinstance(v, (bool, int, float, str)) else repr(v)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a is b or a == b)
    except (TypeError, ValueError):
        return False


def clone(obj: Parameterized) -> Parameterized:
    """A new object of the same class with the same parameters (nothing fitted or cached)."""
    return type(obj)(**obj.get_params())


__all__ = ["Boolean", "Check", "Constraint", "InstanceOf", "Interval", "IsCallable", "Options",
           "Parameterized", "check_value", "clone", "validate", "validate_params"]
