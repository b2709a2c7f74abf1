"""Problem -> solver-neutral sparse form (linearised MILP or native IQP)."""

from __future__ import annotations

import weakref

from iqnas.formulations.compiled import CompiledProblem
from iqnas.formulations.products import MODES, compile_problem

_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def compiled_form(problem, products: str = "linearize") -> CompiledProblem:
    """The compiled form of ``problem`` (built once per problem and ``products`` mode)."""
    per_problem = _CACHE.setdefault(problem, {})
    if products not in per_problem:
        per_problem[products] = compile_problem(problem, products)
    return per_problem[products]


__all__ = ["CompiledProblem", "MODES", "compile_problem", "compiled_form"]
