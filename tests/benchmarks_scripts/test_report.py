"""benchmarks/report.py: section-wise writes to BENCHMARKS.md and the JSON-lines results."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

from benchmarks.report import (
    SUMMARY,
    TOP,
    Headline,
    anchor,
    read_results,
    read_run,
    read_section,
    results_writer,
    summary_row,
    write_section,
)


def test_write_section_appends_replaces_and_keeps_the_others(tmp_path: Path) -> None:
    md = tmp_path / "B.md"
    write_section(md, "## A", "## A\n\nfirst a\n")
    write_section(md, "## B", "## B\n\nfirst b\n")
    write_section(md, "## A", "## A\n\nsecond a\n")
    text = md.read_text()
    assert text.startswith(TOP)
    assert "first a" not in text and "second a" in text and "first b" in text
    assert text.index("## A") < text.index("## B")  # replaced in place, not moved
    assert read_section(md, "## B").strip() == "## B\n\nfirst b"
    assert not list(tmp_path.glob("*.lock")) and not list(tmp_path.glob("*.tmp"))


def test_write_section_rejects_text_under_another_heading(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must start with"):
        write_section(tmp_path / "B.md", "## A", "## B\n")
    assert not (tmp_path / "B.md").exists()


def _write(args: tuple[str, int]) -> None:
    path, i = args
    for rep in range(5):
        write_section(Path(path), f"## S{i}", f"## S{i}\n\nrun {rep}\n")


def test_concurrent_writers_do_not_drop_each_others_sections(tmp_path: Path) -> None:
    md = tmp_path / "B.md"
    with mp.get_context("spawn").Pool(4) as pool:
        pool.map(_write, [(str(md), i) for i in range(8)])
    for i in range(8):
        assert read_section(md, f"## S{i}").strip() == f"## S{i}\n\nrun 4"


def test_results_round_trip_and_keep_records_of_an_interrupted_run(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with pytest.raises(KeyboardInterrupt):
        with results_writer(path, {"nproc": 2}, "python -m x", model={"k": 1}) as write:
            write({"a": 1})
            write({"a": 2})
            raise KeyboardInterrupt
    header, records = read_results(path)
    assert header["info"] == {"nproc": 2} and header["command"] == "python -m x"
    assert header["model"] == {"k": 1}
    assert records == [{"a": 1}, {"a": 2}]
    assert read_run(path) == (records, {"nproc": 2}, "python -m x", header)
    (tmp_path / "bare.jsonl").write_text('{"a": 3}\n')  # no header record
    assert read_run(tmp_path / "bare.jsonl") == ([{"a": 3}], {}, "", {})


def test_summary_rows_are_added_replaced_in_place_and_kept(tmp_path: Path) -> None:
    md = tmp_path / "B.md"
    md.write_text(f"{TOP}\n\nintro\n\n## Other (issue 9)\n\nkeep me\n")
    info = {"date": "2026-12-01T15:26:31+00:00"}
    a1 = summary_row("## A: first", Headline("what A measures", "A 1.0 s", "< 2 s"), info,
                     "python -m benchmarks.a ")
    b1 = summary_row("## B", Headline("what B measures", "B | 3"), {}, "python -m benchmarks.b")
    write_section(md, "## A: first", "## A: first\n\nrun 1\n", a1)
    write_section(md, "## B", "## B\n\nrun 1\n", b1)
    text = md.read_text()
    assert text.startswith(f"{TOP}\n\nintro\n\n{SUMMARY}\n")  # created above every section
    assert text.index(SUMMARY) < text.index("## Other") < text.index("## A") < text.index("## B")
    assert a1 == ("| [A: first](#a-first) | what A measures | A 1.0 s | < 2 s | 2026-12-01 | "
                  "`python -m benchmarks.a` |")
    assert b1 == "| [B](#b) | what B measures | B / 3 | none set | - | `python -m benchmarks.b` |"
    a2 = a1.replace("A 1.0 s", "A 0.5 s")
    write_section(md, "## A: first", "## A: first\n\nrun 2\n", a2)
    summary = read_section(md, SUMMARY)
    rows = [line for line in summary.splitlines() if line.startswith("| [")]
    assert rows == [a2, b1]  # replaced in place, the other row kept
    assert "run 2" in read_section(md, "## A: first") and "keep me" in md.read_text()
    write_section(md, "## B", "## B\n\nrun 2\n")  # no row: the summary is left alone
    assert read_section(md, SUMMARY) == summary


def test_anchor_follows_markdown_heading_links() -> None:
    assert anchor("Solver: proving optimality") == "solver-proving-optimality"
    assert anchor("Budget sweeps: reusing answers across budgets") == (
        "budget-sweeps-reusing-answers-across-budgets")
    assert anchor("Calibration: the best network from 100 measurements") == (
        "calibration-the-best-network-from-100-measurements")
