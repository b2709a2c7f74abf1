"""Solver backends: a registry with capability flags; listing them imports nothing heavy.

Capabilities: ``mip`` (exact integer solve), ``native_quadratic`` (products kept as quadratic
terms), ``warm_start``, ``time_limit``, ``gap``, ``trace`` (primal/dual trace), ``proof`` (returns a
proof of optimality), ``enumerative`` (limited to small spaces).
"""

from __future__ import annotations

import importlib

from iqnas._optional import install_hint
from iqnas.errors import BackendUnavailableError, InputError
from iqnas.solvers.base import Backend, BackendInfo, RawSolution, SolveOptions

_REGISTRY: dict[str, BackendInfo] = {}
_CUSTOM: dict[str, Backend] = {}


def _add(info: BackendInfo) -> None:
    _REGISTRY[info.name] = info


_add(BackendInfo("scip", "iqnas.solvers.scip", "ScipBackend", ("pyscipopt",),
                 frozenset({"mip", "native_quadratic", "warm_start", "time_limit", "gap", "trace",
                            "proof"}),
                 "SCIP through pyscipopt: exact, time/gap limits, warm start, trace"))
_add(BackendInfo("cvxpy", "iqnas.solvers.cvxpy_milp", "CvxpyBackend", ("cvxpy",),
                 frozenset({"mip", "time_limit", "gap", "proof"}),
                 "the linearised MILP through cvxpy (HiGHS, SCIP, GLPK_MI, CBC, ...)"))
_add(BackendInfo("exhaustive", "iqnas.solvers.exhaustive", "ExhaustiveBackend", ("numpy",),
                 frozenset({"mip", "native_quadratic", "time_limit", "proof", "enumerative"}),
                 "vectorised enumeration of every architecture (spaces up to ~1e6)"))
_add(BackendInfo("evolution", "iqnas.solvers.evolution", "EvolutionBackend", ("numpy",),
                 frozenset({"native_quadratic", "warm_start", "time_limit"}),
                 "evolutionary search (BINAS/OFA, regularized REA, FreeREA); no optimality proof"))
_add(BackendInfo("bcfw", "iqnas.solvers.bcfw", "BcfwBackend", ("numpy", "scipy"),
                 frozenset({"native_quadratic", "warm_start", "time_limit"}),
                 "BINAS block-coordinate Frank-Wolfe on the relaxation, budget-safe rounding"))
_add(BackendInfo("random", "iqnas.solvers.random_search", "RandomSearchBackend", ("numpy",),
                 frozenset({"native_quadratic", "warm_start", "time_limit"}),
                 "uniform random sampling, best feasible architecture; no optimality proof"))


def names(available_only: bool = False) -> list[str]:
    out = [n for n, info in _REGISTRY.items() if not available_only or info.available()]
    return out + list(_CUSTOM)


def info(name: str) -> BackendInfo:
    if name not in _REGISTRY:
        raise InputError(f"unknown solver {name!r}; available: {', '.join(names())}")
    return _REGISTRY[name]


def register(backend: Backend) -> None:
    """Register a custom backend instance under its ``name`` (must not clash)."""
    if backend.name in _REGISTRY or backend.name in _CUSTOM:
        raise InputError(f"a solver named {backend.name!r} already exists")
    _CUSTOM[backend.name] = backend


def register_builtin(entry: BackendInfo) -> None:
    """Add a lazily imported backend (used by iqnas's own optional searchers)."""
    _add(entry)


def get(name: str | Backend) -> Backend:
    if isinstance(name, Backend):
        return name
    if name in _CUSTOM:
        return _CUSTOM[name]
    entry = info(name)
    if not entry.available():
        missing = [m for m in entry.required_modules if importlib.util.find_spec(m) is None]
        hints = dict.fromkeys(install_hint(m) for m in missing)
        raise BackendUnavailableError(f"solver {name!r} needs {', '.join(missing)}: "
                                      f"{'; '.join(hints)}")
    module = importlib.import_module(entry.module)
    return getattr(module, entry.cls)()


__all__ = ["Backend", "BackendInfo", "RawSolution", "SolveOptions", "get", "info", "names",
           "register"]
