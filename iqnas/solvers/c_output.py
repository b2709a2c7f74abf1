"""Where a solver library's own output goes: its C code writes to file descriptor 1 (stdout),
which would mix a solver log into a command's result (``--format json``). A verbose solve's
log belongs on stderr, a quiet solve's banner nowhere."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Iterator
from typing import Literal


def _flush_c_streams() -> None:
    """Flush C's stdio buffers (written before the descriptor is switched back)."""
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # no C library to ask (not expected on Linux/macOS)
        pass


@contextlib.contextmanager
def c_stdout_redirected(target: Literal["stderr", "null"]) -> Iterator[None]:
    """Send what is written to file descriptor 1 inside the block to stderr or to the null
    device; Python's own ``sys.stdout`` is flushed first, so nothing printed before moves.
    Process-wide (a file descriptor), so not for solves in concurrent threads."""
    if target not in ("stderr", "null"):
        raise ValueError(f"target must be 'stderr' or 'null', got {target!r}")
    with contextlib.suppress(AttributeError, ValueError, OSError):
        sys.stdout.flush()
    saved = os.dup(1)
    try:
        if target == "stderr":
            sys.stderr.flush()
            os.dup2(2, 1)
            yield
        else:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                yield
    finally:
        _flush_c_streams()
        os.dup2(saved, 1)
        os.close(saved)
