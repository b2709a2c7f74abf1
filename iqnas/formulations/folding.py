"""Fold products with a controller group into linear terms (exact on canonical architectures).

A conditional group ``g`` (active only for controller options ``M``) takes its option 0 when
inactive, and every formulation enforces that. So for a product ``x[g=o] * x[c=k]``:

* ``k`` not in ``M``: the product is 0 for ``o > 0`` and ``x[c=k]`` for ``o = 0``;
* ``k`` in ``M``: ``sum_{k in M} x[g=o] x[c=k] = x[g=o] - [o = 0] * sum_{k not in M} x[c=k]``,
  so the part of the coefficients shared by all ``k`` in ``M`` is linear; only differences
  between active controller options stay products.

The BINAS form (``a[b,o] x[b=o] x[depth=d]`` for every depth at which the block is active) folds
to a purely linear function this way.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from iqnas.quadform import QuadraticForm


def fold_controllers(form: QuadraticForm) -> QuadraticForm:
    """An equivalent form (on every valid architecture) without foldable controller products."""
    space = form.space
    if not space.conditions or form.pairwise.nnz == 0:
        return form
    coo = form.pairwise.tocoo()
    gi, gj = space.group_of_var[coo.row], space.group_of_var[coo.col]
    keep = np.ones(coo.nnz, dtype=bool)
    lin = form.linear.copy()
    extra_r, extra_c, extra_v = [], [], []
    for g, (c, mask) in space.conditions.items():
        sel = ((gi == g) & (gj == c)) | ((gi == c) & (gj == g))
        if not sel.any():
            continue
        keep &= ~sel
        og, oc = space.offsets[g], space.offsets[c]
        block = np.zeros((space.sizes[g], space.sizes[c]))
        r, cc = coo.row[sel], coo.col[sel]
        is_g_row = space.group_of_var[r] == g
        gv = np.where(is_g_row, r, cc) - og
        cv = np.where(is_g_row, cc, r) - oc
        np.add.at(block, (gv, cv), coo.data[sel])
        active = np.flatnonzero(mask)
        inactive = np.flatnonzero(~mask)
        # inactive controller options: only option 0 of g can be on, and then always is
        lin[oc + inactive] += block[0, inactive]
        if len(active):
            base = block[:, active[0]].copy()
            lin[og:og + space.sizes[g]] += base
            lin[oc + inactive] -= base[0]
            resid = block[:, active] - base[:, None]
            ro, rk = np.nonzero(resid)
            extra_r.append(og + ro)
            extra_c.append(oc + active[rk])
            extra_v.append(resid[ro, rk])
    if keep.all():
        return form
    rows = np.concatenate([coo.row[keep]] + extra_r)
    cols = np.concatenate([coo.col[keep]] + extra_c)
    vals = np.concatenate([coo.data[keep]] + extra_v)
    n = space.n_vars
    pw = sp.coo_matrix((vals, (rows, cols)), shape=(n, n))
    return QuadraticForm(space, form.intercept, lin, pw, name=form.name, units=form.units)
