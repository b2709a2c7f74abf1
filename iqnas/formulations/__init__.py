"""Problem -> solver-neutral sparse form (linearised MILP or native IQP)."""

from iqnas.formulations.compiled import CompiledProblem
from iqnas.formulations.products import MODES, compile_problem

__all__ = ["CompiledProblem", "compile_problem", "MODES"]
