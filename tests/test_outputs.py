"""iqnas/_outputs.py: output paths checked before work, text files written all or nothing."""

from __future__ import annotations

import os

import pytest

from iqnas._outputs import check_output_dir, check_output_file, write_text_atomic
from iqnas.errors import InputError


def test_write_text_atomic_keeps_the_old_file_on_failure_and_its_mode(tmp_path, monkeypatch):
    path = tmp_path / "f.txt"
    assert write_text_atomic(path, "one\n") == path and path.read_text() == "one\n"
    assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's private 0600
    os.chmod(path, 0o600)

    def fail(*_):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(os, "replace", fail)
        with pytest.raises(InputError, match=r"^--out .*f.txt: writing failed \(No space left"):
            write_text_atomic(path, "two\n", "--out")
    assert path.read_text() == "one\n" and os.listdir(tmp_path) == ["f.txt"]
    write_text_atomic(path, "two\n")
    assert path.read_text() == "two\n" and path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("where, match", [
    ("nodir/f.txt", "the folder .*nodir does not exist; create it first"),
    ("file/f.txt", "file is a file, not a folder"),
    ("folder", "is a folder; give a file path"),
    ("/proc/f.txt", "the folder /proc is not writable"),
])
def test_paths_that_cannot_be_written(tmp_path, where, match):
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder").mkdir()
    with pytest.raises(InputError, match=f"^--out .*{match}"):
        write_text_atomic(tmp_path / where, "text", "--out")
    with pytest.raises(InputError, match=match):
        check_output_file(tmp_path / where, "--out")
    with pytest.raises(InputError, match="is a file, not a folder"):
        check_output_dir(tmp_path / "file" / "sub", "--dir")
    assert sorted(os.listdir(tmp_path)) == ["file", "folder"]
