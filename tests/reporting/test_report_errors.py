"""Bad input to ``iqnas report``: one-line errors, exit code 2, nothing written (the output is
written to a temporary file and renamed, so an old report stays whole)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from report_helpers import cli

import iqnas
from iqnas.errors import InputError
from iqnas.reporting import html as report_html


def _fails(tmp_path, *argv, match: str, out=None):
    out = out if out is not None else tmp_path / "report.html"
    before = sorted(p.name for p in out.parent.iterdir()) if out.parent.is_dir() else None
    code, stdout, err = cli("report", *argv, "--out", out, "--bootstrap", 0)
    assert code == 2, (code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert match in lines[0], lines[0]
    assert not stdout
    if before is not None:  # nothing new next to the output (no report, no temp file)
        assert sorted(p.name for p in out.parent.iterdir()) == before
    return lines[0]


def test_models_of_another_space_than_the_store(nb201_run, tmp_path):
    models = tmp_path / "ofa-models"
    models.mkdir()
    space = iqnas.spaces.get("ofa")
    iqnas.QuadraticForm(space, 70.0, np.ones(space.n_vars), name="test_acc_c100").save(
        models / "test_acc_c100.json")
    (tmp_path / "out").mkdir()
    _fails(tmp_path, "--store", nb201_run["store"], "--models", models,
           match="is for space 'ofa', the store holds samples of 'nb201'",
           out=tmp_path / "out" / "r.html")


def test_missing_inputs(nb201_run, tmp_path):
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "r.html"
    _fails(tmp_path, "--store", nb201_run["store"], "--models", nb201_run["models"], "--sweep",
           tmp_path / "nope.jsonl", match="sweep file not found", out=out)
    _fails(tmp_path, "--store", tmp_path / "nope.db", match="store file not found", out=out)
    _fails(tmp_path, "--store", nb201_run["store"], "--models", tmp_path / "nodir",
           match="models directory not found", out=out)
    text = tmp_path / "notes.db"
    text.write_text("not a database\n")
    _fails(tmp_path, "--store", text, match="is not an iqnas sample store", out=out)


def test_unwritable_output_paths(nb201_run, tmp_path):
    args = ("--store", nb201_run["store"], "--models", nb201_run["models"])
    _fails(tmp_path, *args, match="does not exist", out=tmp_path / "missing" / "r.html")
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    _fails(tmp_path, *args, match="file.txt is a file, not a folder", out=blocker / "r.html")
    (tmp_path / "adir").mkdir()
    _fails(tmp_path, *args, match="adir: is a folder; give a file path", out=tmp_path / "adir")


def test_sweeps_that_do_not_belong_to_the_run(nb201_run, tmp_path):
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "r.html"
    args = ("--store", nb201_run["store"], "--models", nb201_run["models"])
    lines = nb201_run["sweep"].read_text().splitlines(keepends=True)
    head = json.loads(lines[0])
    other = tmp_path / "ofa.jsonl"
    other.write_text(json.dumps({**head, "space": "ofa"}) + "\n" + "".join(lines[1:]))
    _fails(tmp_path, *args, "--sweep", other, match="is over space 'ofa'", out=out)
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(lines[:-1]))
    _fails(tmp_path, *args, "--sweep", cut, match="has 7 of 8 points", out=out)
    # models other than the sweep's: the problem fingerprint differs
    models = tmp_path / "models"
    shutil.copytree(nb201_run["models"], models)
    lat = iqnas.QuadraticForm.load(models / "help_lat_fpga.json")
    (lat * 1.01).copy(name=lat.name, units=lat.units).save(models / "help_lat_fpga.json")
    _fails(tmp_path, "--store", nb201_run["store"], "--models", models, "--sweep",
           nb201_run["sweep"], match="other forms or budgets", out=out)
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("hello\n")
    _fails(tmp_path, *args, "--sweep", garbage, match="not an iqnas sweep file", out=out)


def test_an_old_report_stays_whole(nb201_run, tmp_path, monkeypatch):
    out = tmp_path / "report.html"
    out.write_text("old report\n")
    _fails(tmp_path, "--store", nb201_run["store"], "--models", nb201_run["models"],
           "--sweep", tmp_path / "nope.jsonl", match="sweep file not found", out=out)
    assert out.read_text() == "old report\n"

    # a failure while the new file is written (here: the rename) leaves the old one and no
    # temporary file
    def broken(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report_html.os, "replace", broken)
    with pytest.raises(InputError, match="--out .*report.html: writing failed .No space left"):
        iqnas.report(nb201_run["store"], nb201_run["models"], out=out, n_bootstrap=0)
    assert out.read_text() == "old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_python_api_checks_its_arguments(nb201_run, tmp_path):
    for n in (-1, 1, 2.0, True):  # one refit gives no interval
        with pytest.raises(InputError, match="n_bootstrap must be 0 .no intervals. or an integer"):
            iqnas.report(nb201_run["store"], out=tmp_path / "r.html", n_bootstrap=n)
    with pytest.raises(InputError, match="figure_format"):
        iqnas.report(nb201_run["store"], out=tmp_path / "r.html", figure_format="jpg")
    assert not list(tmp_path.iterdir())


def test_without_plotly_the_report_names_its_extra(nb201_run, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "plotly", None)  # makes `import plotly` fail
    code, _, err = cli("report", "--store", nb201_run["store"], "--out", tmp_path / "r.html")
    assert code == 2 and "the HTML report needs plotly: pip install 'iqnas[report]'" in err
    assert not list(tmp_path.iterdir())
