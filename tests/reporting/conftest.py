"""A real calibration on the NB201 table (40 networks, 2 rounds, an FPGA latency budget), its
saved models, a sweep of those models measured by the table, and the report of them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from report_helpers import cli  # noqa: E402

BUDGET = 3.0
SWEEP_BUDGETS = "1.5:5:8"


@pytest.fixture(scope="session")
def nb201_run(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("report-run")
    store, models, sweep = d / "run.db", d / "models", d / "sweep.jsonl"
    code, _, err = cli("calibrate", "--space", "nb201", "--oracle", "nb201", "--objective",
                       "test_acc_c100", "--constraint", f"help_lat_fpga={BUDGET}", "--samples",
                       40, "--rounds", 2, "--seed", 0, "--store", store, "--save-models",
                       models, "-q")
    assert code == 0, err
    code, _, err = cli("sweep", "--space", "nb201", "--objective",
                       models / "test_acc_c100.json", "--constraint",
                       f"help_lat_fpga={models / 'help_lat_fpga.json'}", "--resource",
                       "help_lat_fpga", "--budgets", SWEEP_BUDGETS, "--oracle", "nb201",
                       "--true-metric", "test_acc_c100", "--out", sweep, "-q")
    assert code == 0, err
    report = d / "report.html"
    code, out, err = cli("report", "--store", store, "--models", models, "--sweep", sweep,
                         "--out", report, "--bootstrap", 20, "--title", "NB201 test run",
                         "--figures", d / "figures")
    assert code == 0, err
    assert f"wrote {report}" in out.replace("\n", "")
    return {"dir": d, "store": store, "models": models, "sweep": sweep, "report": report,
            "figures": d / "figures"}
