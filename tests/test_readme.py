"""The README's examples run as written: every Python block, then the command-line walkthrough."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from iqnas.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(), flags=re.S)


def _commands(block: str) -> list[list[str]]:
    """``iqnas ...`` lines of a bash block, continuation lines joined, comments dropped."""
    joined = block.replace("\\\n", " ")
    return [shlex.split(line.split("#")[0])[1:] for line in joined.splitlines()
            if line.startswith("iqnas ")]


@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_python_examples_run(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(_blocks("python")[index], f"README python block {index}", "exec"), {})


def test_command_line_walkthrough(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    walkthrough = [b for b in _blocks("bash") if "iqnas calibrate" in b]
    assert walkthrough, "the README lost its command-line walkthrough"
    for argv in _commands(walkthrough[0]):
        assert main(argv) == 0, argv
        capsys.readouterr()
    assert (tmp_path / "front.png").stat().st_size > 1000
    report = (tmp_path / "report.html").read_text()
    assert report.startswith("<!DOCTYPE html>") and 'data-figure="front"' in report
