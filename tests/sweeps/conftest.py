"""Shared sweep fixtures: the NB201 table oracle and models fitted on its data."""

from __future__ import annotations

import itertools

import pytest

import iqnas
from iqnas.calibration import LinearResourceModel, QuadraticRegressor


@pytest.fixture(scope="session")
def nb201_oracle():
    return iqnas.oracles.nb201("cifar100")


@pytest.fixture(scope="session")
def nb201_data(nb201_oracle):
    """(space, one-hot rows of every cell, table) of NB201 / cifar100."""
    space = nb201_oracle.space
    return space, space.choices_to_onehot(nb201_oracle.choices), nb201_oracle.table()


@pytest.fixture(scope="session")
def fpga_form(nb201_data):
    space, X, table = nb201_data
    return LinearResourceModel(space, name="help_lat_fpga", units="ms").fit(
        X, table["help_lat_fpga"].to_numpy()).form_


@pytest.fixture(scope="session")
def params_form(nb201_data):
    space, X, table = nb201_data
    return LinearResourceModel(space, name="params_M_c100", units="M").fit(
        X, table["params_M_c100"].to_numpy()).form_


@pytest.fixture(scope="session")
def linear_accuracy(nb201_data):
    """Main effects only: SCIP solves these in milliseconds (for the mechanics tests)."""
    space, X, table = nb201_data
    return QuadraticRegressor(space, terms="linear", alpha=1.0, name="acc", units="%").fit(
        X, table["test_acc_c100"].to_numpy()).form_


@pytest.fixture(scope="session")
def interaction_accuracy(nb201_data):
    """Main effects plus the interactions of every two edges that meet at a node (12 of the 15
    pairs; alpha fixed, no cross-validation). The full pairwise model is what
    benchmarks/sweep_bench.py sweeps; SCIP solves this one several times faster."""
    space, X, table = nb201_data
    edges = [g.name for g in space.groups]  # "eij": from node i to node j
    pairs = [(a, b) for a, b in itertools.combinations(edges, 2) if set(a[1:]) & set(b[1:])]
    return QuadraticRegressor(space, terms=pairs, alpha=1.0, name="acc", units="%").fit(
        X, table["test_acc_c100"].to_numpy()).form_
