"""Voronoi rows: exactly the nearest-centroid cells (ties to the lowest index), on every NB201
cell, with every architecture at least u/2 away from every bound."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from scipy.optimize import linprog

from iqnas.errors import InputError
from iqnas.reduction import cells
from iqnas.reduction.features import op_usage_features

KS = (4, 6, 8, 10)


@pytest.mark.parametrize("k", KS)
def test_rows_agree_with_nearest_centroid_on_every_cell(nb201, k):
    cl = nb201.reduce(k)
    near = cl.assign(nb201.X)
    inside = np.stack([cells.in_cell(cl.features, cl.centroids, c, nb201.X) for c in range(cl.k)],
                      axis=1)
    assert np.array_equal(inside.sum(axis=1), np.ones(len(nb201.X)))  # a partition
    assert np.array_equal(inside.argmax(axis=1), near)
    assert np.array_equal(cl.mask(nb201.X), near == cl.index)
    assert np.array_equal(cl.mask(nb201.choices), near == cl.index)
    # every architecture is at least u/2 away from every bound of its own cell
    _, coef, ub = cells.cell_rows(cl.features, cl.centroids, cl.index)
    slack = ub[None, :] - nb201.X @ coef.T
    half = cells.resolution(cl.features) / 2
    assert np.all(np.abs(slack) >= half)
    # the independent reference: exact rational distances
    sample = np.random.default_rng(0).choice(len(nb201.X), 300, replace=False)
    Z = cl.features.scaled(nb201.X[sample])
    for z, got in zip(Z, near[sample]):
        d = [sum((Fraction(a) - Fraction(b)) ** 2 for a, b in zip(z, c)) for c in cl.centroids]
        assert got == min(range(cl.k), key=lambda j: (d[j], j))


@pytest.mark.parametrize("k", KS)
def test_hull_rows_keep_the_members_and_tighten(nb201, k):
    cl = nb201.reduce(k)
    rows = cl.linear_constraints
    assert len(rows) > len(cl.voronoi_constraints) == cl.k - 1
    coef = np.stack([r.coef for r in rows])
    ub = np.array([r.ub for r in rows])
    holds = np.all(nb201.X @ coef.T <= ub[None, :], axis=1)
    assert np.array_equal(holds, cl.mask(nb201.X))      # the same members, exactly
    hull = coef[cl.k - 1:] @ nb201.X[holds].T
    assert np.all(hull.max(axis=1) == ub[cl.k - 1:])    # every hull row touches a member
    # tighter: some hull row cuts off a fractional point of the Voronoi rows' LP relaxation
    space = nb201.space
    groups = np.zeros((space.n_groups, space.n_vars))
    groups[space.group_of_var, np.arange(space.n_vars)] = 1.0
    worst = max(-linprog(-h, A_ub=coef[:cl.k - 1], b_ub=ub[:cl.k - 1], A_eq=groups,
                         b_eq=np.ones(space.n_groups), bounds=(0, 1)).fun - b
                for h, b in zip(coef[cl.k - 1:], ub[cl.k - 1:]))
    assert worst > 1e-6


def test_contains_matches_linear_constraints(nb201):
    cl = nb201.reduce(6)
    for a in nb201.space.sample(3, 200):
        holds = all(lc.holds(a.x) for lc in cl.linear_constraints)
        assert cl.contains(a) == holds == (cl.assign([a])[0] == cl.index)
    assert len(cl.voronoi_constraints) == cl.k - 1


def test_ties_go_to_the_lowest_index(nb201):
    f = op_usage_features(nb201.space)
    # two centroids mirrored about the plane count(none) == count(skip): cells tied there
    c = np.array([[2.0, 1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 1.0, 1.0, 1.0]])
    tied = nb201.X[(nb201.choices == 0).sum(1) == (nb201.choices == 1).sum(1)]
    assert len(tied) > 100
    assert np.all(cells.nearest(f, c, tied) == 0)
    assert np.all(cells.in_cell(f, c, 0, tied)) and not np.any(cells.in_cell(f, c, 1, tied))
    # and the mirror image: with the centroids swapped, index 0 still wins the tie
    assert np.all(cells.in_cell(f, c[::-1], 0, tied))


def test_off_grid_centroids_are_refused(nb201):
    f = op_usage_features(nb201.space)
    with pytest.raises(InputError, match="multiples"):
        cells.check_exact(f, np.array([[0.1, 0, 0, 0, 0], [1, 1, 1, 1, 1.0]]))
    with pytest.raises(InputError, match="shape"):
        cells.check_exact(f, np.zeros((2, 3)))
