"""Random nb201 problems shared by solver tests (objective any sign, resources nonnegative)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

import iqnas


@lru_cache(maxsize=4)
def every_choice(space_name: str) -> np.ndarray:
    """All architectures of a small space as option indices (computed once per test session)."""
    out = iqnas.spaces.get(space_name).enumerate_choices()
    out.setflags(write=False)
    return out


@lru_cache(maxsize=4)
def every_onehot(space_name: str) -> np.ndarray:
    """All architectures of a small space as one-hot rows (computed once per test session)."""
    out = iqnas.spaces.get(space_name).choices_to_onehot(every_choice(space_name))
    out.setflags(write=False)
    return out


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
    C = every_choice(space.name)
    constraints = {}
    for k in range(n_constraints):
        g = form(True, f"r{k}")
        q = quantile if k == 0 else min(1.0, quantile + 0.3)
        constraints[f"r{k}"] = (g, float(np.quantile(g.evaluate(choices=C), q)))
    return iqnas.Problem(space, objective, constraints)


def values(form: iqnas.QuadraticForm, X: np.ndarray) -> np.ndarray:
    """``intercept + X @ linear + x @ P @ x`` per row, from the raw coefficients (no iqnas code)."""
    P = form.pairwise.toarray()
    return form.intercept + X @ form.linear + np.einsum("ij,ij->i", X @ P, X)


def brute_force(problem: iqnas.Problem) -> tuple[float, np.ndarray]:
    """Best objective and the feasibility mask, by enumeration (independent of iqnas.solve)."""
    X = every_onehot(problem.space.name)
    ok = np.ones(len(X), dtype=bool)
    for c in problem.constraints:
        ok &= values(c.form, X) <= c.budget * (1 + 1e-9)
    vals = values(problem.objective, X)
    if problem.sense == "minimize":
        vals = -vals
    best = float(vals[ok].max()) if ok.any() else float("nan")
    return (-best if problem.sense == "minimize" else best), ok
