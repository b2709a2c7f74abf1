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
        assert np.allclose(f.evaluate(choices=space.onehot_to_choices(X)), ref)
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


@pytest.mark.parametrize("data, match", [
    ({}, "none of the fields intercept, linear, pairwise"),
    ({"space": "nb201", "name": "acc"}, "none of the fields intercept, linear, pairwise"),
    ({"format": "iqnas.Cluster/1", "linear": []}, "format 'iqnas.Cluster/1'"),
])
def test_a_json_object_without_coefficients_is_refused(space, data, match):
    """``{}`` given with a space loaded as the zero form: `iqnas export --model lat=FILE` then
    recorded a prediction of 0 from an empty file."""
    with pytest.raises(iqnas.InputError, match=match):
        iqnas.QuadraticForm.from_dict(data, space)
    assert iqnas.QuadraticForm.from_dict({"intercept": 2.0}, space)(space.sample(0)) == 2.0
    with pytest.raises(iqnas.InputError, match="path must be a file path .str or Path., got int"):
        iqnas.QuadraticForm.load(3)  # was pathlib's TypeError


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


# ---- the evaluation kernel -------------------------------------------------------------------
def _random_form(space, seed, share=0.3):
    """Random intercept, linear terms and products between a random ``share`` of group pairs."""
    rng = np.random.default_rng(seed)
    n = space.n_vars
    M = rng.normal(size=(n, n)) * (rng.random((n, n)) < share)
    return iqnas.QuadraticForm(space, rng.normal(), rng.normal(size=n), M), M


@pytest.mark.parametrize("name", ["nb201", "mobilenet", "ofa"])
def test_evaluate_agrees_on_every_input_form_and_with_brute_force(name):
    space = iqnas.spaces.get(name)
    f, _ = _random_form(space, 3)
    rng = np.random.default_rng(4)
    C = space.sample_choices(rng, 2000)
    G = rng.integers(0, space.sizes[None, :], size=(300, space.n_groups))  # not canonical
    for rows in (C, G):
        X = space.choices_to_onehot(rows)
        P = f.pairwise.toarray()
        brute = f.intercept + X @ f.linear + np.einsum("ij,jk,ik->i", X, P, X)
        by_choices = f.evaluate(choices=rows)
        np.testing.assert_allclose(by_choices, brute, rtol=0, atol=1e-9)
        np.testing.assert_array_equal(f.evaluate(X), by_choices)  # one-hot rows: the same path
    archs = [space.arch(r.tolist()) for r in C[:40]]
    by_call = np.array([f(a) for a in archs])  # one row at a time: equal up to summation order
    np.testing.assert_allclose(by_call, f.evaluate(choices=C[:40]), rtol=0, atol=1e-12)
    assert [f(a.x) for a in archs] == by_call.tolist() == [f(a.key) for a in archs]
    np.testing.assert_array_equal(f.evaluate(archs), f.evaluate(choices=C[:40]))
    np.testing.assert_array_equal(f.evaluate([a.key for a in archs]), f.evaluate(choices=C[:40]))
    big = np.repeat(C, 3, axis=0)  # more rows than one gather chunk
    np.testing.assert_allclose(f.evaluate(choices=big), np.repeat(f.evaluate(choices=C), 3),
                               rtol=0, atol=1e-12)


def test_evaluate_of_real_rows_is_the_polynomial(space):
    f, M = _random_form(space, 5, share=1.0)
    Y = np.random.default_rng(6).random((50, space.n_vars))  # fractional: not architectures
    P = f.pairwise.toarray()
    np.testing.assert_allclose(f.evaluate(Y), f.intercept + Y @ f.linear
                               + np.einsum("ij,jk,ik->i", Y, P, Y), rtol=0, atol=1e-9)
    assert f(Y[0]) == pytest.approx(float(f.evaluate(Y[:1])[0]), abs=1e-12)


def test_evaluate_rejects_bad_input(space):
    f, _ = _random_form(space, 7)
    with pytest.raises(InputError, match="option 5 out of range for group 'e12'"):
        f.evaluate(choices=np.array([[0, 0, 5, 0, 0, 0]]))
    with pytest.raises(InputError, match="out of range"):
        f.evaluate(choices=np.array([[0, -1, 0, 0, 0, 0]]))
    with pytest.raises(InputError, match=r"\(n, 6\)"):
        f.evaluate(choices=np.zeros((3, 5), dtype=int))
    with pytest.raises(InputError, match="exactly one"):
        f.evaluate()
    with pytest.raises(InputError, match="30 variables"):
        f.evaluate(np.zeros((2, 29)))
    assert f.evaluate(choices=np.zeros((0, 6), dtype=int)).shape == (0,)


