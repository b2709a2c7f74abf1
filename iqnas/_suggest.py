""""Did you mean" suggestions for mistyped names (metrics, flags, resources)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, known: Iterable[str], n: int = 3) -> str:
    """``"; did you mean 'a' or 'b'?"`` (close matches of ``name``), ``""`` if none."""
    known = [str(k) for k in known]
    close = difflib.get_close_matches(str(name), known, n=n, cutoff=0.6)
    if not close:
        lowered = {k.lower(): k for k in known}
        close = [lowered[k] for k in difflib.get_close_matches(str(name).lower(), lowered, n=n,
                                                              cutoff=0.6)]
    if not close:
        return ""
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?"
