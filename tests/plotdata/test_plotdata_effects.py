"""Coefficient figure data from explain tables, against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas
from iqnas.errors import InputError
from iqnas.plotdata import depth_data, interaction_data, main_effects_data, width_data
from iqnas.plotdata.effects import error_bars


@pytest.fixture(scope="module")
def nb201_pair_form():
    """Linear terms plus one product e01=skip x e12=conv3 worth 2.0."""
    space = iqnas.spaces.get("nb201")
    lin = np.arange(space.n_vars, dtype=float) / 10
    pw = np.zeros((space.n_vars, space.n_vars))
    pw[space.var_index("e01", "skip_connect"), space.var_index("e12", "nor_conv_3x3")] = 2.0
    return iqnas.QuadraticForm(space, 1.0, lin, pw, name="acc", units="%")


def test_main_effects_leave_out_the_references(nb201_pair_form):
    df = iqnas.explain(nb201_pair_form, tables=["main"])
    data = main_effects_data(df)
    assert len(data.values) == 6 * 4 and "e01=none" not in data.labels
    assert data.ylabel == "main effect on acc vs none (%)"
    assert not data.has_intervals and data.level is None
    # e02's options are independent of the product: effect = linear coefficient difference
    i = data.labels.index("e02=nor_conv_3x3")
    space = nb201_pair_form.space
    lin = nb201_pair_form.linear
    assert data.values[i] == pytest.approx(lin[space.var_index("e02", "nor_conv_3x3")]
                                           - lin[space.var_index("e02", "none")])


def test_interaction_matrix_is_the_rms_of_the_centred_block(nb201_pair_form):
    df = iqnas.explain(nb201_pair_form, tables=["main", "interactions"])
    data = interaction_data(df)
    assert data.rows == ["e01", "e02", "e12", "e03", "e13", "e23"]  # the space's order
    blk = np.zeros((5, 5))
    blk[2, 3] = 2.0  # skip_connect is option 2 of e01, nor_conv_3x3 option 3 of e12
    pure = blk - blk.mean(1, keepdims=True) - blk.mean(0, keepdims=True) + blk.mean()
    rms = np.sqrt((pure ** 2).mean())
    assert data.values[0, 2] == pytest.approx(rms) == data.values[2, 0]
    off = np.ones_like(data.values, bool)
    off[[0, 2], [2, 0]] = False
    np.fill_diagonal(off, False)
    assert np.all(data.values[off] == 0) and np.isnan(np.diag(data.values)).all()
    assert data.colorbar == "RMS interaction (%)"
    with pytest.raises(InputError, match="no 'interactions' rows"):
        interaction_data(iqnas.explain(nb201_pair_form.copy(pairwise=None), tables=["main"]))


def test_depth_and_width_bars():
    space = iqnas.spaces.get("mobilenet")
    lin = np.zeros(space.n_vars)
    for s in range(1, 6):
        lin[space.var_index(f"s{s}.depth", "3")] = 3 * s
        lin[space.var_index(f"s{s}.depth", "4")] = 7 * s
    form = iqnas.QuadraticForm(space, 0.0, lin, name="acc", units="%")
    df = iqnas.explain(form, tables=["depth", "width"])
    depth = depth_data(df)
    assert depth.categories == [f"stage {s}" for s in range(1, 6)]
    assert depth.series == ["adding block 3", "adding block 4"]
    np.testing.assert_allclose(depth.values, [[3 * s for s in range(1, 6)],
                                              [4 * s for s in range(1, 6)]])
    assert depth.ylabel.endswith("(%)") and depth.n_points == 10
    width = width_data(df)
    assert width.series == [f"block {b}" for b in range(1, 5)]
    np.testing.assert_allclose(width.values, 0.0, atol=1e-12)  # no expansion terms


def test_error_bars_reach_the_interval_and_the_point():
    below, above = error_bars([1.0, 5.0, 2.0], [0.5, 1.0, np.nan], [2.0, 4.0, np.nan])
    np.testing.assert_allclose(below, [0.5, 4.0, 0.0])
    np.testing.assert_allclose(above, [1.0, 0.0, 0.0])  # 5 lies above [1, 4]: the bar is 1..5
