"""iqnas: hardware-constrained neural architecture search by exact integer quadratic programming."""

from __future__ import annotations

__version__ = "0.1.0"

from iqnas import benchmarks, calibration, spaces  # noqa: E402
from iqnas.calibration import calibrate, calibrate_training_free  # noqa: E402
from iqnas.errors import InputError, IqnasError, NotFittedError, SolverError  # noqa: E402
from iqnas.interpret import explain  # noqa: E402
from iqnas.problem import Constraint, LinearConstraint, Problem  # noqa: E402
from iqnas.quadform import QuadraticForm  # noqa: E402
from iqnas.result import ResourceValue, Result  # noqa: E402
from iqnas.solve import explain_infeasible, smallest_achievable, solve, solve_top_k  # noqa: E402
from iqnas.space import Architecture, Group, SearchSpace  # noqa: E402
from iqnas.status import Status  # noqa: E402
from iqnas.sweeps import Sweep, sweep  # noqa: E402

__all__ = [
    "Architecture", "Constraint", "Group", "InputError", "IqnasError", "LinearConstraint",
    "NotFittedError", "Problem", "QuadraticForm", "ResourceValue", "Result", "SearchSpace",
    "SolverError", "Status", "explain", "explain_infeasible", "smallest_achievable", "solve",
    "solve_top_k",
    "Sweep", "sweep",
    "benchmarks", "calibrate", "calibrate_training_free", "calibration", "spaces", "__version__",
]
