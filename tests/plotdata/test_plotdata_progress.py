"""Progress data: the run's best-so-far staircase and the exact random-search baseline (checked
against enumerating every draw of a small table)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from iqnas.plotdata.progress import (
    progress_data,
    random_search_curve,
    running_best,
    sample_grid,
    scenario_label,
)


def _enumerate(values, feasible, n, maximize=True):
    """Every draw of n rows: the best feasible value of each (None when none is feasible)."""
    out = []
    for draw in itertools.combinations(range(len(values)), n):
        ok = [values[i] for i in draw if feasible[i]]
        out.append((max(ok) if maximize else min(ok)) if ok else None)
    return out


@pytest.mark.parametrize("maximize", [True, False])
def test_random_search_curve_is_exact(maximize):
    rng = np.random.default_rng(3)
    values = rng.normal(size=9).round(3)
    feasible = np.array([1, 0, 1, 1, 0, 0, 1, 0, 1], dtype=bool)
    ns = list(range(1, 10))
    curve = random_search_curve(values, feasible, ns, quantiles=(0.25, 0.75), maximize=maximize)
    for i, n in enumerate(ns):
        bests = _enumerate(values, feasible, n, maximize)
        found = np.array([b for b in bests if b is not None])
        assert curve["p_none"][i] == pytest.approx(1 - len(found) / len(bests), abs=1e-12)
        assert curve["mean"][i] == pytest.approx(found.mean(), rel=1e-12)
        # the quantiles are the values where the empirical distribution of the best crosses
        lo, hi = curve["low"][i], curve["high"][i]
        worse = (found < lo) if maximize else (found > lo)
        assert worse.mean() <= 0.25 + 1e-12 and (found == lo).any()
        better = (found > hi) if maximize else (found < hi)
        assert better.mean() <= 0.25 + 1e-12 and (found == hi).any()
    # all 9 drawn: the best feasible value for sure
    best = values[feasible].max() if maximize else values[feasible].min()
    assert curve["mean"][-1] == curve["low"][-1] == curve["high"][-1] == best


def test_random_search_curve_without_feasible_rows_and_bad_sizes():
    curve = random_search_curve(np.arange(5.0), np.zeros(5, bool), [1, 5])
    assert np.isnan(curve["mean"]).all() and (curve["p_none"] == 1).all()
    with pytest.raises(ValueError, match="cannot draw 6 of 5"):
        random_search_curve(np.arange(5.0), np.ones(5, bool), [6])


def test_running_best_and_grid():
    v = np.array([3.0, 5.0, 4.0, 9.0, 1.0])
    ok = np.array([False, True, True, False, True])
    np.testing.assert_array_equal(running_best(v, ok), [np.nan, 5, 5, 5, 5])
    np.testing.assert_array_equal(running_best(v, ok, maximize=False), [np.nan, 5, 4, 4, 1])
    assert list(sample_grid(5)) == [1, 2, 3, 4, 5]
    g = sample_grid(10_000, 400)
    assert g[0] == 1 and g[-1] == 10_000 and len(g) <= 400
    assert scenario_label({"lat": 3.0}, {"lat": "ms"}) == "lat ≤ 3 ms"
    assert scenario_label({}, {}) == "no budget"


def test_progress_data_of_samples_and_a_table():
    samples = pd.DataFrame({"key": list("abcde"), "acc": [3.0, 5.0, 4.0, 9.0, 6.0],
                            "lat": [1.0, 2.0, 1.0, 5.0, 2.5], "round": [0, 0, 1, 1, 2]})
    table = pd.DataFrame({"acc": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, np.nan],
                          "lat": [1.0, 1.0, 4.0, 1.0, 2.0, 9.0, 1.0, 1.0]})
    data = progress_data(samples, "acc", [{"lat": 2.0}], {"acc": "%", "lat": "ms"}, table,
                         required=["acc", "lat"])
    run, rnd = data.series
    np.testing.assert_array_equal(run.y, [3, 5, 5, 5, 5])  # d (9) breaks the budget
    assert list(run.extra["improvements"]) == [0, 1]
    assert [k for k in run.keys if k] == ["a", "b"]
    assert data.rounds == (2, 4)
    assert data.ylabel == "best truly feasible acc (%)" and data.xlabel == "networks measured"
    # the baseline draws from the 7 rows with both values; feasible: acc 1, 2, 4, 5, 7
    assert list(rnd.x) == [1, 2, 3, 4, 5]
    expected = random_search_curve(np.array([1.0, 2, 3, 4, 5, 6, 7]),
                                   np.array([1, 1, 0, 1, 1, 0, 1], bool), [1, 2, 3, 4, 5])
    np.testing.assert_allclose(rnd.y, expected["mean"])
    assert data.n_points == 0  # lines only; the report adds the improvements as markers
    no_table = progress_data(samples, "acc", [{"lat": 2.0}], {}, None, no_table_reason="why")
    assert no_table.note == "why" and len(no_table.series) == 1
