"""Smoke test of the issue-10 LUT benchmark: a tiny run writes only its own section, and the
section is rebuilt identically from the raw results."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.report import read_results


def test_accuracy_figures_against_hand_computed_values():
    from benchmarks import lut_bench as lb

    pred = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    true = np.array([1.05, 2.5, 3.0, 4.0, 10.0])  # within 10 %: 1st, 3rd, 4th
    acc = lb.accuracy(pred, true, n_calibrate=2)
    assert acc["within10"] == pytest.approx(3 / 5)
    assert acc["tau"] == pytest.approx(1.0)
    assert acc["median_ratio"] == pytest.approx(1.05)  # of 1.05, 1.25, 1, 1, 2
    assert acc["scale"] == pytest.approx((1.05 + 1.25) / 2)


@pytest.mark.slow
def test_lut_bench_writes_only_its_own_section(tmp_path):
    from benchmarks import lut_bench as lb

    md = tmp_path / "B.md"
    md.write_text("# iqnas benchmarks\n\n## Other (issue 9)\n\nkeep me\n")
    jsonl = tmp_path / "l.jsonl"
    argv = ["--runs", "1", "--networks", "6", "--calibrate", "2", "--input-size", "32",
            "--warmup", "1", "--repeats", "3", "--out", str(md), "--jsonl", str(jsonl)]
    assert lb.main(argv) == 0
    header, runs = read_results(jsonl)
    assert len(runs) == 1 and header["settings"]["networks"] == 6
    for mode in lb.MODES:
        assert runs[0][mode]["per_min"] > 0 and runs[0][mode]["retried"] == 0
        assert runs[0][mode]["resources_per_min"] > 0
        for clock in lb.CLOCKS:
            assert -1 <= runs[0][mode][clock]["tau"] <= 1
    text = md.read_text()
    assert text.count(lb.SECTION) == 1 and "keep me" in text and "Findings" in text
    assert lb.main(["--report-only", str(jsonl), "--out", str(md)]) == 0
    assert md.read_text() == text
