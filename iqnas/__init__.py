"""iqnas: hardware-constrained neural architecture search by exact integer quadratic programming.

The core (spaces, QuadraticForm, Problem, solve) is imported eagerly; calibration, sweeps,
explain, reduce and the oracles are imported when first used, so ``import iqnas`` stays light
(no pandas, rich, sqlite or torch).
"""

from __future__ import annotations

import importlib
from typing import Any

from iqnas import spaces
from iqnas._version import __version__
from iqnas.errors import InputError, IqnasError, NotFittedError, SolverError
from iqnas.measured import MeasuredResult
from iqnas.problem import Constraint, LinearConstraint, Problem
from iqnas.quadform import QuadraticForm
from iqnas.result import ResourceValue, Result
from iqnas.solve import (
    explain_infeasible,
    iter_solutions,
    smallest_achievable,
    solve,
    solve_top_k,
)
from iqnas.space import Architecture, Group, SearchSpace
from iqnas.status import Status

#: public names imported on first use: name -> (module, attribute or None for the module)
_LAZY = {
    "calibrate": ("iqnas.calibration", "calibrate"),
    "calibrate_training_free": ("iqnas.calibration", "calibrate_training_free"),
    "calibration": ("iqnas.calibration", None),
    "explain": ("iqnas.interpret", "explain"),
    "interpret": ("iqnas.interpret", None),
    "oracles": ("iqnas.oracles", None),
    "reduce": ("iqnas.reduction", "reduce"),
    "reduction": ("iqnas.reduction", None),
    "report": ("iqnas.reporting", "report"),
    "reporting": ("iqnas.reporting", None),
    "Sweep": ("iqnas.sweeps", "Sweep"),
    "sweep": ("iqnas.sweeps", "sweep"),
    "sweeps": ("iqnas.sweeps", None),
    "builders": ("iqnas.builders", None),
    "testing": ("iqnas.testing", None),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = importlib.import_module(module)
        if attr is not None:
            value = getattr(value, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'iqnas' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Architecture", "Constraint", "Group", "InputError", "IqnasError", "LinearConstraint",
    "MeasuredResult", "NotFittedError", "Problem", "QuadraticForm", "ResourceValue", "Result",
    "SearchSpace", "SolverError", "Status", "Sweep", "__version__", "calibrate",
    "calibrate_training_free", "calibration", "explain", "explain_infeasible", "iter_solutions",
    "oracles", "reduce", "report", "smallest_achievable", "solve", "solve_top_k", "spaces", "sweep",
]
