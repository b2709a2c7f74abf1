"""Every file of the bad-input corpus (tests/data/bad/, written by scripts/make_bad_corpus.py)
is refused by the CLI with its expected exit code and a one-line message holding the expected
fragment; no input file is changed (issue 16)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iqnas.cli import main

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
SPEC = json.loads((BAD / "cases.json").read_text())
CASES = SPEC["cases"]
KINDS = {"form", "space", "csv", "sweep", "store"}


@pytest.fixture(scope="module")
def sweep_header(tmp_path_factory) -> str:
    """The header line of the corpus sweep (what a damaged file of that sweep starts with)."""
    out = tmp_path_factory.mktemp("sweep") / "s.jsonl"
    argv = _argv("sweep", out, out.parent)
    assert main(argv) in (0, 1)
    return out.read_text().splitlines()[0]


def _argv(kind: str, file: Path, tmp: Path) -> list[str]:
    return [a.format(file=file, tmp=tmp, good=BAD / "good") for a in SPEC["commands"][kind]]


def test_the_corpus_covers_every_format():
    assert len(CASES) >= 40
    assert {c["kind"] for c in CASES} == KINDS
    assert len({c["file"] for c in CASES}) == len(CASES)
    assert all((BAD / c["file"]).is_file() for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_a_bad_input_is_refused(case, tmp_path, capsys, sweep_header, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = BAD / case["file"]
    given = tmp_path / case["file"]  # a copy: a wrongly accepted file could be written to
    data = source.read_bytes()
    if case["kind"] == "sweep":
        data = data.replace(b"@HEADER@", sweep_header.encode())
    given.write_bytes(data)
    code = main(_argv(case["kind"], given, tmp_path))
    out, err = capsys.readouterr()
    assert code == case["exit"], err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    assert case["message"] in err, err
    assert given.read_bytes() == data  # refused unchanged
    assert sorted(p.name for p in tmp_path.iterdir()) == [case["file"]]  # nothing else written
