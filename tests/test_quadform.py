"""QuadraticForm: canonical storage, evaluation against brute force, algebra and persistence."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import iqnas
from iqnas.errors import InputError


@pytest.fixture(scope="module")
def space():
    return iqnas.spaces.get("nb201")


def _brute(intercept, lin, M, X):
    return np.array([intercept + lin @ x + x @ M @ x for x in X])


def test_symmetric_and_upper_inputs_evaluate_as_x_M_x(space):
    rng = np.random.default_rng(0)
    M = rng.normal(size=(30, 30))
    S = (M + M.T) / 2
    lin = rng.normal(size=30)
    X = space.choices_to_onehot(space.sample_choices(1, 300))
    f_full = iqnas.QuadraticForm(space, 1.5, lin, M)
    f_sym = iqnas.QuadraticForm(space, 1.5, lin, S)
    f_up = iqnas.QuadraticForm(space, 1.5, lin, sp.csr_matrix(np.triu(S) + np.tril(S, -1).T))
    ref = _brute(1.5, lin, M, X)
    for f in (f_full, f_sym, f_up):
        assert np.allclose(f.evaluate(X), ref)
        assert np.allclose(f.evaluate_choices(space.onehot_to_choices(X)), ref)
    assert np.isclose(f_full(space.decode(X[0])), ref[0])
    assert np.isclose(f_full(space.decode(X[0]).key), ref[0])


def test_canonical_storage_folds_diagonal_and_drops_same_group_pairs(space):
    M = np.zeros((30, 30))
    M[3, 3] = 2.0          # diagonal -> linear
    M[0, 1] = 5.0          # same group (e01) -> always zero on one-hot vectors
    M[7, 2] = 1.0          # lower triangle, cross-group -> stored at (2, 7)
    f = iqnas.QuadraticForm(space, 0.0, None, M)
    assert f.linear[3] == 2.0
    coo = f.pairwise.tocoo()
    assert list(zip(coo.row, coo.col, coo.data)) == [(2, 7, 1.0)]
    assert f.group_pairs() == {(0, 1)}


def test_algebra(space):
    rng = np.random.default_rng(1)
    f = iqnas.QuadraticForm(space, 1.0, rng.normal(size=30), rng.normal(size=(30, 30)))
    g = iqnas.QuadraticForm(space, -2.0, rng.normal(size=30), rng.normal(size=(30, 30)))
    X = space.choices_to_onehot(space.sample_choices(2, 100))
    fv, gv = f.evaluate(X), g.evaluate(X)
    assert np.allclose((f + g).evaluate(X), fv + gv)
    assert np.allclose((2 * f - g).evaluate(X), 2 * fv - gv)
    assert np.allclose((f + 3).evaluate(X), fv + 3)
    assert np.allclose((-f).evaluate(X), -fv)
    assert np.allclose((1 - f).evaluate(X), 1 - fv)


def test_json_and_npz_round_trip(space, tmp_path):
    rng = np.random.default_rng(2)
    f = iqnas.QuadraticForm(space, 0.25, rng.normal(size=30), rng.normal(size=(30, 30)),
                            name="lat", units="ms")
    X = space.choices_to_onehot(space.sample_choices(3, 50))
    for suffix in (".json", ".npz"):
        path = f.save(tmp_path / f"f{suffix}")
        g = iqnas.QuadraticForm.load(path)
        assert g.units == "ms" and g.name == "lat"
        assert np.allclose(g.evaluate(X), f.evaluate(X), atol=1e-12)
    h = iqnas.QuadraticForm.from_json(f.to_json())
    assert np.array_equal(h.linear, f.linear)


def test_json_accepts_named_coefficients(space):
    f = iqnas.QuadraticForm.from_json(
        '{"space": "nb201", "intercept": 1, "linear": {"e01=nor_conv_3x3": 2.5},'
        ' "pairwise": [["e01=nor_conv_3x3", "e23=avg_pool_3x3", -1]]}')
    key = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|avg_pool_3x3~2|"
    assert f(key) == pytest.approx(1 + 2.5 - 1)


@pytest.mark.parametrize("kwargs, match", [
    (dict(linear=np.ones(29)), "length 29"),
    (dict(linear=np.r_[np.nan, np.ones(29)]), "finite"),
    (dict(pairwise=np.ones((30, 29))), "shape"),
    (dict(pairwise=np.diag(np.r_[np.inf, np.ones(29)])), "finite"),
    (dict(intercept=float("nan")), "intercept"),
])
def test_bad_coefficients(space, kwargs, match):
    with pytest.raises(InputError, match=match):
        iqnas.QuadraticForm(space, **kwargs)


def test_bad_files(space, tmp_path):
    (tmp_path / "a.json").write_text('{"linear": [1, 2, "x"]}')
    with pytest.raises(InputError):
        iqnas.QuadraticForm.load(tmp_path / "a.json", space)
    (tmp_path / "b.json").write_text('{"linear": [], "extra": 1}')
    with pytest.raises(InputError, match="unknown field"):
        iqnas.QuadraticForm.load(tmp_path / "b.json", space)
    np.savez(tmp_path / "c.npz", data=np.array([object()], dtype=object))
    with pytest.raises(InputError):
        iqnas.QuadraticForm.load(tmp_path / "c.npz", space)
    with pytest.raises(InputError, match="not found"):
        iqnas.QuadraticForm.load(tmp_path / "missing.json", space)
    with pytest.raises(InputError, match=".csv"):
        iqnas.QuadraticForm(space).save(tmp_path / "x.csv")


def test_terms_name_groups_and_options(space):
    M = np.zeros((30, 30))
    M[space.var_index("e01", "nor_conv_3x3"), space.var_index("e23", "none")] = 0.5
    f = iqnas.QuadraticForm(space, 1.0, None, M)
    rows = f.terms()
    assert rows[0]["kind"] == "intercept"
    pw = [r for r in rows if r["kind"] == "pairwise"]
    assert pw == [dict(kind="pairwise", group="e01", option="nor_conv_3x3", group2="e23",
                       option2="none", coef=0.5)]
