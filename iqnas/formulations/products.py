"""Compile a Problem: products of binaries linearised (default) or kept native."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from iqnas.errors import InputError
from iqnas.formulations.compiled import CompiledProblem
from iqnas.formulations.folding import fold_controllers
from iqnas.formulations.structure import RowBuilder, add_structural_rows
from iqnas.quadform import QuadraticForm

if TYPE_CHECKING:
    from iqnas.problem import Problem

MODES = ("linearize", "native")


def compile_problem(problem: Problem, products: str = "linearize") -> CompiledProblem:
    if products not in MODES:
        raise InputError(f"unknown products mode {products!r}; use one of {', '.join(MODES)}")
    t0 = time.perf_counter()
    space = problem.space
    sign = 1.0 if problem.sense == "maximize" else -1.0
    rows = RowBuilder()
    add_structural_rows(problem, rows)
    names = space.var_names()
    n = space.n_vars
    # products with a controller group are linear on valid architectures: fold them first
    objective = fold_controllers(problem.objective)
    cons_forms = [fold_controllers(con.form) for con in problem.constraints]
    if products == "linearize":
        pairs = sorted(set().union(objective.group_pairs(), *(f.group_pairs() for f in cons_forms)))
        index, prods = _product_variables(problem, pairs)
        _add_aggregated_rows(problem, pairs, index, rows)
        c, c0 = _linear_part(objective, index, n + len(prods))
        budget_rows = {}
        for con, form in zip(problem.constraints, cons_forms):
            coef, k0 = _linear_part(form, index, n + len(prods))
            nz = np.flatnonzero(coef)
            budget_rows[con.name] = rows.add(f"budget[{con.name}]", nz, coef[nz],
                                             ub=con.budget - k0)
        names += [f"y[{names[i]}*{names[j]}]" for i, j in prods]
        compiled = CompiledProblem(products, n, np.asarray(prods, dtype=np.int64).reshape(-1, 2),
                                   sign * c, sign * c0, sign, _matrix(rows, len(names)),
                                   np.array(rows.lb), np.array(rows.ub), rows.names, names,
                                   budget_rows=budget_rows)
    else:
        budget_rows, quad_rows = {}, {}
        for con, f in zip(problem.constraints, cons_forms):
            nz = np.flatnonzero(f.linear)
            r = rows.add(f"budget[{con.name}]", nz, f.linear[nz], ub=con.budget - f.intercept)
            budget_rows[con.name] = r
            if f.pairwise.nnz:
                quad_rows[r] = f.pairwise.tocoo()
        obj = objective
        compiled = CompiledProblem(products, n, np.zeros((0, 2), dtype=np.int64),
                                   sign * obj.linear, sign * obj.intercept, sign,
                                   _matrix(rows, n), np.array(rows.lb), np.array(rows.ub),
                                   rows.names, names,
                                   quad_objective=(sign * obj.pairwise).tocoo(),
                                   quad_rows=quad_rows, budget_rows=budget_rows)
    compiled.build_time = time.perf_counter() - t0
    return compiled


def _product_variables(problem: Problem, pairs):
    """One continuous y per (option of group a, option of group b) for every used group pair."""
    space = problem.space
    index: dict[tuple[int, int], int] = {}
    prods = []
    n = space.n_vars
    for a, b in pairs:
        oa, ob = space.offsets[a], space.offsets[b]
        for i in range(oa, oa + space.sizes[a]):
            for j in range(ob, ob + space.sizes[b]):
                index[(i, j)] = n + len(prods)
                prods.append((i, j))
    return index, prods


def _add_aggregated_rows(problem: Problem, pairs, index, rows: RowBuilder) -> None:
    """sum_j y_ij = x_i for each option i of one group over the options j of the other."""
    space = problem.space
    for a, b in pairs:
        ga, gb = space.groups[a], space.groups[b]
        oa, ob = space.offsets[a], space.offsets[b]
        ia = range(oa, oa + space.sizes[a])
        ib = range(ob, ob + space.sizes[b])
        for i in ia:
            rows.add(f"agg[{ga.name}|{gb.name}]", [i] + [index[(i, j)] for j in ib],
                     [-1.0] + [1.0] * len(ib), 0.0, 0.0)
        for j in ib:
            rows.add(f"agg[{gb.name}|{ga.name}]", [j] + [index[(i, j)] for i in ia],
                     [-1.0] + [1.0] * len(ia), 0.0, 0.0)


def _linear_part(form: QuadraticForm, index, size: int) -> tuple[np.ndarray, float]:
    coef = np.zeros(size)
    coef[: form.space.n_vars] = form.linear
    coo = form.pairwise.tocoo()
    for i, j, v in zip(coo.row, coo.col, coo.data):
        coef[index[(int(i), int(j))]] += v
    return coef, form.intercept


def _matrix(rows: RowBuilder, n_cols: int) -> sp.csr_matrix:
    if not len(rows):
        return sp.csr_matrix((0, n_cols))
    r = np.concatenate(rows.rows)
    c = np.concatenate(rows.cols)
    v = np.concatenate(rows.vals)
    return sp.csr_matrix((v, (r, c)), shape=(len(rows), n_cols))
