"""The proof-only settings of large models with several budgets: when they apply, and that they
never change the optimum."""

from __future__ import annotations

import pytest
from pyscipopt import Model

import iqnas
from iqnas.solvers import Exhaustive, Scip
from iqnas.solvers import scip as scip_mod
from iqnas.testing.instances import make


def _params(large: bool, has_start: bool, n_budgets: int, heuristics: str = "auto") -> dict:
    m = Model()
    m.hideOutput()
    cfg = {"separating": "auto", "heuristics": heuristics, "presolving": "default"}
    scip_mod._set_params(m, cfg, large, False, has_start, n_budgets)
    return {k: m.getParam(k) for k in ("branching/pscost/priority", "heuristics/rens/freq",
                                       "heuristics/farkasdiving/freq")}


def test_pscost_and_no_heuristics_only_on_large_started_multi_budget_models():
    default = _params(False, False, 0)
    assert default["branching/pscost/priority"] < 100000 and default["heuristics/rens/freq"] >= 0
    on = _params(True, True, 2)
    assert on == {"branching/pscost/priority": 100000, "heuristics/rens/freq": -1,
                  "heuristics/farkasdiving/freq": -1}
    for args in ((True, True, 1), (True, False, 3), (False, True, 3)):
        assert _params(*args) == default
    # an explicit heuristics setting is kept; the branching rule still changes
    kept = _params(True, True, 2, heuristics="default")
    assert kept["heuristics/rens/freq"] == default["heuristics/rens/freq"]
    assert kept["branching/pscost/priority"] == 100000


@pytest.mark.parametrize("seed", range(4))
def test_proof_only_settings_keep_the_enumerated_optimum(seed, monkeypatch):
    # every model counts as large, so the settings apply to these enumerable two-budget problems
    monkeypatch.setattr(scip_mod, "LOCAL_SEARCH_MIN_PRODUCTS", 0)
    calls = []
    real = scip_mod._set_params

    def spy(m, cfg, large, small_dense, has_start, n_budgets):
        calls.append(large and has_start and n_budgets >= 2)
        real(m, cfg, large, small_dense, has_start, n_budgets)

    monkeypatch.setattr(scip_mod, "_set_params", spy)
    for name in ("nb201-dense", "nb201-fitted"):
        p = make(name, seed, 2)
        truth = iqnas.solve(p, Exhaustive())
        got = iqnas.solve(p, Scip(reuse_model=False))
        assert got.status is iqnas.Status.OPTIMAL
        assert got.objective == pytest.approx(truth.objective, abs=1e-6)
    assert calls and all(calls)
