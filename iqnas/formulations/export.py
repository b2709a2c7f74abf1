"""Write a compiled problem as a CPLEX LP or free MPS file (SCIP, HiGHS, Gurobi, CPLEX, ...).

Both forms are written as the solvers receive them: ``linearize`` is a MILP (binaries ``x_*``,
product variables ``y_*`` in [0, 1] with the aggregated rows), readable by every MILP solver;
``native`` keeps the products as a quadratic objective (LP ``[ ... ] / 2``, MPS ``QUADOBJ``)
and quadratic budget rows (LP ``[ ... ]``, MPS ``QCMATRIX``), for solvers that take
(nonconvex) quadratic terms. The objective keeps the problem's sense and its constant is written
too, so the optimal value read back equals the problem's objective. A ranged row becomes two rows
(``..._lo`` / ``..._hi``): the LP format has no ranges every reader agrees on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from iqnas._outputs import write_text_atomic
from iqnas.errors import InputError
from iqnas.formulations.compiled import CompiledProblem

#: file suffix -> format
FORMATS = {".lp": "lp", ".mps": "mps"}
_BAD = re.compile(r"[^A-Za-z0-9_.]")
#: terms per line in the LP format
_PER_LINE = 8


def model_format(path: str | Path) -> str:
    """``"lp"`` or ``"mps"`` from the suffix of ``path`` (an InputError for anything else)."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise InputError(f"cannot tell the model format of {str(path)!r}: name it *.lp "
                         "(CPLEX LP) or *.mps (free MPS)")
    return fmt


def write_compiled(cp: CompiledProblem, path: str | Path, comment: str = "") -> Path:
    """Write ``cp`` to ``path`` (format from the suffix); returns the path."""
    path = Path(path)
    fmt = model_format(path)
    text = lp_text(cp, comment) if fmt == "lp" else mps_text(cp, comment)
    return write_text_atomic(path, text, "model file")


# ---- names and rows ---------------------------------------------------------------------------
def _unique(names: Iterable[str]) -> list[str]:
    out, seen = [], set()
    for name in names:
        base = _BAD.sub("_", name) or "r"
        cand, k = base, 1
        while cand in seen:
            k += 1
            cand = f"{base}_{k}"
        seen.add(cand)
        out.append(cand)
    return out


def variable_names(cp: CompiledProblem) -> list[str]:
    """``x_<group>_<option>`` for the binaries, ``y_<i>_<j>`` (binary indices) for products."""
    xs = ["x_" + n for n in cp.var_names[: cp.n_x]]
    ys = [f"y_{i}_{j}" for i, j in cp.products]
    return _unique(xs + ys)


def _rows(cp: CompiledProblem) -> list[tuple[str, str, int, float]]:
    """(name, sense E/L/G, row index, rhs) per written row; a ranged row gives an L and a G."""
    names = _unique(cp.row_names)
    out = []
    for r, name in enumerate(names):
        lb, ub = float(cp.row_lb[r]), float(cp.row_ub[r])
        if lb == ub:
            out.append((name, "E", r, ub))
            continue
        if math.isfinite(ub):
            out.append((name + ("_hi" if math.isfinite(lb) else ""), "L", r, ub))
        if math.isfinite(lb):
            out.append((name + ("_lo" if math.isfinite(ub) else ""), "G", r, lb))
    return out


def _num(v: float) -> str:
    return repr(float(v))


def _quad_terms(q: sp.coo_matrix) -> list[tuple[int, int, float]]:
    """(i, j, coefficient) with i <= j, duplicates summed, zeros dropped."""
    acc: dict[tuple[int, int], float] = {}
    for i, j, a in zip(q.row, q.col, q.data):
        key = (int(min(i, j)), int(max(i, j)))
        acc[key] = acc.get(key, 0.0) + float(a)
    return [(i, j, a) for (i, j), a in sorted(acc.items()) if a != 0.0]


# ---- CPLEX LP ---------------------------------------------------------------------------------
def _lp_expr(terms: list[str], first: str) -> str:
    if not terms:
        return f"0 {first}"
    lines = []
    for k in range(0, len(terms), _PER_LINE):
        lines.append(" ".join(terms[k:k + _PER_LINE]))
    return "\n   ".join(lines)


def _signed(a: float, what: str) -> str:
    return f"{'-' if a < 0 else '+'} {_num(abs(a))} {what}"


