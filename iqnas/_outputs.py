"""Output paths: checked before any work starts (``check_output_file``, ``check_output_dir``:
an InputError naming the flag or argument otherwise) and text files written atomically
(``write_text_atomic``: all of it or nothing)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from iqnas.errors import InputError


def write_text_atomic(path: str | os.PathLike, text: str, what: str = "file") -> Path:
    """Write ``text`` to ``path`` (UTF-8), replacing it atomically; ``what`` names the file in
    the error (e.g. ``"--out"``). An interrupted or failed write leaves ``path`` as it was."""
    path = check_output_file(path, what)
    folder = path.parent if str(path.parent) else Path(".")
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


def check_output_file(path: str | os.PathLike, flag: str) -> Path:
    """``path`` can be created or replaced: its folder exists and takes new files, it is not a
    folder, and an existing file is writable."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{flag} {path}: is a folder; give a file path")
    parent = p.parent if str(p.parent) else Path(".")
    _check_folder_chain(parent, flag, path)
    if not parent.is_dir():
        raise InputError(f"{flag} {path}: the folder {parent} does not exist; create it first")
    _probe(parent, flag, path)
    if p.exists() and not os.access(p, os.W_OK):
        raise InputError(f"{flag} {path}: the file exists and is not writable")
    return p


def check_output_dir(path: str | os.PathLike, flag: str) -> Path:
    """``path`` is a writable folder, or can be created (under a writable folder)."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError(f"{flag} {path}: is a file, not a folder")
    _check_folder_chain(p, flag, path)
    existing = p
    while not existing.exists():
        existing = existing.parent
    _probe(existing, flag, path)
    return p


def _check_folder_chain(folder: Path, flag: str, path) -> None:
    """No ancestor of ``folder`` (or itself) is a file."""
    for part in [folder, *folder.parents]:
        if part.exists():
            if not part.is_dir():
                raise InputError(f"{flag} {path}: {part} is a file, not a folder")
            return


def _probe(folder: Path, flag: str, path) -> None:
    """Create and remove a temporary file in ``folder`` (as root, permissions alone say too
    little: read-only mounts, /proc)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".iqnas-probe-", dir=folder)
    except OSError as exc:
        raise InputError(f"{flag} {path}: the folder {folder} is not writable "
                         f"({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(tmp)
