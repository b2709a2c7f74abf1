"""QuadraticForm: the one math object of iqnas, a quadratic function of a space's one-hot vector.

``f(x) = intercept + linear @ x + x @ P @ x`` where ``P`` is stored strictly upper triangular
(``i < j``) with no pairs inside one group. Diagonal entries are folded into ``linear``
(``x_i**2 == x_i``) and pairs inside one group are dropped (they are always zero on one-hot
vectors), so two forms that agree on every architecture have the same canonical storage.

It is also the one evaluation kernel: ``evaluate(choices=C)`` gathers from one flat table of the
per-group-pair blocks (each group's linear terms folded into one of its blocks), built once per
form; ``gradient(x)`` is ``linear + (P + P^T) x``. Forms are immutable, so these caches stay valid.
"""

from __future__ import annotations

import json
import numbers
import os
import warnings
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np
import scipy.sparse as sp

from iqnas.errors import InputError, NotOneHotWarning
from iqnas.space import Architecture, SearchSpace

#: the "format" field of a QuadraticForm JSON file
FORMAT = "iqnas.QuadraticForm/1"
#: rows evaluated at once by the gather of ``evaluate(choices=...)`` (bounds its memory; measured
#: fastest from 30 to 225 gathered columns, see benchmarks/NOTES.md)
GATHER_ROWS = 512
#: rows of a real matrix evaluated at once by ``evaluate(X)``
MATRIX_ROWS = 65_536
#: the gradient uses a dense ``P + P^T`` when at least this share of it is nonzero ...
DENSE_SHARE = 0.25
#: ... and the space has at most this many variables
DENSE_MAX_VARS = 2048


