"""Bad input found by trying the CLI as a new user would: each is one line on stderr naming the
flag or file, exit 2, before any work starts, and nothing written."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas
from iqnas.cli import main

KEYS = ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|none~2|")


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    d = tmp_path_factory.mktemp("forms")
    space = iqnas.spaces.get("nb201")
    rng = np.random.default_rng(0)
    acc = iqnas.QuadraticForm(space, 0, rng.normal(size=30), name="acc")
    lat = iqnas.QuadraticForm(space, 1.0, np.abs(rng.normal(size=30)), units="ms")
    return {"acc": acc.save(d / "acc.json"), "lat": lat.save(d / "lat.json")}


def _refused(capsys, argv, *fragments) -> str:
    """``argv`` exits 2 with one line on stderr holding every fragment and prints nothing."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    assert all(f in err for f in fragments), err
    assert out == ""
    return err


# ---- solve --write-model -----------------------------------------------------------------------
@pytest.mark.parametrize("where, fragment", [
    ("nodir/m.lp", "the folder nodir does not exist"),
    ("{acc}/m.lp", "is a file, not a folder"),
])
def test_solve_write_model_path_is_checked_before_the_solve(forms, capsys, tmp_path,
                                                            monkeypatch, where, fragment):
    """It was written after the solve, with a traceback for a missing folder."""
    monkeypatch.chdir(tmp_path)
    _refused(capsys, ["solve", "--space", "nb201", "--objective", forms["acc"],
                      "--write-model", where.format(acc=forms["acc"])],
             "--write-model", fragment)
    assert list(tmp_path.iterdir()) == []


# ---- explain --samples ---------------------------------------------------------------------------
def test_explain_samples_csv_with_a_word_for_a_number(forms, capsys, tmp_path):
    """A CSV cell that is not a number: it was a pandas traceback."""
    csv = tmp_path / "s.csv"
    csv.write_text(f"key,acc\n{KEYS[0]},1.5\n{KEYS[1]},abc\n{KEYS[2]},2.5\n")
    _refused(capsys, ["explain", forms["acc"], "--samples", csv, "--bootstrap", "5"],
             "samples['acc'][1] is 'abc', not a number", "drop rows")


# ---- lut --threads -------------------------------------------------------------------------------
def test_lut_negative_threads(capsys):
    """--threads -1 reached torch.set_num_threads (a RuntimeError traceback)."""
    pytest.importorskip("torch")
    _refused(capsys, ["lut", "--space", "mobilenet", "--threads", "-1", "--repeats", "3",
                      "--warmup", "0"], "num_threads must be a positive integer", "-1")


# ---- export --model ------------------------------------------------------------------------------
def test_export_model_file_without_coefficients(capsys, tmp_path):
    """``{}`` was recorded as a prediction of 0 in arch.json."""
    pytest.importorskip("torch")
    empty = tmp_path / "lat.json"
    empty.write_text("{}")
    _refused(capsys, ["export", "--space", "nb201", "--arch", KEYS[1], "--out", tmp_path / "ship",
                      "--model", f"lat={empty}"], "lat.json", "none of the fields")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lat.json"]


# ---- flags that were silently ignored --------------------------------------------------------------
@pytest.mark.parametrize("argv, fragments", [
    (["demo", "--flash-budgets", "450,1000"], ("--flash-budgets", "add --data-aware")),
    (["demo", "--epochs", "1", "--workers", "1"], ("--epochs, --workers", "add --data-aware")),
    (["reduce", "--space", "nb201", "--k", "3", "--k-range", "2:4", "--out", "c.json"],
     ("--k fixes", "--k-range", "give one")),
    (["report", "--store", "{store}", "--out", "r.html", "--figure-format", "svg"],
     ("--figure-format", "--figures")),
    (["report", "--store", "{store}", "--out", "r.html", "--bootstrap", "1"],
     ("n_bootstrap must be 0", ">= 2")),
])
def test_conflicting_or_ignored_flags(capsys, tmp_path, monkeypatch, argv, fragments):
    """Each ran to the end (a demo, a clustering, a report) with the flag ignored."""
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "run.db"
    if "{store}" in argv:
        pytest.importorskip("plotly")
        assert main(["calibrate", "--space", "nb201", "--oracle", "nb201", "--objective",
                     "test_acc_c100", "--samples", "10", "--store", str(store), "-q"]) == 0
        capsys.readouterr()
    before = sorted(p.name for p in tmp_path.iterdir())
    _refused(capsys, [a.format(store=store) for a in argv], *fragments)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# ---- calibrate --samples -----------------------------------------------------------------------------
def test_calibrate_more_samples_than_the_space_has(capsys, tmp_path):
    """It failed later ("cannot draw 10 distinct architectures") and left a store behind whose
    settings then refused the corrected rerun."""
    space = tmp_path / "tiny.json"
    space.write_text('{"name": "tiny", "groups": [{"name": "a", "options": [1, 2, 3]}, '
                     '{"name": "b", "options": [1, 2]}]}')
    store = tmp_path / "s.db"
    _refused(capsys, ["calibrate", "--space", space, "--oracle", "nb201", "--objective", "acc",
                      "--samples", "100", "--store", store],
             "--samples 100 is more than the 6 architectures of space 'tiny'; give at most 6")
    assert not store.exists()


def test_a_folder_given_as_an_input_file(forms, capsys):
    """It said "file not found" for a folder that is there."""
    folder = forms["acc"].parent
    _refused(capsys, ["solve", "--space", "nb201", "--objective", folder],
             f"objective file {folder} is a folder; give the file in it")
    _refused(capsys, ["explain", forms["acc"], "--resource", f"lat={folder}"],
             "resource 'lat' file", "is a folder")
