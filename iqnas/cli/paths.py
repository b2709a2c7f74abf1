"""Output paths checked before any work starts: each command lists its output flags with
``set_defaults(outputs=[(flag, attribute, kind), ...])``: kind "file" (its folder must exist),
"store" (a file whose folders are created) or "dir"."""

from __future__ import annotations

import argparse
from pathlib import Path

from iqnas._outputs import check_output_dir, check_output_file
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
