"""benchmarks/data_aware_bench.py with a tiny demo: a real demo run in a subprocess, its checks
recomputed from the rows, its own BENCHMARKS.md section only."""

from __future__ import annotations

import pytest

from benchmarks import data_aware_bench as bench
from benchmarks.report import read_results

pytest.importorskip("torch")
pytest.importorskip("sklearn")


@pytest.mark.slow  # a whole demo in a subprocess (about a minute on a busy machine)
def test_tiny_run_writes_its_section(tmp_path):
    md, jsonl = tmp_path / "B.md", tmp_path / "r.jsonl"
    md.write_text("# iqnas benchmarks\n\n## Other (issue 9)\n\nkeep me\n")
    argv = ["--seeds", "0", "--demo-args", "--samples 8 --epochs 1 --top-k 1 --workers 1 "
            "--flash-budgets 450,1000", "--out", str(md), "--jsonl", str(jsonl)]
    assert bench.main(argv) == 0
    header, runs = read_results(jsonl)
    assert header["info"]["nproc"] and len(runs) == 1
    run = runs[0]
    assert run["wall_s"] >= run["elapsed_s"] > 0 and run["n_trained"] >= 8
    c = bench.checks(run)
    assert c["within"]
    assert [(b, smallest) for b, smallest, _, _ in c["infeasible"]] == [(450.0, 690.0)]
    assert [b for b, _ in c["gaps"]] == [1000.0]
    text = md.read_text()
    assert "keep me" in text and text.count(bench.SECTION) == 1
    again = tmp_path / "C.md"
    again.write_text("# iqnas benchmarks\n\n## Other (issue 9)\n\nkeep me\n")
    assert bench.main(["--report-only", str(jsonl), "--out", str(again)]) == 0
    assert again.read_text() == text


def test_report_only_to_stdout_prints_the_published_section(capsys):
    """``--out -`` prints the section (as other scripts do) and writes no file."""
    from benchmarks.report import BENCHMARKS_MD, RESULTS, read_section

    before = BENCHMARKS_MD.read_text()
    assert bench.main(["--report-only", str(RESULTS / "data_aware_bench.jsonl"), "--out", "-"]) == 0
    assert read_section(BENCHMARKS_MD, bench.SECTION).strip() in capsys.readouterr().out
    assert BENCHMARKS_MD.read_text() == before
