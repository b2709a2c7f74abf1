"""benchmarks/report.py: section-wise writes to BENCHMARKS.md and the JSON-lines results."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

from benchmarks.report import (
    TOP,
    read_results,
    read_section,
    results_writer,
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
