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


def test_your_own_space_walkthrough(tmp_path, monkeypatch, capsys):
    """The tiny.toml commands: the Python block that writes the space, its ``train_and_eval`` as
    the user's module, then the calibrate and solve lines (in-process, not on --workers 4)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    block = next(b for b in _blocks("python") if 'space.save("tiny.toml")' in b)
    exec(compile(block, "README tiny block", "exec"), {})
    start, end = block.index("def train_and_eval"), block.index("oracle = FunctionOracle")
    (tmp_path / "mymodule.py").write_text(block[start:end])
    shell = next(b for b in _blocks("bash") if "iqnas space show tiny.toml" in b)
    runs = [argv for argv in _commands(shell) if "tiny.toml" in argv and "torch" not in argv]
    assert [a[0] for a in runs] == ["space", "calibrate", "solve"]
    for argv in runs:
        if "--workers" in argv:
            i = argv.index("--workers")
            argv = argv[:i] + argv[i + 2:]
        assert main(argv) == 0, (argv, capsys.readouterr().err)
    assert "depth=" in capsys.readouterr().out
