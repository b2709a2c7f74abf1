"""Option checkers of the heuristic searchers (random, evolution, bcfw) and their parser."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from iqnas.errors import InputError


def positive_int(name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise InputError(f"option {name!r} must be a positive integer, got {v!r}")
    return int(v)


def nonneg_int(name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
        raise InputError(f"option {name!r} must be an integer >= 0, got {v!r}")
    return int(v)


def fraction(name: str, v: Any) -> float:
    """A number in (0, 1]."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not 0 < v <= 1:
        raise InputError(f"option {name!r} must be a number in (0, 1], got {v!r}")
    return float(v)


def probability(name: str, v: Any) -> float:
    """A number in [0, 1]."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not 0 <= v <= 1:
        raise InputError(f"option {name!r} must be a number in [0, 1], got {v!r}")
    return float(v)


def boolean(name: str, v: Any) -> bool:
    if not isinstance(v, (bool, np.bool_)):
        raise InputError(f"option {name!r} must be True or False, got {v!r}")
    return bool(v)


def one_of(*choices: str) -> Callable[[str, Any], str]:
    def check(name: str, v: Any) -> str:
        if v not in choices:
            raise InputError(f"option {name!r} must be one of {', '.join(choices)}, got {v!r}")
        return v
    return check


def parse_params(solver: str, params: Mapping[str, Any],
                 spec: Mapping[str, tuple[Any, Callable[[str, Any], Any]]]
                 ) -> tuple[dict[str, Any], set[str]]:
    """Validate ``params`` against ``spec`` (name -> (default, checker)).

    Returns the full settings and the set of names the caller gave explicitly.
    """
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise InputError(f"unknown {solver} option(s) {unknown}; allowed: {', '.join(spec)}")
    out = {k: default for k, (default, _) in spec.items()}
    for k, v in params.items():
        out[k] = spec[k][1](k, v)
    return out, set(params)


def time_or_count(time_limit: float | None, explicit: bool) -> bool:
    """Whether the count setting bounds the run: yes unless a time limit replaces it."""
    return time_limit is None or explicit
