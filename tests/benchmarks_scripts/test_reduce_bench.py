"""Smoke test of the issue-14 reduction benchmark: one K, one seed, its own section only."""

from __future__ import annotations

from benchmarks.report import read_results


def test_reduce_bench_writes_only_its_own_section(tmp_path):
    from benchmarks import reduce_bench as rb

    md = tmp_path / "B.md"
    md.write_text("# iqnas benchmarks\n\n## Other (issue 9)\n\nkeep me\n")
    jsonl = tmp_path / "r.jsonl"
    argv = ["--ks", "4", "--quality-seeds", "1", "--trials", "10", "--repeats", "1",
            "--model", "ridge", "--out", str(md), "--jsonl", str(jsonl)]
    assert rb.main(argv) == 0
    header, records = read_results(jsonl)
    quality = [r for r in records if r["type"] == "quality"]
    solves = [r for r in records if r["type"] == "solve"]
    assert len(quality) == 2 and {r["score"] for r in quality} == {"freerea", "naswot"}
    assert len(solves) == 3 * (1 + len(rb.QUANTILES))  # none, all rows, Voronoi rows only
    for r in quality:
        assert r["selected_mean"] >= r["space_mean"] + 5.0
        assert r["top_members"] == r["top_n"] == rb.TOP
    assert all(r["member"] for r in solves if "member" in r)
    assert header["info"]["nproc"] and "--ks 4" in header["command"]
    text = md.read_text()
    assert text.count(rb.SECTION) == 1 and "keep me" in text and "Largest ratio" in text
    assert rb.main(["--report-only", str(jsonl), "--out", str(md)]) == 0
    assert md.read_text() == text  # the section is rebuilt identically from the raw results


def test_report_only_to_stdout_prints_the_published_section(capsys):
    """``--out -`` prints the section (as other scripts do) and writes no file."""
    from benchmarks import reduce_bench as rb
    from benchmarks.report import BENCHMARKS_MD, RESULTS, read_section

    before = BENCHMARKS_MD.read_text()
    assert rb.main(["--report-only", str(RESULTS / "reduce_bench.jsonl"), "--out", "-"]) == 0
    assert read_section(BENCHMARKS_MD, rb.SECTION).strip() in capsys.readouterr().out
    assert BENCHMARKS_MD.read_text() == before
