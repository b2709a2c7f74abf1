"""``products="auto"``: the formulation for a problem, from its size and density.

The rule is what the solver benchmarks measured (benchmarks/NOTES.md, "Exact at scale"): the
linearised form (a product variable per pair of options, aggregated rows, triangle cuts) was the
fastest on every family measured, small or large, sparse or dense, with one budget or three;
keeping the products native was slower wherever there were products, and the same where there
were none (a purely linear problem compiles to the same MILP either way).
"""

from __future__ import annotations


def choose_products(problem) -> str:
    """The formulation ``products="auto"`` uses for ``problem`` (see the module docstring)."""
    return "linearize"