def lp_text(cp: CompiledProblem, comment: str = "") -> str:
    names = variable_names(cp)
    A = cp.A.tocsr()
    out = [f"\\ {line}" for line in (comment or cp.summary()).splitlines()]
    s = cp.sign  # cp is compiled for maximisation; the file keeps the problem's sense
    obj = [_signed(s * float(cp.c[k]), names[k]) for k in np.flatnonzero(cp.c)]
    if cp.quad_objective is not None and cp.quad_objective.nnz:
        quad = [_signed(s * 2 * a, f"{names[i]} * {names[j]}" if i != j else f"{names[i]} ^ 2")
                for i, j, a in _quad_terms(cp.quad_objective)]
        if quad:
            obj += ["+ ["] + quad + ["] / 2"]
    c0 = s * cp.c0
    if c0:
        obj.append(f"{'-' if c0 < 0 else '+'} {_num(abs(c0))}")
    out += ["Maximize" if s > 0 else "Minimize", " obj: " + _lp_expr(obj, names[0]),
            "Subject To"]
    for name, sense, r, rhs in _rows(cp):
        lo, hi = A.indptr[r], A.indptr[r + 1]
        terms = [_signed(float(a), names[c]) for c, a in zip(A.indices[lo:hi], A.data[lo:hi])
                 if a != 0.0]
        q = cp.quad_rows.get(r)
        if q is not None and q.nnz:
            qt = [_signed(a, f"{names[i]} * {names[j]}" if i != j else f"{names[i]} ^ 2")
                  for i, j, a in _quad_terms(q)]
            if qt:
                terms += ["+ ["] + qt + ["]"]
        op = {"E": "=", "L": "<=", "G": ">="}[sense]
        out.append(f" {name}: {_lp_expr(terms, names[0])} {op} {_num(rhs)}")
    out.append("Bounds")
    out += [f" 0 <= {names[k]} <= 1" for k in range(cp.n_x, cp.n_vars)]
    out.append("Binaries")
    for k in range(0, cp.n_x, _PER_LINE):
        out.append(" " + " ".join(names[k:k + _PER_LINE]))
    out.append("End")
    return "\n".join(out) + "\n"


# ---- free MPS ---------------------------------------------------------------------------------
def mps_text(cp: CompiledProblem, comment: str = "") -> str:
    names = variable_names(cp)
    rows = _rows(cp)
    out = [f"* {line}" for line in (comment or cp.summary()).splitlines()]
    s = cp.sign  # cp is compiled for maximisation; the file keeps the problem's sense
    out += ["NAME iqnas", "OBJSENSE", "    MAX" if s > 0 else "    MIN", "ROWS", " N obj"]
    out += [f" {sense} {name}" for name, sense, _, _ in rows]
    written_of = {}
    for name, _, r, _ in rows:
        written_of.setdefault(r, []).append(name)
    At = cp.A.tocsc()
    out.append("COLUMNS")
    out.append("    MARKER 'MARKER' 'INTORG'")
    for k in range(cp.n_vars):
        if k == cp.n_x:
            out.append("    MARKER 'MARKER' 'INTEND'")
        entries = [("obj", s * float(cp.c[k]))] if cp.c[k] != 0.0 else []
        lo, hi = At.indptr[k], At.indptr[k + 1]
        for r, a in zip(At.indices[lo:hi], At.data[lo:hi]):
            if a != 0.0:
                entries += [(name, float(a)) for name in written_of[int(r)]]
        if not entries:  # every column is listed, so every reader knows it
            entries = [("obj", 0.0)]
        out += [f"    {names[k]} {row} {_num(a)}" for row, a in entries]
    if cp.n_x == cp.n_vars:
        out.append("    MARKER 'MARKER' 'INTEND'")
    out.append("RHS")
    if cp.c0:
        out.append(f"    RHS obj {_num(-s * cp.c0)}")  # the objective's RHS is minus its constant
    out += [f"    RHS {name} {_num(rhs)}" for name, _, _, rhs in rows if rhs != 0.0]
    out.append("BOUNDS")
    out += [f" UP BND {names[k]} 1" for k in range(cp.n_vars)]
    if cp.quad_objective is not None and cp.quad_objective.nnz:
        # objective c'x + 1/2 x'Qx, one triangle of Q: q x_i x_j (i != j) is Q_ij = q
        out.append("QUADOBJ")
        out += [f"    {names[i]} {names[j]} {_num(s * (a if i != j else 2 * a))}"
                for i, j, a in _quad_terms(cp.quad_objective)]
    for name, _, r, _ in rows:
        q = cp.quad_rows.get(r)
        if q is None or not q.nnz:
            continue
        # constraint term x'Qx with the whole symmetric Q: q x_i x_j is Q_ij = Q_ji = q / 2
        out.append(f"QCMATRIX {name}")
        for i, j, a in _quad_terms(q):
            if i == j:
                out.append(f"    {names[i]} {names[i]} {_num(a)}")
            else:
                out += [f"    {names[i]} {names[j]} {_num(a / 2)}",
                        f"    {names[j]} {names[i]} {_num(a / 2)}"]
    out.append("ENDATA")
    return "\n".join(out) + "\n"
