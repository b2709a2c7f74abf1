"""Problem -> solver-neutral sparse form (linearised MILP or native IQP)."""

from __future__ import annotations

import weakref

from iqnas.errors import InputError
from iqnas.formulations.choice import choose_products
from iqnas.formulations.compiled import CompiledProblem
from iqnas.formulations.products import MODES, compile_problem

#: every accepted ``products`` value: a formulation of MODES, or "auto" (chosen per problem)
PRODUCTS = MODES + ("auto",)

_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def resolve_products(problem, products: str) -> str:
    """The formulation ``products`` names for ``problem`` ("auto": :func:`choose_products`)."""
    if products == "auto":
        return choose_products(problem)
    if products not in MODES:
        raise InputError(f"unknown products mode {products!r}; use one of {', '.join(PRODUCTS)}")
    return products


def compiled_form(problem, products: str = "linearize") -> CompiledProblem:
    """The compiled form of ``problem`` (built once per problem and ``products`` mode)."""
    products = resolve_products(problem, products)
    per_problem = _CACHE.setdefault(problem, {})
    if products not in per_problem:
        per_problem[products] = compile_problem(problem, products)
    return per_problem[products]


__all__ = ["CompiledProblem", "MODES", "PRODUCTS", "choose_products", "compile_problem",
           "compiled_form", "resolve_products"]
