"""Shared fixtures of the reduction tests: the NB201 table and its reductions (cached)."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas
from iqnas.reduction import reduce

KS = (4, 6, 8, 10)


class NB201:
    def __init__(self) -> None:
        self.oracle = iqnas.oracles.nb201("cifar100")
        self.space = self.oracle.space
        table = self.oracle.table()
        self.choices = self.oracle.choices.astype(np.int64)
        self.X = self.space.choices_to_onehot(self.choices)
        self.acc = table["test_acc_c100"].to_numpy()
        self.params = table["params_M_c100"].to_numpy()
        self._cache: dict = {}

    def reduce(self, k, score="freerea", seed=0, **kw):
        key = (k, score, seed, repr(sorted(kw.items())))
        if key not in self._cache:
            self._cache[key] = reduce("nb201", k=k, score=score, seed=seed, **kw)
        return self._cache[key]


@pytest.fixture(scope="session")
def nb201() -> NB201:
    return NB201()
