"""Solver backends: configured objects (``Scip(...)``, ``Evolution(mode="rea")``, ...) and a
registry of names with capability flags; listing or configuring backends imports no solver
library (each backend imports its own in ``solve``).

``solver=`` anywhere in iqnas takes a name (:func:`names`) or a :class:`Backend` instance;
:func:`get` turns a name into a default-configured instance, :func:`create` into one with
options. Capabilities (``Backend.capabilities``, :data:`iqnas.solvers.base.CAPABILITIES`):
``mip`` (exact integer solve), ``products`` (the ``products`` option chooses the formulation),
``native_quadratic`` (products kept as quadratic terms), ``warm_start``, ``time_limit``,
``gap``, ``log_file``, ``trace`` (primal/dual trace), ``proof`` (returns a proof of
optimality), ``enumerative`` (limited to small spaces).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from iqnas._optional import install_hint
from iqnas._validation import clone
from iqnas.errors import BackendUnavailableError, InputError
from iqnas.solvers.backends import (
    BUILTIN,
    Bcfw,
    Cvxpy,
    Evolution,
    Exhaustive,
    RandomSearch,
    Scip,
)
from iqnas.solvers.base import Backend, BackendInfo, RawSolution, SolveOptions

_REGISTRY: dict[str, BackendInfo] = {}
_CUSTOM: dict[str, Backend] = {}


def _info(cls: type[Backend]) -> BackendInfo:
    return BackendInfo(cls.name, cls, tuple(cls.requires), frozenset(cls.capabilities),
                       getattr(cls, "description", "") or "")


for _cls in BUILTIN:
    _REGISTRY[_cls.name] = _info(_cls)


def names(available_only: bool = False) -> list[str]:
    out = [n for n, entry in _REGISTRY.items() if not available_only or entry.available()]
    return out + list(_CUSTOM)


def info(name: str) -> BackendInfo:
    """The registry entry of a built-in or registered backend."""
    if name in _CUSTOM:
        return _info(type(_CUSTOM[name]))
    if name not in _REGISTRY:
        raise InputError(f"unknown solver {name!r}; available: {', '.join(names())}")
    return _REGISTRY[name]


def register(backend: Backend) -> None:
    """Register a custom backend instance under its ``name`` (must not clash)."""
    if not isinstance(backend, Backend):
        raise InputError(f"register() needs an iqnas.solvers.Backend instance, got "
                         f"{type(backend).__name__}")
    if not backend.name or backend.name in _REGISTRY or backend.name in _CUSTOM:
        raise InputError(f"a solver named {backend.name!r} already exists (or the name is "
                         "empty)")
    _CUSTOM[backend.name] = backend


def unregister(name: str) -> None:
    """Remove a registered custom backend (built-in ones stay)."""
    _CUSTOM.pop(name, None)


def get(solver: str | Backend) -> Backend:
    """The backend ``solver`` names (a new, default-configured instance of a built-in one; a
    registered one itself), or ``solver`` if it already is a Backend. A built-in backend whose
    library is missing raises BackendUnavailableError saying what to install."""
    if isinstance(solver, Backend):
        return solver
    if not isinstance(solver, str):
        raise InputError(f"solver must be a backend name ({', '.join(names())}) or an "
                         f"iqnas.solvers.Backend instance, got {type(solver).__name__}")
    if solver in _CUSTOM:
        return _CUSTOM[solver]
    entry = info(solver)
    check_available(entry)
    return entry.cls()


def create(name: str, **params: Any) -> Backend:
    """A new instance of backend ``name`` configured with ``params`` (checked now: an unknown
    option or a bad value is a one-line InputError naming the backend's options)."""
    base = get(name)
    backend = clone(base) if params else base
    if params:
        backend.set_params(**params)
    backend._validate_params()
    return backend


def check_available(backend: Backend | BackendInfo) -> None:
    """BackendUnavailableError if a module ``backend`` needs is not installed."""
    needed = (backend.required_modules if isinstance(backend, BackendInfo)
              else type(backend).requires)
    missing = [m for m in needed if importlib.util.find_spec(m) is None]
    if missing:
        hints = dict.fromkeys(install_hint(m) for m in missing)
        raise BackendUnavailableError(f"solver {backend.name!r} needs {', '.join(missing)}: "
                                      f"{'; '.join(hints)}")


__all__ = ["Backend", "BackendInfo", "Bcfw", "Cvxpy", "Evolution", "Exhaustive", "RandomSearch",
           "RawSolution", "Scip", "SolveOptions", "check_available", "create", "get", "info",
           "names", "register", "unregister"]
