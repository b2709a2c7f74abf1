"""QuadraticForm: the one math object of iqnas, a quadratic function of a space's one-hot vector.

``f(x) = intercept + linear @ x + x @ P @ x`` where ``P`` is stored strictly upper triangular
(``i < j``) with no pairs inside one group. Diagonal entries are folded into ``linear``
(``x_i**2 == x_i``) and pairs inside one group are dropped (they are always zero on one-hot
vectors), so two forms that agree on every architecture have the same canonical storage.
"""

from __future__ import annotations

import json
import numbers
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from iqnas.errors import InputError
from iqnas.space import Architecture, SearchSpace


class QuadraticForm:
    """A quadratic function of the one-hot vector of ``space``.

    ``pairwise`` may be dense or scipy.sparse, symmetric or upper triangular: the form's value is
    ``x @ pairwise @ x``, so a symmetric matrix counts each pair twice and an upper one once.
    """

    def __init__(self, space: SearchSpace, intercept: float = 0.0, linear=None, pairwise=None,
                 *, name: str = "", units: str = "") -> None:
        self.space = space
        self.name = name
        self.units = units
        n = space.n_vars
        self.intercept = float(intercept)
        if not np.isfinite(self.intercept):
            raise InputError(f"QuadraticForm {name!r}: intercept is {self.intercept}")
        lin = np.zeros(n) if linear is None else np.asarray(linear, dtype=float).ravel().copy()
        if lin.shape != (n,):
            raise InputError(f"QuadraticForm {name!r}: linear has length {lin.shape[0]}, space "
                             f"{space.name!r} has {n} variables")
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
        self.linear = lin
        self.pairwise = upper

    # ---- evaluation -----------------------------------------------------------------------
    def __call__(self, arch) -> float:
        if isinstance(arch, np.ndarray) and arch.ndim == 1 and arch.shape[0] == self.space.n_vars:
            x = arch.astype(float)
        else:
            x = self.space.encode(arch)
        return float(self.intercept + self.linear @ x + x @ (self.pairwise @ x))

    def evaluate(self, X) -> np.ndarray:
        """Values for a batch of one-hot rows (n, n_vars), or a list of architectures/keys."""
        if not isinstance(X, np.ndarray) or X.ndim != 2:
            X = np.stack([self.space.encode(a) for a in X]) if len(X) else np.zeros((0, 0))
        if X.shape[1] != self.space.n_vars:
            raise InputError(f"batch has {X.shape[1]} columns, space {self.space.name!r} has "
                             f"{self.space.n_vars} variables")
        return self.intercept + X @ self.linear + np.einsum("ij,ij->i", X, (self.pairwise @ X.T).T)

    def evaluate_choices(self, choices: np.ndarray, batch: int = 200_000) -> np.ndarray:
        """Values for an (n, n_groups) array of option indices, without building one-hot rows."""
        choices = np.asarray(choices, dtype=np.int64)
        idx = choices + self.space.offsets[None, :]
        out = np.empty(choices.shape[0])
        pairs = self._pair_blocks()
        for start in range(0, choices.shape[0], batch):
            sl = idx[start:start + batch]
            val = self.intercept + self.linear[sl].sum(axis=1)
            for (gi, gj), block in pairs.items():
                oi, oj = self.space.offsets[gi], self.space.offsets[gj]
                val += block[sl[:, gi] - oi, sl[:, gj] - oj]
            out[start:start + batch] = val
        return out

    def _pair_blocks(self) -> dict[tuple[int, int], np.ndarray]:
        """Dense coefficient block per pair of groups (gi < gj) with any nonzero product."""
        sp_ = self.space
        coo = self.pairwise.tocoo()
        out: dict[tuple[int, int], np.ndarray] = {}
        gi_all, gj_all = sp_.group_of_var[coo.row], sp_.group_of_var[coo.col]
        for i, j, gi, gj, v in zip(coo.row, coo.col, gi_all, gj_all, coo.data):
            a, b, ii, jj = (gi, gj, i, j) if gi < gj else (gj, gi, j, i)
            block = out.get((a, b))
            if block is None:
                block = out[(a, b)] = np.zeros((sp_.sizes[a], sp_.sizes[b]))
            block[ii - sp_.offsets[a], jj - sp_.offsets[b]] += v
        return out

    def group_pairs(self) -> set[tuple[int, int]]:
        """Pairs of group indices (gi < gj) that have at least one nonzero product."""
        coo = self.pairwise.tocoo()
        g = self.space.group_of_var
        a, b = g[coo.row], g[coo.col]
        return {(int(min(x, y)), int(max(x, y))) for x, y in zip(a, b)}

    @property
    def is_linear(self) -> bool:
        return self.pairwise.nnz == 0

    # ---- algebra --------------------------------------------------------------------------
    def _coerce(self, other) -> QuadraticForm:
        if isinstance(other, numbers.Real):
            return QuadraticForm(self.space, float(other))
        if isinstance(other, QuadraticForm):
            if other.space is not self.space and other.space.name != self.space.name:
                raise InputError(f"cannot combine forms over spaces {self.space.name!r} and "
                                 f"{other.space.name!r}")
            return other
        return NotImplemented

    def __add__(self, other) -> QuadraticForm:
        o = self._coerce(other)
        if o is NotImplemented:
            return o
        return QuadraticForm(self.space, self.intercept + o.intercept, self.linear + o.linear,
                             self.pairwise + o.pairwise, name=self.name, units=self.units)

    __radd__ = __add__

    def __mul__(self, k) -> QuadraticForm:
        if not isinstance(k, numbers.Real):
            return NotImplemented
        k = float(k)
        return QuadraticForm(self.space, k * self.intercept, k * self.linear, k * self.pairwise,
                             name=self.name, units=self.units)

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
        kw = dict(intercept=self.intercept, linear=self.linear, pairwise=self.pairwise,
                  name=self.name, units=self.units)
        kw.update(changes)
        return QuadraticForm(self.space, **kw)

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
            "format": "iqnas.QuadraticForm/1",
            "space": self.space.name,
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
        from iqnas import spaces

        if not isinstance(data, dict):
            raise InputError("a QuadraticForm JSON must be an object")
        if space is None:
            if "space" not in data:
                raise InputError("QuadraticForm JSON has no 'space' field; pass space=")
            space = spaces.get(data["space"])
        elif data.get("space", space.name) != space.name:
            raise InputError(f"QuadraticForm JSON is for space {data['space']!r}, "
                             f"not {space.name!r}")
        unknown = set(data) - {"format", "space", "name", "units", "variables", "intercept",
                               "linear", "pairwise"}
        if unknown:
            raise InputError(f"QuadraticForm JSON has unknown field(s) {sorted(unknown)}; "
                             "allowed: intercept, linear, pairwise, name, units, space")
        n = space.n_vars
        if "variables" in data and list(data["variables"]) != space.var_names():
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
        if path.suffix == ".npz":
            coo = self.pairwise.tocoo()
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, space=np.array(self.space.name),
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
        from iqnas import spaces

        path = Path(path)
        if not path.exists():
            raise InputError(f"file not found: {path}")
        if path.suffix == ".json":
            return cls.from_json(path.read_text(), space)
        if path.suffix != ".npz":
            raise InputError(f"unknown file type {path.suffix!r} for {path}; use .json or .npz")
        try:
            with np.load(path, allow_pickle=False) as z:
                name = str(z["space"])
                space = space or spaces.get(name)
                if name != space.name:
                    raise InputError(f"{path} is for space {name!r}, not {space.name!r}")
                n = space.n_vars
                rows, cols = z["rows"], z["cols"]
                if len(rows) and (rows.max() >= n or cols.max() >= n):
                    raise InputError(f"{path}: pairwise index out of range for {space.name!r}")
                mat = sp.coo_matrix((z["vals"], (rows, cols)), shape=(n, n))
                return cls(space, float(z["intercept"]), z["linear"], mat, name=str(z["name"]),
                           units=str(z["units"]))
        except (KeyError, ValueError, OSError) as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(f"{path} is not a QuadraticForm NPZ file: {exc}") from None

    def __repr__(self) -> str:
        nm = f" {self.name!r}" if self.name else ""
        return (f"QuadraticForm{nm}(space={self.space.name!r}, linear_nnz="
                f"{int(np.count_nonzero(self.linear))}, pairwise_nnz={self.pairwise.nnz})")


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


def as_form(obj, space: SearchSpace, what: str) -> QuadraticForm:
    """Accept a QuadraticForm (or a path to one) for ``space``."""
    if isinstance(obj, (str, Path)):
        obj = QuadraticForm.load(obj, space)
    if not isinstance(obj, QuadraticForm):
        raise InputError(f"{what} must be a QuadraticForm, got {type(obj).__name__}")
    if obj.space is not space and obj.space.name != space.name:
        raise InputError(f"{what} is over space {obj.space.name!r}, the problem is over "
                         f"{space.name!r}")
    return obj


__all__ = ["QuadraticForm", "Architecture", "as_form"]
