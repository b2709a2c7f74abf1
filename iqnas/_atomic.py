"""Write a text file atomically: all of it or nothing (a temporary file in the same folder, then
``os.replace``); a path that cannot be written is an InputError naming it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from iqnas.errors import InputError


def write_text_atomic(path: str | os.PathLike, text: str, what: str = "file") -> Path:
    """Write ``text`` to ``path`` (UTF-8), replacing it atomically; ``what`` names the file in
    the error (e.g. ``"--out"``). An interrupted or failed write leaves ``path`` as it was."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"{what} {path}: is a folder; give a file path")
    if not folder.is_dir():
        raise InputError(f"{what} {path}: the folder {folder} does not exist; create it first")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"{what} {path}: the folder {folder} is not writable "
                         f"({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes the file private (0600): give it the mode of the file it replaces, or
        # that of a file written the ordinary way
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"{what} {path}: writing failed ({exc.strerror or exc})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
