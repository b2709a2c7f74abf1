"""The compiled form is exact: lifted one-hot vectors satisfy every row iff the arch is feasible."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas
from iqnas.formulations import compiled_form


def _problem(seed=0):
    space = iqnas.spaces.get("nb201")
    rng = np.random.default_rng(seed)
    f = iqnas.QuadraticForm(space, 1.0, rng.normal(size=30), rng.normal(size=(30, 30)))
    g = iqnas.QuadraticForm(space, 0.5, np.abs(rng.normal(size=30)),
                            np.abs(rng.normal(size=(30, 30))) * (rng.random((30, 30)) < 0.2))
    C = space.enumerate_choices()
    return iqnas.Problem(space, f, {"lat": (g, float(np.quantile(g.evaluate(choices=C), 0.4)))})


@pytest.mark.parametrize("mode", ["linearize", "native"])
def test_rows_hold_exactly_on_feasible_architectures(mode):
    p = _problem()
    cp = compiled_form(p, mode)
    space = p.space
    C = space.enumerate_choices()
    g = p.constraint("lat").form
    feasible = g.evaluate(choices=C) <= p.constraint("lat").budget
    for row, ok in list(zip(C, feasible))[::157]:
        x = space.choices_to_onehot(row[None, :])[0]
        v = cp.lift(x)
        act = cp.row_activity(v)
        holds = np.all((act >= cp.row_lb - 1e-9) & (act <= cp.row_ub + 1e-9))
        assert holds == ok
        assert cp.objective_value(v) == pytest.approx(p.objective(x))


def test_linearised_sizes():
    p = _problem()
    cp = compiled_form(p, "linearize")
    pairs = set().union(*(f.group_pairs() for f in p.forms))
    assert cp.n_y == 25 * len(pairs)           # one y per option pair of each used group pair
    assert sum(n.startswith("agg[") for n in cp.row_names) == 10 * len(pairs)
    assert cp.n_x == 30 and compiled_form(p, "native").n_y == 0
    assert compiled_form(p, "linearize") is cp          # compiled once


def test_mobilenet_inactive_rows():
    space = iqnas.spaces.get("mobilenet")
    p = iqnas.Problem(space, iqnas.QuadraticForm(space, 0, np.ones(255)))
    cp = compiled_form(p)
    assert sum(n.startswith("inactive[") for n in cp.row_names) == 10
    assert sum(n.startswith("onehot[") for n in cp.row_names) == 25
    res = iqnas.solve(p)
    assert res.feasible and res.objective == 25
