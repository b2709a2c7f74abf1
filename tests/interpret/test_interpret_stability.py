"""``iqnas.interpret.stability``: rank agreement of explain tables across seeds."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas
from iqnas.calibration import QuadraticRegressor
from iqnas.errors import InputError
from iqnas.interpret import stability


@pytest.fixture(scope="module")
def form():
    space = iqnas.spaces.get("nb201")
    rng = np.random.default_rng(0)
    return iqnas.QuadraticForm(space, 50.0, rng.normal(size=30), rng.normal(size=(30, 30)),
                               name="acc")


def test_identical_and_reversed_tables(form):
    a = iqnas.explain(form, tables=["main", "interactions"])
    s = stability([a, a, a])
    assert list(s["table"]) == ["main", "interactions"]
    assert (s["n_pairs"] == 3).all()
    np.testing.assert_allclose(s[["spearman_min", "kendall_mean", "sign_agreement"]], 1.0)
    assert s.loc[0, "n_rows"] == 6 * 4  # main rows without the references
    b = iqnas.explain(-form, tables=["main", "interactions"])
    s = stability([a, b])
    np.testing.assert_allclose(s["spearman_mean"], -1.0)
    assert (s["sign_agreement"] == 0.0).all()


def test_refits_on_other_samples(form):
    space = form.space
    oracle = iqnas.oracles.nb201("cifar100")
    tables = []
    for seed in range(3):
        C = space.sample_choices(seed, 300)
        y = oracle.values(C, "test_acc_c100")
        est = QuadraticRegressor(space, terms="linear", alpha=1.0).fit(C, y)
        tables.append(iqnas.explain(est.form_, tables=["main"], metric="acc"))
    s = stability(tables).iloc[0]
    assert s["n_pairs"] == 3 and s["n_rows"] == 24
    assert 0.8 < s["spearman_min"] <= s["spearman_mean"] <= 1.0  # same table, other samples
    assert -1.0 <= s["kendall_min"] <= s["kendall_mean"] <= 1.0


def test_errors(form):
    a = iqnas.explain(form, tables=["main"])
    with pytest.raises(InputError, match="at least 2 seeds"):
        stability([a])
    with pytest.raises(InputError, match=r"tables\[1\] is not a table"):
        stability([a, a[["table", "value"]]])