def test_pair_blocks_hold_every_product_once():
    space = iqnas.spaces.get("mobilenet")
    f, _ = _random_form(space, 8, share=0.05)
    P = f.pairwise.toarray()
    blocks = f.pair_blocks
    assert list(blocks) == sorted(blocks) and all(a < b for a, b in blocks)
    rebuilt = np.zeros_like(P)
    for (a, b), block in blocks.items():
        assert block.shape == (space.sizes[a], space.sizes[b]) and block.any()
        oa, ob = space.offsets[a], space.offsets[b]
        rebuilt[oa:oa + space.sizes[a], ob:ob + space.sizes[b]] = block
    np.testing.assert_array_equal(rebuilt, P)
    assert f.pair_blocks is blocks  # computed once
    assert set(blocks) == f.group_pairs()
    assert iqnas.QuadraticForm(space, 1.0).pair_blocks == {}


@pytest.mark.parametrize("family", ["nb201-dense", "binas", "dense-0.01"])
def test_gradient_is_linear_plus_symmetric_products(family):
    from iqnas.testing.instances import make

    p = make(family, 0)
    rng = np.random.default_rng(9)
    for f in p.forms:
        P = f.pairwise.toarray()
        X = rng.random((4, p.space.n_vars))
        hand = f.linear + X @ (P + P.T)  # d/dx (c + l.x + x.P.x)
        np.testing.assert_allclose(f.gradient(X), hand, rtol=0, atol=1e-10)
        np.testing.assert_allclose(f.gradient(X[0]), hand[0], rtol=0, atol=1e-10)
        value, g = f.value_and_gradient(X[2])
        assert value == pytest.approx(f(X[2]), abs=1e-9)
        np.testing.assert_allclose(g, hand[2], rtol=0, atol=1e-10)
        # central differences are exact for a quadratic (up to round-off)
        h, x = 1e-3, X[1]
        E = np.eye(p.space.n_vars)
        fd = (f.evaluate(x + h * E) - f.evaluate(x - h * E)) / (2 * h)
        np.testing.assert_allclose(f.gradient(x), fd, rtol=0, atol=1e-6)
        # at architectures: the gradient at their one-hot vectors (dense and sparse P + P^T)
        C = p.space.sample_choices(rng, 30)
        np.testing.assert_allclose(f.gradient(choices=C), f.gradient(p.space.choices_to_onehot(C)),
                                   rtol=0, atol=1e-10)
        # a one-group move changes the value by exactly the gradient difference
        c = C[0]
        g = f.gradient(choices=c[None, :])[0]
        for grp in range(p.space.n_groups):
            if grp in p.space.conditions or any(ctl == grp for ctl, _ in
                                                p.space.conditions.values()):
                continue
            moved = c.copy()
            moved[grp] = (c[grp] + 1) % p.space.sizes[grp]
            o = p.space.offsets[grp]
            assert f(p.space.arch(moved.tolist())) - f(p.space.arch(c.tolist())) == \
                pytest.approx(g[o + moved[grp]] - g[o + c[grp]], abs=1e-9)
    with pytest.raises(InputError, match="gradient"):
        p.objective.gradient(np.zeros(3))
    with pytest.raises(InputError, match="exactly one"):
        p.objective.gradient()


def test_forms_are_immutable(space):
    f, _ = _random_form(space, 10)
    for attr, value in (("linear", np.zeros(30)), ("intercept", 1.0), ("pairwise", None),
                        ("name", "x"), ("units", "ms"), ("space", space)):
        with pytest.raises(AttributeError):
            setattr(f, attr, value)
    with pytest.raises(AttributeError):
        f.extra = 1
    with pytest.raises(ValueError, match="read-only"):
        f.linear[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        f.pairwise.data[0] = 1.0
    block = next(iter(f.pair_blocks.values()))
    with pytest.raises(ValueError, match="read-only"):
        block[0, 0] = 1.0
    with pytest.raises(TypeError):
        f.pair_blocks[(0, 1)] = block
    C = space.sample_choices(11, 200)
    before = f.evaluate(choices=C)
    g = f.copy(name="renamed", units="ms")
    h = f.copy(intercept=f.intercept + 1.0)
    k = 2 * f + 1
    assert (g.name, g.units, f.name, f.units) == ("renamed", "ms", "", "")
    np.testing.assert_array_equal(g.evaluate(choices=C), before)
    np.testing.assert_allclose(h.evaluate(choices=C), before + 1.0, atol=1e-12)
    np.testing.assert_allclose(k.evaluate(choices=C), 2 * before + 1, atol=1e-9)
    np.testing.assert_array_equal(f.evaluate(choices=C), before)  # f itself is unchanged
    with pytest.raises(InputError, match="unknown field"):
        f.copy(sapce=space)


def test_pickled_forms_stay_read_only_and_equal(space):
    import pickle

    f, _ = _random_form(space, 12)
    C = space.sample_choices(13, 100)
    f.evaluate(choices=C)  # fill the caches first
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(g.evaluate(choices=C), f.evaluate(choices=C))
    with pytest.raises(ValueError, match="read-only"):
        g.linear[0] = 1.0
