"""Helpers shared by the sweep tests (imported as ``sweep_helpers``; also by a subprocess)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import iqnas

HERE = Path(__file__).resolve().parent
RES = "help_lat_fpga"


def brute_force_optimum(problem: iqnas.Problem) -> np.ndarray:
    """Objective of every architecture of the space (NaN where a budget is broken)."""
    space = problem.space
    C = space.enumerate_choices()
    obj = problem.objective.evaluate(choices=C)
    ok = np.ones(len(C), dtype=bool)
    for c in problem.constraints:
        ok &= c.form.evaluate(choices=C) <= c.budget + 1e-9 * max(1.0, abs(c.budget))
    return np.where(ok, obj, np.nan)


def load_problem(forms: dict) -> iqnas.Problem:
    """NB201 problem from saved accuracy and FPGA latency forms (budget 3 ms, swept anyway)."""
    space = iqnas.spaces.get("nb201")
    acc = iqnas.QuadraticForm.load(forms["acc"], space)
    lat = iqnas.QuadraticForm.load(forms["lat"], space)
    return iqnas.Problem(space, acc, {RES: (lat, 3.0)})
