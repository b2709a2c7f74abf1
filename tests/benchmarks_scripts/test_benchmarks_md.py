"""BENCHMARKS.md is what the benchmark scripts make of the raw results shipped with it."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys

import pytest

from benchmarks.report import BENCHMARKS_MD, RESULTS, SUMMARY, anchor, read_section

#: every benchmark script that writes a section of BENCHMARKS.md (a ``SECTION`` constant)
SCRIPTS = tuple(sorted(p.stem for p in BENCHMARKS_MD.parent.glob("benchmarks/*_bench.py")
                       if "\nSECTION = " in p.read_text()))


@pytest.mark.parametrize("script", SCRIPTS)
def test_report_only_rebuilds_its_section_and_summary_row_byte_for_byte(script, tmp_path):
    module = importlib.import_module(f"benchmarks.{script}")
    md = tmp_path / "BENCHMARKS.md"
    shutil.copy(BENCHMARKS_MD, md)
    before = md.read_text()
    assert before.count(module.SECTION + "\n") == 1
    assert module.main(["--report-only", str(RESULTS / f"{script}.jsonl"), "--out", str(md)]) == 0
    assert md.read_text() == before


def test_the_summary_links_every_section_once():
    text = BENCHMARKS_MD.read_text()
    sections = [h[3:] for h in re.findall(r"^## .*$", text, flags=re.M) if h != SUMMARY]
    summary = read_section(BENCHMARKS_MD, SUMMARY)
    links = re.findall(r"^\| \[(.*?)\]\(#(.*?)\) \|", summary, flags=re.M)
    assert sorted(links) == sorted((title, anchor(title)) for title in sections)
    assert len(sections) == len(SCRIPTS) and "issue" not in " ".join(sections).lower()


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_and_report_only_to_no_file(script, capsys):
    module = importlib.import_module(f"benchmarks.{script}")
    with pytest.raises(SystemExit) as info:
        module.main(["--help"])
    assert info.value.code == 0 and "--report-only" in capsys.readouterr().out
    before = BENCHMARKS_MD.read_text()
    assert module.main(["--report-only", str(RESULTS / f"{script}.jsonl"), "--out", "-"]) == 0
    assert BENCHMARKS_MD.read_text() == before  # '-': no file written
    assert capsys.readouterr().out.strip()  # ... but something to read on stdout


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_each_script_runs_as_a_file_outside_the_repository(script, tmp_path):
    """``python benchmarks/<script>.py`` from another folder: the script makes the repository
    importable itself."""
    path = BENCHMARKS_MD.parent / "benchmarks" / f"{script}.py"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for argv in (["--help"], ["--report-only", str(RESULTS / f"{script}.jsonl"), "--out", "-"]):
        proc = subprocess.run([sys.executable, str(path), *argv], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert argv != ["--help"] or proc.stdout.startswith(f"usage: {script}.py")
