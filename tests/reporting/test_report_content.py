"""What the report says: an OFA run (no table oracle: no baseline; a macro space: depth and width
charts), the Python API with a run and a sweep object and custom labels, and the measured
summary (trained vs resource-only)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from browser import Tree, dump_dom, require

import iqnas
from iqnas.reporting.measured import measured_summary


def _figures(html: str) -> dict[str, int]:
    return {m.group(1): int(m.group(2)) for m in re.finditer(
        r'data-figure="([^"]+)"[^>]*data-points="(\d+)"', html)}


@pytest.fixture(scope="module")
def ofa_report(tmp_path_factory):
    d = tmp_path_factory.mktemp("ofa-report")
    run = iqnas.calibrate("ofa", iqnas.oracles.ofa(), "acc_ofa_pred", {"lat_note10_ms": 30.0},
                          60, selection="random", method="regression", terms="linear",
                          store=d / "run.db", progress=False)
    out = iqnas.report(run, out=d / "ofa.html", n_bootstrap=10)
    return run, out


def test_ofa_report_has_depth_and_width_and_says_why_there_is_no_baseline(ofa_report):
    run, out = ofa_report
    html = out.read_text()
    figs = _figures(html)
    assert {"progress", "main-effects", "depth", "width", "cost-lat-note10-ms",
            "quality"} == set(figs)
    assert figs["depth"] == 5 * 2 and figs["width"] == 5 * 4  # stages x positions / blocks
    assert "is not a table of the whole space: no random-search baseline" in html
    assert "No sweep given" in html
    assert "no interaction terms (a linear model)" in html
    assert "random search, expected" not in html


def test_ofa_report_draws_its_bars_in_the_browser(ofa_report):
    chromium = require()
    tree = Tree()
    tree.feed(dump_dom(chromium, ofa_report[1]))
    figs = _figures(ofa_report[1].read_text())
    for name in ("depth", "width", "progress", "quality"):
        assert tree.classes(name, "point") == figs[name] > 0, name


def test_api_with_run_and_sweep_objects_and_labels(tmp_path):
    oracle = iqnas.oracles.nb201("cifar100")
    run = iqnas.calibrate("nb201", oracle, "test_acc_c100", {"help_lat_fpga": 3.0}, 30,
                          rounds=2, store=tmp_path / "run.db", progress=False)
    sweep = iqnas.sweep(run.problem(), "help_lat_fpga", [2.0, 3.0, 4.0], oracle=oracle,
                        objective_metric="test_acc_c100", progress=False)
    out = iqnas.report(run, sweep=sweep, out=tmp_path / "r.html", title="My <run>",
                       xlabel="FPGA latency [ms]", ylabel="CIFAR-100 accuracy [%]",
                       n_bootstrap=0)
    html = out.read_text()
    assert "<title>My &lt;run&gt;</title>" in html
    assert "FPGA latency [ms]" in html and "CIFAR-100 accuracy [%]" in html
    assert "No bootstrap intervals" in html
    for key in sweep.pareto_front()["key"]:  # the chosen networks and their export commands
        assert "iqnas export --space nb201 --arch" in html
        assert key in html
    assert run.best.key in html


def test_measured_summary_tells_trained_from_resource_only():
    df = pd.DataFrame({"key": list("abcd"), "acc": [1.0, np.nan, 2.0, np.nan],
                       "lat": [1.0, 2.0, 3.0, 4.0]})
    rows, everything = measured_summary(df, ["acc", "lat"], "acc")
    assert rows == [("trained", "acc, lat", 2), ("resource-only", "lat", 2)]
    assert not everything
    rows, everything = measured_summary(df.fillna(0.0), ["acc", "lat"], "acc")
    assert rows == [("trained", "acc, lat", 4)] and everything
    # a store that records each sample's measured metrics
    df["measured"] = [["acc", "lat"], ["lat"], ["acc", "lat"], ["lat"]]
    rows, _ = measured_summary(df.fillna(0.0), ["acc", "lat"], "acc")
    assert rows == [("trained", "acc, lat", 2), ("resource-only", "lat", 2)]
