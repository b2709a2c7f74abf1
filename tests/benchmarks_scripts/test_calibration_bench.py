"""Smoke test of the issue-3 calibration benchmark: one seed, its own section only."""

from __future__ import annotations

import iqnas
from benchmarks.report import read_results


def test_calibration_bench_writes_only_its_own_section(tmp_path):
    from benchmarks import calibration_bench as cb

    md = tmp_path / "B.md"
    md.write_text("# iqnas benchmarks\n\n## Other (issue 9)\n\nkeep me\n")
    jsonl = tmp_path / "c.jsonl"
    assert cb.main(["--seeds", "1", "--out", str(md), "--jsonl", str(jsonl)]) == 0
    header, runs = read_results(jsonl)
    assert len(runs) == len(cb.cases(1)) == 4 + 6
    assert header["info"]["nproc"] and "--seeds 1" in header["command"]
    table = iqnas.oracles.nb201("cifar100").table()
    for r in runs:
        assert r["n_samples"] == 100 and r["truly_feasible"]
        assert r["regret"] == r["optimum"] - r["best"] >= 0
        if r["device"] is not None:   # the optimum is the table's, under the budget
            ok = table[r["device"]] <= r["budget"]
            assert r["optimum"] == table.loc[ok, "test_acc_c100"].max()
    text = md.read_text()
    assert text.count(cb.SECTION) == 1 and "keep me" in text and "Mean regret over all 6" in text
    assert cb.main(["--report-only", str(jsonl), "--out", str(md)]) == 0
    assert md.read_text() == text  # the section is rebuilt identically from the raw results
