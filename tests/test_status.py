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


def _installed_getstatus_strings() -> set[str]:
    """The strings the installed PySCIPOpt's ``Model.getStatus`` returns, read from its source."""
    import re
    from pathlib import Path

    import pyscipopt

    src = Path(pyscipopt.__file__).with_name("scip.pxi")
    if not src.exists():
        pytest.skip("this PySCIPOpt build ships no scip.pxi")
    text = src.read_text()
    call = text.index("SCIPgetStatus(self._scip)")   # Model.getStatus, not Variable.getStatus
    start = text.rindex("def getStatus(self)", 0, call)
    end = text.index("\n    def ", call)
    return set(re.findall(r'return\s+"(\w+)"', text[start:end]))


def test_every_status_string_of_the_installed_pyscipopt_is_mapped():
    strings = _installed_getstatus_strings()
    assert {"optimal", "timelimit", "infeasible", "unknown"} <= strings
    assert strings <= set(SCIP_STATUS), strings - set(SCIP_STATUS)


@pytest.mark.parametrize("raw", sorted(SCIP_STATUS))
@pytest.mark.parametrize("has_solution", [True, False])
@pytest.mark.parametrize("gap", [None, 0.0, 0.3])
def test_mapping_is_consistent(raw, has_solution, gap):
    """An answer is reported exactly when there is one; OPTIMAL only with a closed gap."""
    status = from_scip(raw, has_solution, gap)
    if not has_solution:
        assert not status.has_solution
    if status is Status.OPTIMAL and raw != "optimal":
        assert gap is not None and gap <= 1e-9
    if has_solution and raw in ("timelimit", "nodelimit", "userinterrupt", "gaplimit"):
        assert status.has_solution
