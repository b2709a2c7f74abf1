"""Output paths checked before any work starts: each command lists its output flags with
``set_defaults(outputs=[(flag, attribute, kind), ...])``: kind "file" (its folder must exist),
"store" (a file whose folders are created) or "dir"."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from iqnas.errors import InputError


def check_outputs(args: argparse.Namespace) -> None:
    """Every output path of ``args`` can be written (InputError naming the flag otherwise)."""
    for flag, attr, kind in getattr(args, "outputs", ()):
        value = getattr(args, attr, None)
        if value is None or value == "":
            continue
        if kind == "dir":
            check_output_dir(value, flag)
        elif kind == "store":
            if Path(value).is_dir():
                raise InputError(f"{flag} {value}: is a folder; give a file path such as "
                                 f"{Path(value) / 'samples.db'}")
            check_output_dir(Path(value).parent, flag)
        else:
            check_output_file(value, flag)


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
