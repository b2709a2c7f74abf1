"""The status mapping is total over SCIP's status strings."""

from __future__ import annotations

import pytest

from iqnas.status import SCIP_STATUS, Status, from_scip

# every string pyscipopt's Model.getStatus() returns (src/pyscipopt/scip.pxi)
SCIP_STRINGS = ["optimal", "timelimit", "infeasible", "unbounded", "userinterrupt", "inforunbd",
                "nodelimit", "totalnodelimit", "stallnodelimit", "gaplimit", "memlimit",
                "sollimit", "bestsollimit", "restartlimit", "primallimit", "duallimit",
                "terminate", "unknown"]


@pytest.mark.parametrize("raw", SCIP_STRINGS)
def test_every_scip_status_is_mapped(raw):
    assert raw in SCIP_STATUS
    with_sol, without = from_scip(raw, True, gap=0.5), from_scip(raw, False)
    assert isinstance(with_sol, Status) and isinstance(without, Status)
    assert not without.has_solution


@pytest.mark.parametrize("raw", ["timelimit", "nodelimit", "memlimit", "sollimit"])
def test_limit_with_incumbent_is_success(raw):
    assert from_scip(raw, True, gap=0.05) is Status.FEASIBLE
    assert from_scip(raw, True, gap=0.0) is Status.OPTIMAL
    assert from_scip(raw, False) is Status.NO_SOLUTION


def test_gaplimit_and_unknown_strings():
    assert from_scip("gaplimit", True, gap=0.01) is Status.OPTIMAL_WITHIN_GAP
    assert from_scip("something-new", True) is Status.UNKNOWN
    assert from_scip("something-new", False) is Status.UNKNOWN
    assert from_scip("userinterrupt", True, gap=0.2) is Status.FEASIBLE


def test_listing_backends_imports_no_solver_library():
    import subprocess
    import sys

    code = ("import sys, iqnas, iqnas.solvers as s; names = s.names(); "
            "[s.info(n).available() for n in names]; "
            "assert 'pyscipopt' not in sys.modules and 'cvxpy' not in sys.modules, sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