class QuadraticForm:
    """A quadratic function of the one-hot vector of ``space``; immutable.

    ``pairwise`` may be dense or scipy.sparse, symmetric or upper triangular: the form's value is
    ``x @ pairwise @ x``, so a symmetric matrix counts each pair twice and an upper one once.
    The attributes are read-only (``linear`` and ``pairwise`` hold read-only arrays);
    ``copy(**changes)`` and the arithmetic operators return new forms.
    """

    __slots__ = ("_space", "_name", "_units", "_intercept", "_linear", "_pairwise", "_cache")

    def __init__(self, space: SearchSpace, intercept: float = 0.0, linear=None, pairwise=None,
                 *, name: str = "", units: str = "") -> None:
        if not isinstance(space, SearchSpace):
            raise InputError(f"QuadraticForm {name!r}: space must be a SearchSpace, got "
                             f"{type(space).__name__} {space!r}"
                             + (f" (use iqnas.spaces.get({space!r}))" if isinstance(space, str)
                                else ""))
        n = space.n_vars
        if isinstance(intercept, (str, bytes, bool)) or not np.isscalar(intercept) \
                and not (isinstance(intercept, np.ndarray) and intercept.ndim == 0):
            raise InputError(f"QuadraticForm {name!r}: intercept must be a number, got "
                             f"{intercept!r}")
        intercept = float(intercept)
        if not np.isfinite(intercept):
            raise InputError(f"QuadraticForm {name!r}: intercept is {intercept}")
        lin = np.zeros(n) if linear is None else _coefficients(linear, n, name, space)
        _check_finite(lin, f"QuadraticForm {name!r}: linear", space)
        if pairwise is None:
            upper = sp.csr_matrix((n, n))
        else:
            mat = sp.coo_matrix(pairwise, dtype=float)
            if mat.shape != (n, n):
                raise InputError(f"QuadraticForm {name!r}: pairwise has shape {mat.shape}, "
                                 f"expected ({n}, {n})")
            bad = ~np.isfinite(mat.data)
            if bad.any():
                i, j = int(mat.row[bad][0]), int(mat.col[bad][0])
                names = space.var_names()
                raise InputError(f"QuadraticForm {name!r}: pairwise[{names[i]}, {names[j]}] is "
                                 f"{mat.data[bad][0]}; coefficients must be finite")
            diag = mat.row == mat.col
            np.add.at(lin, mat.row[diag], mat.data[diag])
            r, c, v = mat.row[~diag], mat.col[~diag], mat.data[~diag]
            lo, hi = np.minimum(r, c), np.maximum(r, c)
            keep = space.group_of_var[lo] != space.group_of_var[hi]
            upper = sp.csr_matrix((v[keep], (lo[keep], hi[keep])), shape=(n, n))
            upper.sum_duplicates()
            upper.eliminate_zeros()
        self._store(space, intercept, lin, upper, str(name), str(units))

    def _store(self, space: SearchSpace, intercept: float, linear: np.ndarray,
               upper: sp.csr_matrix, name: str, units: str) -> None:
        """Keep canonical coefficients as read-only arrays (shared with ``copy`` when unchanged)."""
        for arr in (linear, upper.data, upper.indices, upper.indptr):
            arr.flags.writeable = False
        self._space, self._name, self._units = space, name, units
        self._intercept, self._linear, self._pairwise = intercept, linear, upper
        self._cache: dict = {}

    def __getstate__(self) -> tuple:
        return (self._space, self._intercept, np.array(self._linear), self._pairwise.copy(),
                self._name, self._units)

    def __setstate__(self, state: tuple) -> None:
        space, intercept, linear, upper, name, units = state
        self._store(space, intercept, linear, upper, name, units)

    # ---- read-only attributes -------------------------------------------------------------
    @property
    def space(self) -> SearchSpace:
        return self._space

    @property
    def name(self) -> str:
        return self._name

    @property
    def units(self) -> str:
        return self._units

    @property
    def intercept(self) -> float:
        return self._intercept

    @property
    def linear(self) -> np.ndarray:
        """Coefficient per one-hot variable (read-only)."""
        return self._linear

    @property
    def pairwise(self) -> sp.csr_matrix:
        """Strictly upper triangular products between different groups (read-only arrays)."""
        return self._pairwise

    @property
    def pair_blocks(self) -> Mapping[tuple[int, int], np.ndarray]:
        """Dense coefficient block per pair of groups ``(gi < gj)`` with a nonzero product,
        sorted: ``block[a, b]`` multiplies ``x[gi=a] * x[gj=b]``. Computed once; read-only."""
        blocks = self._cache.get("blocks")
        if blocks is None:
            blocks = self._cache["blocks"] = MappingProxyType(self._make_blocks())
        return blocks

    def _make_blocks(self) -> dict[tuple[int, int], np.ndarray]:
        sp_ = self._space
        coo = self._pairwise.tocoo()
        # stored upper triangular with no pair inside a group: the row's group comes first
        code = sp_.group_of_var[coo.row] * sp_.n_groups + sp_.group_of_var[coo.col]
        order = np.argsort(code, kind="stable")
        out: dict[tuple[int, int], np.ndarray] = {}
        for seg in np.split(order, np.flatnonzero(np.diff(code[order])) + 1):
            if not len(seg):
                continue
            a, b = divmod(int(code[seg[0]]), sp_.n_groups)
            block = np.zeros((sp_.sizes[a], sp_.sizes[b]))
            block[coo.row[seg] - sp_.offsets[a], coo.col[seg] - sp_.offsets[b]] = coo.data[seg]
            block.flags.writeable = False
            out[(a, b)] = block
        return out

    # ---- evaluation -----------------------------------------------------------------------
    def __call__(self, arch) -> float:
        """The value at one architecture (or key, choices dict, one-hot vector), or at any real
        vector of n_vars."""
        if isinstance(arch, np.ndarray) and arch.ndim == 1 and arch.shape[0] == self._space.n_vars:
            x = arch.astype(float)
            C = self._onehot_choices(x[None, :])
            if C is None:
                _warn_binary_not_onehot(x[None, :], self._space)
            return float(self._evaluate_choices(C)[0] if C is not None else
                         self._intercept + x @ self._linear + x @ (self._pairwise @ x))
        row = np.asarray(self._space.to_arch(arch).choices, dtype=np.int64)[None, :]
        return float(self._evaluate_choices(row)[0])

    def evaluate(self, X=None, *, choices=None) -> np.ndarray:
        """Values of many points.

        ``X``: an (n, n_vars) real matrix or a list of architectures/keys; one-hot rows are
        architectures, any other real row gives the polynomial's value there. ``choices``: an
        (n, n_groups) array of option indices, the fast path for many architectures. Every
        architecture, however it is given, is evaluated by the same gather over the pair blocks.
        """
        if (X is None) == (choices is None):
            raise InputError("evaluate takes X (rows of the one-hot vector, or architectures) "
                             "or choices= (option indices), exactly one of them")
        if choices is not None:
            return self._evaluate_choices(self._check_choices(choices))
        X = self._check_rows(X)
        if X.dtype != float:  # architectures or keys, turned into choices
            return self._evaluate_choices(X)
        C = self._onehot_choices(X)
        if C is not None:
            return self._evaluate_choices(C)
        _warn_binary_not_onehot(X, self._space)
        out = np.empty(X.shape[0])
        for s in range(0, X.shape[0], MATRIX_ROWS):
            out[s:s + MATRIX_ROWS] = self._polynomial(X[s:s + MATRIX_ROWS])
        return out

    def gradient(self, x=None, *, choices=None) -> np.ndarray:
        """``linear + (P + P^T) x``: the gradient at a real vector ``x`` (n_vars,), row by row
        for an (n, n_vars) batch, or at the one-hot vectors of an (n, n_groups) ``choices``
        array."""
        if (x is None) == (choices is None):
            raise InputError("gradient takes x (real vectors of n_vars) or choices= (option "
                             "indices), exactly one of them")
        S = self._symmetric()
        if choices is not None:
            C = self._check_choices(choices)
            if isinstance(S, np.ndarray):  # S is symmetric: sum the rows of the chosen options
                return self._linear + S[C + self._space.offsets].sum(axis=1)
            x = self._space.choices_to_onehot(C)
        x = np.asarray(x, dtype=float)
        if x.ndim not in (1, 2) or x.shape[-1] != self._space.n_vars:
            raise InputError(f"gradient needs vectors of {self._space.n_vars} variables, got shape "
                             f"{x.shape}")
        return self._linear + (S @ x if x.ndim == 1 else (S @ x.T).T)

    def value_and_gradient(self, x) -> tuple[float, np.ndarray]:
        """The value and the gradient at one real vector ``x`` from one matrix-vector product:
        ``g = linear + (P + P^T) x`` and ``f(x) = intercept + (linear @ x + g @ x) / 2``."""
        g = self.gradient(x)
        x = np.asarray(x, dtype=float)
        if x.ndim != 1:
            raise InputError(f"value_and_gradient needs one vector of {self._space.n_vars} "
                             f"variables, got shape {x.shape}")
        return self._intercept + 0.5 * float(self._linear @ x + g @ x), g

    def _polynomial(self, X: np.ndarray) -> np.ndarray:
        """``intercept + linear @ x + x @ P @ x`` for each row of a real batch."""
        return self._intercept + X @ self._linear + (X * (self._pairwise @ X.T).T).sum(axis=1)

    def _check_choices(self, choices) -> np.ndarray:
        C = np.asarray(choices)
        sp_ = self._space
        if C.ndim != 2 or C.shape[1] != sp_.n_groups:
            raise InputError(f"choices must be an (n, {sp_.n_groups}) array of option indices "
                             f"for space {sp_.name!r}, got shape {C.shape}")
        if C.dtype.kind not in "iu":
            if C.size:
                raise InputError("choices must be integer option indices")
            C = C.astype(np.int64)
        return C

    def _check_rows(self, X) -> np.ndarray:
        """A float (n, n_vars) matrix, or the int64 choices of a list of architectures/keys."""
        sp_ = self._space
        if sp.issparse(X):
            X = X.toarray()
        if isinstance(X, np.ndarray) and X.ndim == 2:
            if X.shape[1] != sp_.n_vars:
                raise InputError(f"batch has {X.shape[1]} columns, space {sp_.name!r} has "
                                 f"{sp_.n_vars} variables")
            return np.asarray(X, dtype=float)
        if isinstance(X, (str, bytes)) or not hasattr(X, "__len__"):
            raise InputError("X must be an (n, n_vars) array or a list of architectures, got "
                             f"{type(X).__name__}")
        rows = [sp_.to_arch(a).choices for a in X]
        return np.asarray(rows, dtype=np.int64).reshape(len(rows), sp_.n_groups)

    def _onehot_choices(self, X: np.ndarray) -> np.ndarray | None:
        """The choices of a float batch whose rows are all one-hot vectors, else None."""
        sp_ = self._space
        if (not X.shape[0] or np.count_nonzero(X) != X.shape[0] * sp_.n_groups
                or not ((X == 0.0) | (X == 1.0)).all()
                or not (np.add.reduceat(X, sp_.offsets, axis=1) == 1.0).all()):
            return None
        return sp_.onehot_to_choices(X)

    def _evaluate_choices(self, C: np.ndarray) -> np.ndarray:
        """The gather: one column per pair block (and per group without one), summed."""
        first, second, stride, start, table, limit = self._gather_table()
        if C.shape[0] <= GATHER_ROWS:
            return self._gather(C, 0, first, second, stride, start, table, limit)
        out = np.empty(C.shape[0])
        for s in range(0, C.shape[0], GATHER_ROWS):
            out[s:s + GATHER_ROWS] = self._gather(C[s:s + GATHER_ROWS], s, first, second, stride,
                                                  start, table, limit)
        return out

    def _gather(self, block, row0, first, second, stride, start, table, limit) -> np.ndarray:
        block = block.astype(np.int64, copy=False)
        if (block.view(np.uint64) >= limit).any():  # unsigned: a negative option is too large
            sp_ = self._space
            i, g = (int(v) for v in np.argwhere((block < 0) | (block >= sp_.sizes))[0])
            raise InputError(f"choices row {row0 + i}: option {block[i, g]} out of range for "
                             f"group {sp_.groups[g].name!r} (0..{sp_.sizes[g] - 1})")
        return table[block[:, first] * stride + block[:, second] + start].sum(axis=1) \
            + self._intercept

    def _gather_table(self) -> tuple[np.ndarray, ...]:
        """One flat table holding every pair block, with each group's linear terms folded into
        the first block that has the group (a group in no block gets its own column), and for
        every column the groups, stride and start that index it: value = sum of the columns."""
        cached = self._cache.get("gather")
        if cached is not None:
            return cached
        sp_ = self._space
        lin = [self._linear[o:o + n] for o, n in zip(sp_.offsets, sp_.sizes)]
        folded = np.zeros(sp_.n_groups, dtype=bool)
        first, second, stride, parts = [], [], [], []
        for (a, b), block in self.pair_blocks.items():
            block = block.copy()
            for g, axis in ((a, 1), (b, 0)):
                if not folded[g]:
                    block += np.expand_dims(lin[g], axis)
                    folded[g] = True
            first.append(a)
            second.append(b)
            stride.append(sp_.sizes[b])
            parts.append(block.ravel())
        for g in np.flatnonzero(~folded):
            first.append(g)
            second.append(g)
            stride.append(0)
            parts.append(lin[g])
        sizes = [len(p) for p in parts]
        table = (np.array(first, dtype=np.int64), np.array(second, dtype=np.int64),
                 np.array(stride, dtype=np.int64),
                 np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64),
                 np.concatenate(parts), sp_.sizes.astype(np.uint64))
        self._cache["gather"] = table
        return table

    def _symmetric(self):
        """``P + P^T``, dense when that is faster for a matrix-vector product."""
        S = self._cache.get("symmetric")
        if S is None:
            S = (self._pairwise + self._pairwise.T).tocsr()
            n = self._space.n_vars
            if n <= DENSE_MAX_VARS and S.nnz >= DENSE_SHARE * n * n:
                S = S.toarray()
            self._cache["symmetric"] = S
        return S

    def group_pairs(self) -> set[tuple[int, int]]:
        """Pairs of group indices (gi < gj) that have at least one nonzero product."""
        return set(self.pair_blocks)

    @property
    def is_linear(self) -> bool:
        return self._pairwise.nnz == 0

    # ---- algebra --------------------------------------------------------------------------
    def _coerce(self, other) -> QuadraticForm:
        if isinstance(other, numbers.Real):
            return QuadraticForm(self._space, float(other))
        if isinstance(other, QuadraticForm):
            if not same_space(other.space, self._space):
                raise InputError(f"cannot combine forms over spaces {self._space.name!r} and "
                                 f"{other.space.name!r}" + _same_name_note(other.space,
                                                                          self._space))
            return other
        return NotImplemented

    def __add__(self, other) -> QuadraticForm:
        o = self._coerce(other)
        if o is NotImplemented:
            return o
        return QuadraticForm(self._space, self._intercept + o.intercept, self._linear + o.linear,
                             self._pairwise + o.pairwise, name=self._name, units=self._units)

    __radd__ = __add__

    def __mul__(self, k) -> QuadraticForm:
        if not isinstance(k, numbers.Real):
            return NotImplemented
        k = float(k)
        return QuadraticForm(self._space, k * self._intercept, k * self._linear,
                             k * self._pairwise, name=self._name, units=self._units)

    __rmul__ = __mul__

    def __neg__(self) -> QuadraticForm:
        return self * -1.0

    def __sub__(self, other) -> QuadraticForm:
        o = self._coerce(other)
        if o is NotImplemented:
            return o
        return self + (-o)

    def __rsub__(self, other) -> QuadraticForm:
        return (-self) + other

    def copy(self, **changes) -> QuadraticForm:
        """A new form with some of ``intercept``, ``linear``, ``pairwise``, ``name``, ``units``
        replaced (a change of name or units alone shares the coefficients and caches)."""
        unknown = set(changes) - {"intercept", "linear", "pairwise", "name", "units"}
        if unknown:
            raise InputError(f"QuadraticForm.copy got unknown field(s) {sorted(unknown)}; "
                             "allowed: intercept, linear, pairwise, name, units")
        if set(changes) <= {"name", "units"}:
            new = object.__new__(QuadraticForm)
            new._store(self._space, self._intercept, self._linear, self._pairwise,
                       str(changes.get("name", self._name)),
                       str(changes.get("units", self._units)))
            new._cache = self._cache
            return new
        kw = dict(intercept=self._intercept, linear=self._linear, pairwise=self._pairwise,
                  name=self._name, units=self._units)
        kw.update(changes)
        return QuadraticForm(self._space, **kw)

    # ---- interpretation -------------------------------------------------------------------
    def terms(self, tol: float = 0.0) -> list[dict]:
        """Named terms: the intercept, one row per linear and per pairwise coefficient."""
        sp_ = self.space
        groups, names = sp_.groups, []
        for g in groups:
            names += [(g.name, o) for o in g.options]
        rows = [dict(kind="intercept", group="", option="", group2="", option2="",
                     coef=self.intercept)]
        for i in np.flatnonzero(np.abs(self.linear) > tol):
            rows.append(dict(kind="linear", group=names[i][0], option=names[i][1], group2="",
                             option2="", coef=float(self.linear[i])))
        coo = self.pairwise.tocoo()
        for i, j, v in zip(coo.row, coo.col, coo.data):
            if abs(v) > tol:
                rows.append(dict(kind="pairwise", group=names[i][0], option=names[i][1],
                                 group2=names[j][0], option2=names[j][1], coef=float(v)))
        return rows

    # ---- persistence ----------------------------------------------------------------------
    def to_dict(self) -> dict:
        coo = self.pairwise.tocoo()
        names = self.space.var_names()
        return {
            "format": FORMAT,
            "space": self.space.name,
            "space_hash": self.space.content_hash(),
            "name": self.name,
            "units": self.units,
            "variables": names,
            "intercept": self.intercept,
            "linear": self.linear.tolist(),
            "pairwise": [[names[i], names[j], float(v)]
                         for i, j, v in zip(coo.row, coo.col, coo.data)],
        }

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), **kw)

    @classmethod
    def from_dict(cls, data: dict, space: SearchSpace | None = None) -> QuadraticForm:

        if not isinstance(data, dict):
            raise InputError("a QuadraticForm JSON must be an object")
        if space is None:
            if "space" not in data:
                raise InputError("QuadraticForm JSON has no 'space' field; pass space=")
            space = _named_space(data["space"], "QuadraticForm JSON")
        elif data.get("space", space.name) != space.name:
            raise InputError(f"QuadraticForm JSON is for space {data['space']!r}, "
                             f"not {space.name!r}")
        unknown = set(data) - {"format", "space", "space_hash", "name", "units", "variables",
                               "intercept", "linear", "pairwise"}
        if unknown:
            raise InputError(f"QuadraticForm JSON has unknown field(s) {sorted(unknown)}; "
                             "allowed: intercept, linear, pairwise, name, units, space, "
                             "space_hash")
        if data.get("format", FORMAT) != FORMAT:
            raise InputError(f"QuadraticForm JSON has format {data['format']!r}, not {FORMAT!r}: "
                             "it is another kind of file (write forms with QuadraticForm.save)")
        if not {"intercept", "linear", "pairwise"} & set(data):
            raise InputError("QuadraticForm JSON has none of the fields intercept, linear, "
                             "pairwise: no coefficients (write forms with QuadraticForm.save)")
        check_space_hash(data.get("space_hash"), space, "QuadraticForm JSON")
        n = space.n_vars
        if "variables" in data and (not isinstance(data["variables"], list)
                                    or data["variables"] != space.var_names()):
            raise InputError("QuadraticForm JSON 'variables' do not match the space's variables "
                             f"(expected {n} names in the order of space.var_names())")
        lin_raw = data.get("linear", [])
        lin = np.zeros(n)
        if isinstance(lin_raw, dict):
            for k, v in lin_raw.items():
                lin[space.var_index_by_name(k)] += _number(v, f"linear[{k}]")
        elif isinstance(lin_raw, list):
            if len(lin_raw) not in (0, n):
                raise InputError(f"QuadraticForm JSON: 'linear' has {len(lin_raw)} entries, "
                                 f"space {space.name!r} has {n} variables")
            for k, v in enumerate(lin_raw):
                lin[k] = _number(v, f"linear[{k}]")
        else:
            raise InputError("QuadraticForm JSON: 'linear' must be a list or an object")
        rows, cols, vals = [], [], []
        pw = data.get("pairwise", [])
        if not isinstance(pw, list):
            raise InputError("QuadraticForm JSON: 'pairwise' must be a list of [i, j, coef]")
        for k, entry in enumerate(pw):
            if not isinstance(entry, (list, tuple)) or len(entry) != 3:
                raise InputError(f"QuadraticForm JSON: pairwise[{k}] must be [i, j, coef]")
            i, j, v = entry
            rows.append(_var(space, i, f"pairwise[{k}]"))
            cols.append(_var(space, j, f"pairwise[{k}]"))
            vals.append(_number(v, f"pairwise[{k}]"))
            if rows[-1] != cols[-1] and space.group_of_var[rows[-1]] == \
                    space.group_of_var[cols[-1]] and vals[-1] != 0:
                names = space.var_names()
                raise InputError(f"QuadraticForm JSON: pairwise[{k}] multiplies two options of "
                                 f"one group ({names[rows[-1]]}, {names[cols[-1]]}), which are "
                                 "never chosen together; pair options of different groups")
        mat = sp.coo_matrix((vals, (rows, cols)), shape=(n, n)) if vals else None
        return cls(space, _number(data.get("intercept", 0.0), "intercept"), lin, mat,
                   name=str(data.get("name", "")), units=str(data.get("units", "")))

    @classmethod
    def from_json(cls, text: str, space: SearchSpace | None = None) -> QuadraticForm:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"QuadraticForm JSON is malformed: {exc}") from None
        return cls.from_dict(data, space)

    def save(self, path: str | Path) -> Path:
        """Write JSON (``.json``) or NPZ (``.npz``); the file is replaced atomically."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        if path.suffix not in (".npz", ".json"):
            raise InputError(f"unknown file type {path.suffix!r} for {path}; use .json or .npz")
        if not path.parent.is_dir():
            raise InputError(f"cannot save {path}: the folder {path.parent} does not exist")
        if path.is_dir():
            raise InputError(f"cannot save {path}: it is a folder; give a file path")
        if path.suffix == ".npz":
            coo = self.pairwise.tocoo()
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, space=np.array(self.space.name),
                                    space_hash=np.array(self.space.content_hash()),
                                    name=np.array(self.name), units=np.array(self.units),
                                    intercept=np.array(self.intercept), linear=self.linear,
                                    rows=coo.row, cols=coo.col, vals=coo.data)
        elif path.suffix == ".json":
            tmp.write_text(self.to_json(indent=1))
        else:
            raise InputError(f"unknown file type {path.suffix!r} for {path}; use .json or .npz")
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path, space: SearchSpace | None = None) -> QuadraticForm:
        """A form saved by :meth:`save` (``.json`` or ``.npz``); ``space`` is needed for a
        space from a file."""
        if not isinstance(path, (str, os.PathLike)):
            raise InputError(f"path must be a file path (str or Path), got "
                             f"{type(path).__name__}")
        path = Path(path)
        if not path.exists():
            raise InputError(f"file not found: {path}")
        if path.is_dir():
            raise InputError(f"{path} is a folder, not a QuadraticForm file")
        if path.suffix == ".json":
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(f"{path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} "
                                 f"at offset {exc.start}); a QuadraticForm JSON is UTF-8") \
                    from None
            try:
                return cls.from_json(text, space)
            except InputError as exc:
                raise InputError(f"{path}: {exc}") from None
        if path.suffix != ".npz":
            raise InputError(f"unknown file type {path.suffix!r} for {path}; use .json or .npz")
        with open(path, "rb") as fh:
            magic = fh.read(4)
        if magic != b"PK\x03\x04":
            raise InputError(f"{path} is not a readable QuadraticForm NPZ file ("
                             + ("it is empty" if not magic else
                                "it is truncated or not a zip archive") + ")")
        try:
            with np.load(path, allow_pickle=False) as z:
                name = str(z["space"])
                space = space or _named_space(name, str(path))
                if name != space.name:
                    raise InputError(f"{path} is for space {name!r}, not {space.name!r}")
                if "space_hash" in z.files:
                    check_space_hash(str(z["space_hash"]), space, str(path))
                n = space.n_vars
                rows, cols = z["rows"], z["cols"]
                if len(rows) and (rows.min() < 0 or cols.min() < 0 or rows.max() >= n
                                  or cols.max() >= n):
                    raise InputError(f"{path}: pairwise index out of range for {space.name!r}")
                g = space.group_of_var
                inside = (rows != cols) & (g[rows] == g[cols]) & (z["vals"] != 0)
                if inside.any():
                    k = int(np.flatnonzero(inside)[0])
                    names = space.var_names()
                    raise InputError(f"{path}: pairwise term {k} multiplies two options of one "
                                     f"group ({names[rows[k]]}, {names[cols[k]]}), which are "
                                     "never chosen together")
                mat = sp.coo_matrix((z["vals"], (rows, cols)), shape=(n, n))
                return cls(space, float(z["intercept"]), z["linear"], mat, name=str(z["name"]),
                           units=str(z["units"]))
        except InputError:
            raise
        except Exception as exc:  # an untrusted archive: zipfile and numpy raise many kinds
            what = ("it is empty" if path.stat().st_size == 0
                    else "it is truncated or not a zip archive"
                    if isinstance(exc, (EOFError, zipfile.BadZipFile, zlib.error))
                    else f"{type(exc).__name__}: {exc}")
            raise InputError(f"{path} is not a readable QuadraticForm NPZ file ({what})") \
                from None

    def __repr__(self) -> str:
        nm = f" {self.name!r}" if self.name else ""
        return (f"QuadraticForm{nm}(space={self.space.name!r}, linear_nnz="
                f"{int(np.count_nonzero(self.linear))}, pairwise_nnz={self.pairwise.nnz})")


def _warn_binary_not_onehot(X: np.ndarray, space: SearchSpace) -> None:
    """A 0/1 row that is not one-hot is most likely a mistake (an architecture has exactly one
    option per group); real rows (relaxations) are evaluated silently."""
    binary = ((X == 0.0) | (X == 1.0)).all(axis=1)
    if not binary.any():
        return
    i = int(np.flatnonzero(binary)[0])
    counts = np.add.reduceat(X[i], space.offsets)
    g = int(np.flatnonzero(counts != 1)[0])
    warnings.warn(f"row {i} is a 0/1 vector but not one-hot: group {space.groups[g].name!r} has "
                  f"{int(counts[g])} options set; it is evaluated as a polynomial, not as an "
                  "architecture (pass architectures, keys or choices= for those)",
                  NotOneHotWarning, stacklevel=3)


def _coefficients(linear, n: int, name: str, space: SearchSpace) -> np.ndarray:
    """``linear`` as a float vector of ``n`` (InputError for a mapping, another shape or
    non-numbers)."""
    if isinstance(linear, Mapping):
        raise InputError(f"QuadraticForm {name!r}: linear must be an array of {n} numbers, got "
                         "a dict; for variables by name use QuadraticForm.from_dict({'linear': "
                         "{'group=option': coef}}, space)")
    try:
        lin = np.array(linear, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"QuadraticForm {name!r}: linear must be an array of {n} numbers "
                         f"({exc})") from None
    if lin.ndim != 1 or lin.shape[0] != n:
        got = f"length {lin.shape[0]}" if lin.ndim == 1 else f"shape {lin.shape}"
        raise InputError(f"QuadraticForm {name!r}: linear has {got}, space {space.name!r} has "
                         f"{n} variables (give a vector of {n})")
    return lin


def _check_finite(arr: np.ndarray, what: str, space: SearchSpace) -> None:
    bad = np.flatnonzero(~np.isfinite(arr))
    if len(bad):
        raise InputError(f"{what}[{space.var_names()[bad[0]]}] is {arr[bad[0]]}; "
                         "coefficients must be finite")


def _number(v, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InputError(f"QuadraticForm JSON: {where} must be a number, got {v!r}")
    v = float(v)
    if not np.isfinite(v):
        raise InputError(f"QuadraticForm JSON: {where} is {v}; coefficients must be finite")
    return v


def _var(space: SearchSpace, v, where: str) -> int:
    if isinstance(v, str):
        return space.var_index_by_name(v)
    if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < space.n_vars:
        return v
    raise InputError(f"QuadraticForm JSON: {where} names variable {v!r}; use 'group=option' or "
                     f"an index 0..{space.n_vars - 1}")


def _named_space(name, what: str) -> SearchSpace:
    """The built-in space a form file names; a space from a file must be given."""
    from iqnas import spaces

    if not isinstance(name, str) or name not in spaces.names():
        raise InputError(f"{what} is over space {name!r}, which is not built in; give its space "
                         "file (--space FILE, or QuadraticForm.load(path, space))")
    return spaces.get(name)


def check_space_hash(recorded, space: SearchSpace, what: str) -> None:
    """A form file's recorded content hash (None: an older file without one) matches
    ``space``: the same name alone is not enough when the groups or options differ."""
    if recorded is None:
        return
    if not isinstance(recorded, str):
        raise InputError(f"{what}: field 'space_hash' must be a string like 'sha256:...'")
    if recorded != space.content_hash():
        raise InputError(f"{what} was saved for another space named {space.name!r} (content "
                         f"hash {recorded[:19]}..., the given space has "
                         f"{space.content_hash()[:19]}...): its groups, options or conditions "
                         "differ; load it with the space file it was fitted on")


def as_form(obj, space: SearchSpace, what: str) -> QuadraticForm:
    """Accept a QuadraticForm (or a path to one) for ``space``."""
    if isinstance(obj, (str, Path)):
        obj = QuadraticForm.load(obj, space)
    if not isinstance(obj, QuadraticForm):
        raise InputError(f"{what} must be a QuadraticForm, got {type(obj).__name__}")
    if not same_space(obj.space, space):
        raise InputError(f"{what} is over space {obj.space.name!r}, the problem is over "
                         f"{space.name!r}" + _same_name_note(obj.space, space))
    return obj


def same_space(a: SearchSpace, b: SearchSpace) -> bool:
    """The same object, or the same name and content hash (the same one-hot layout)."""
    return a is b or (a.name == b.name and a.content_hash() == b.content_hash())


def _same_name_note(a: SearchSpace, b: SearchSpace) -> str:
    return (" (two spaces of that name with different groups or options)" if a.name == b.name
            else "")


__all__ = ["QuadraticForm", "Architecture", "as_form"]
