"""The solver-neutral compiled form of a Problem."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp


@dataclass
class CompiledProblem:
    """``max c @ v + c0`` s.t. ``row_lb <= A @ v (+ v' Q_r v) <= row_ub``.

    ``v`` is the one-hot vector (``n_x`` binaries) followed by ``n_y`` continuous product
    variables in [0, 1]; ``products[k] = (i, j)`` says ``v[n_x + k] == x_i * x_j``. In the
    ``native`` mode there are no product variables: ``quad_objective`` and ``quad_rows`` carry
    the products as upper-triangular matrices over the binaries instead. The objective is always
    maximised (a minimisation problem is compiled with a negated objective, ``sign = -1``).
    """

    products_mode: str
    n_x: int
    products: np.ndarray                   # (n_y, 2) int
    c: np.ndarray                          # (n_x + n_y,)
    c0: float
    sign: float
    A: sp.csr_matrix                       # (n_rows, n_x + n_y)
    row_lb: np.ndarray
    row_ub: np.ndarray
    row_names: list[str]
    var_names: list[str]
    quad_objective: sp.coo_matrix | None = None
    quad_rows: dict[int, sp.coo_matrix] = field(default_factory=dict)
    budget_rows: dict[str, int] = field(default_factory=dict)
    build_time: float = 0.0

    @property
    def n_y(self) -> int:
        return int(self.products.shape[0])

    @property
    def n_vars(self) -> int:
        return self.n_x + self.n_y

    def lift(self, x: np.ndarray) -> np.ndarray:
        """Full variable vector (binaries + products) for a one-hot ``x``."""
        x = np.asarray(x, dtype=float)
        if self.n_y == 0:
            return x
        return np.concatenate([x, x[self.products[:, 0]] * x[self.products[:, 1]]])

    def objective_value(self, v: np.ndarray) -> float:
        val = self.c0 + float(self.c @ v)
        if self.quad_objective is not None:
            x = v[: self.n_x]
            val += float(x @ (self.quad_objective @ x))
        return val

    def row_activity(self, v: np.ndarray) -> np.ndarray:
        act = self.A @ v
        x = v[: self.n_x]
        for r, q in self.quad_rows.items():
            act[r] += float(x @ (q @ x))
        return act

    def summary(self) -> str:
        return (f"{self.products_mode}: {self.n_x} binaries, {self.n_y} product variables, "
                f"{self.A.shape[0]} rows, {self.A.nnz} nonzeros")
