"""Budget lists for sweeps: validation, evenly spaced ranges and the CLI's text forms."""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Iterable

import numpy as np

from iqnas.errors import InputError
from iqnas.problem import check_budget

log = logging.getLogger(__name__)

#: most points one axis of a sweep may have
MAX_POINTS = 100_000


def budget_range(lo: float, hi: float, n: int) -> list[float]:
    """``n`` evenly spaced budgets from ``lo`` to ``hi`` inclusive (like ``numpy.linspace``)."""
    for name, v in (("lo", lo), ("hi", hi)):
        if not _is_real(v) or not math.isfinite(float(v)):
            raise InputError(f"budget_range: {name} must be a finite number, got {v!r}")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 1 <= n <= MAX_POINTS:
        raise InputError(f"budget_range: n must be an integer in 1..{MAX_POINTS}, got {n!r}")
    if float(hi) < float(lo):
        raise InputError(f"budget_range: hi ({hi}) is below lo ({lo}); give lo <= hi")
    if n == 1 and float(lo) != float(hi):
        raise InputError("budget_range: n=1 needs lo == hi; give n >= 2 for a range")
    return [float(v) for v in np.linspace(float(lo), float(hi), int(n))]


def check_budgets(budgets, resource: str) -> list[float]:
    """Sorted, distinct, finite, non-negative budgets from a list, tuple, range or 1-D array."""
    if isinstance(budgets, (str, bytes)) or not isinstance(budgets, (Iterable, np.ndarray)):
        raise InputError(f"budgets of {resource!r} must be a list of numbers or a 1-D array, "
                         f"got {type(budgets).__name__}; build a range with "
                         "iqnas.sweeps.budget_range(lo, hi, n)")
    arr = np.asarray(budgets, dtype=object)
    if arr.ndim != 1:
        raise InputError(f"budgets of {resource!r} must be one-dimensional, got shape "
                         f"{arr.shape}")
    values = [check_budget(resource, v) for v in arr.tolist()]
    if not values:
        raise InputError(f"budgets of {resource!r} are empty; give at least one budget")
    if len(values) > MAX_POINTS:
        raise InputError(f"{len(values)} budgets of {resource!r}; at most {MAX_POINTS} per axis")
    out = sorted(set(values))
    if len(out) < len(values):
        log.info("dropped %d repeated budget(s) of %s", len(values) - len(out), resource)
    return out


def parse_budgets(text: str, option: str = "--budgets") -> list[float]:
    """``"1,2,3"`` (a list) or ``"lo:hi:n"`` (n evenly spaced budgets) -> list of floats."""
    text = str(text).strip()
    if not text:
        raise InputError(f"{option} is empty; give 1,2,3 or lo:hi:n")
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise InputError(f"{option} {text!r}: a range is lo:hi:n, e.g. 1.0:5.0:40")
        lo, hi = (_number(p, option, text) for p in parts[:2])
        try:
            n = int(parts[2])
        except ValueError:
            raise InputError(f"{option} {text!r}: n ({parts[2]!r}) must be an integer") from None
        try:
            return budget_range(lo, hi, n)
        except InputError as exc:
            raise InputError(f"{option} {text!r}: {str(exc).split(': ', 1)[-1]}") from None
    return [_number(p, option, text) for p in text.split(",")]


def _number(part: str, option: str, text: str) -> float:
    try:
        return float(part)
    except ValueError:
        raise InputError(f"{option} {text!r}: {part.strip()!r} is not a number") from None


def _is_real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)
