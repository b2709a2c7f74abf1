"""Random nb201 problems shared by solver tests (objective any sign, resources nonnegative)."""

from __future__ import annotations

import numpy as np

import iqnas


def random_problem(seed: int, density: float = 0.3, n_constraints: int = 2,
                   quantile: float = 0.3) -> iqnas.Problem:
    space = iqnas.spaces.get("nb201")
    rng = np.random.default_rng(seed)
    n = space.n_vars

    def form(nonneg: bool, name: str = "") -> iqnas.QuadraticForm:
        pw = rng.normal(size=(n, n)) * (rng.random((n, n)) < density)
        lin = rng.normal(size=n)
        if nonneg:
            pw, lin = np.abs(pw), np.abs(lin)
        return iqnas.QuadraticForm(space, float(abs(rng.normal())), lin, pw, name=name)

    objective = form(False)
    C = space.enumerate_choices()
    constraints = {}
    for k in range(n_constraints):
        g = form(True, f"r{k}")
        q = quantile if k == 0 else min(1.0, quantile + 0.3)
        constraints[f"r{k}"] = (g, float(np.quantile(g.evaluate_choices(C), q)))
    return iqnas.Problem(space, objective, constraints)


def brute_force(problem: iqnas.Problem) -> tuple[float, np.ndarray]:
    """Best objective and the feasibility mask, by enumeration (independent of iqnas.solve)."""
    space = problem.space
    X = space.choices_to_onehot(space.enumerate_choices())
    ok = np.ones(len(X), dtype=bool)
    for c in problem.constraints:
        ok &= c.form.evaluate(X) <= c.budget * (1 + 1e-9)
    vals = problem.objective.evaluate(X)
    return (float(vals[ok].max()) if ok.any() else float("nan")), ok
