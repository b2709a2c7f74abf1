"""Data-aware against architecture-only search on the digits workload, across flash budgets.

One calibration (``calibrate`` with the digits training oracle: every sample is a network
trained for real, through the executor into the sample store) fits the accuracy QuadraticForm
of ``val_acc``; the resources are the exact analytic forms of
:mod:`iqnas.workloads.digits_resources`. At each flash budget two IQPs are solved with SCIP:
*data-aware* over every group, and *architecture-only* with the input fixed at 8x8, 4 bits
(two linear rows). The top ``top_k`` answers of each are trained (cached in the store); the
reported network is the best validation accuracy among every measured network feasible for
that problem, and its flash and RAM are recounted from the exported network.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from iqnas import spaces
from iqnas.calibration import calibrate
from iqnas.calibration.batch import measure_batch
from iqnas.calibration.run import CalibrationRun, store_settings
from iqnas.calibration.store import SampleStore
from iqnas.errors import InputError
from iqnas.problem import LinearConstraint, Problem, within_budget
from iqnas.quadform import QuadraticForm
from iqnas.solve import smallest_achievable, solve_top_k
from iqnas.space import Architecture, SearchSpace
from iqnas.workloads import digits
from iqnas.workloads.digits_resources import (
    RAM_LAYERS,
    exported_footprint,
    ram_constraints,
    resource_forms,
)

log = logging.getLogger(__name__)

MODES = ("data-aware", "architecture-only")
#: the input of the architecture-only search (the dataset's own format)
FIXED_INPUT = {"resolution": "8", "bits": "4"}
FLASH = "flash_bytes"
OBJECTIVE = "val_acc"
DEFAULT_FLASH_BUDGETS = (450.0, 650.0, 1000.0, 2000.0, 4000.0)
DEFAULT_RAM_BUDGET = 1024.0


@dataclass
class DataAwareRun:
    """What :func:`run_data_aware` returns: one row per (flash budget, mode), the calibration
    run, the resource forms and the problems solved."""

    rows: list[dict[str, Any]]
    calibration: CalibrationRun
    forms: dict[str, QuadraticForm]
    ram_budget: float
    elapsed: float = 0.0
    problems: dict[tuple[float, str], Problem] = field(default_factory=dict)

    @property
    def model(self) -> QuadraticForm:
        """The fitted accuracy form (of ``val_acc``)."""
        return self.calibration.models[OBJECTIVE]

    def explain(self, **kw: Any):
        """``iqnas.explain`` of the accuracy form, with flash and peak-RAM layers as
        resources: the data groups' main effects and their interactions with ``conv``."""
        from iqnas.interpret import explain

        return explain(self.model, resources={n: self.forms[n] for n in (FLASH, *RAM_LAYERS)},
                       **kw)

    def samples(self):
        """Every trained network of the run's store (calibration and final answers)."""
        with SampleStore(self.calibration.store_path, self.calibration.space) as st:
            return st.samples()

    def frame(self):
        """The rows as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.rows)


def fixed_input_rows(space: SearchSpace, fixed: dict[str, str] = FIXED_INPUT
                     ) -> list[LinearConstraint]:
    """One linear row per data group pinning it to its option in ``fixed``."""
    rows = []
    for group, option in fixed.items():
        coef = np.zeros(space.n_vars)
        gi = space.group_index(group)
        coef[space.offsets[gi] + space.option_index(gi, option)] = 1.0
        rows.append(LinearConstraint(f"{group}={option}", coef, 1.0, 1.0))
    return rows


def problem_for(space: SearchSpace, model: QuadraticForm, forms: dict[str, QuadraticForm],
                flash_budget: float, ram_budget: float, mode: str) -> Problem:
    """Maximise ``model`` with flash <= ``flash_budget`` and each layer's RAM <= ``ram_budget``;
    ``mode="architecture-only"`` pins the input to :data:`FIXED_INPUT`."""
    if mode not in MODES:
        raise InputError(f"mode {mode!r} is unknown; use {' or '.join(MODES)}")
    cons = {FLASH: (forms[FLASH], flash_budget), **ram_constraints(forms, ram_budget)}
    rows = fixed_input_rows(space) if mode == "architecture-only" else []
    return Problem(space, model, cons, linear_constraints=rows, name=mode)


def check_budgets(flash_budgets: Sequence[float], ram_budget: float) -> list[float]:
    budgets = [float(b) for b in flash_budgets]
    if not budgets:
        raise InputError("give at least one flash budget")
    for b in (*budgets, float(ram_budget)):
        if not math.isfinite(b) or b <= 0:
            raise InputError(f"budget {b:g} must be a positive number of bytes")
    return budgets


def run_data_aware(flash_budgets: Sequence[float] = DEFAULT_FLASH_BUDGETS,
                   ram_budget: float = DEFAULT_RAM_BUDGET, *, n_samples: int = 48,
                   epochs: int = 20, top_k: int = 3, seed: int = 0,
                   store: str | Path | None = None, executor=None,
                   progress: bool | None = None, solver: str = "scip") -> DataAwareRun:
    """Calibrate on ``n_samples`` trained networks, then solve both modes at every flash
    budget (see the module docstring). ``store`` keeps every trained network (a rerun with
    the same store trains nothing again)."""
    t0 = time.perf_counter()
    budgets = check_budgets(flash_budgets, ram_budget)
    for name, value in (("n_samples", n_samples), ("epochs", epochs), ("top_k", top_k)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{name} must be an integer >= 1, got {value!r}")
    space = spaces.get(digits.SPACE)
    oracle = digits.oracle(epochs=epochs, seed=seed)
    forms = resource_forms(space)
    cal = calibrate(space, oracle, OBJECTIVE, None, n_samples, method="regression",
                    selection="random", initial="stratified", seed=seed, store=store,
                    extra_metrics=["test_acc"], progress=progress, executor=executor)
    model = cal.models[OBJECTIVE]
    rows, problems = [], {}
    with SampleStore(cal.store_path, space, settings=store_settings(cal.settings),
                     seed=seed) as st:
        for budget in budgets:
            for mode in ("architecture-only", "data-aware"):  # data-aware sees both's networks
                problem = problem_for(space, model, forms, budget, ram_budget, mode)
                problems[(budget, mode)] = problem
                answers = solve_top_k(problem, top_k, solver, seed=seed)
                found = [r.architecture for r in answers if r.feasible]
                if found:
                    measure_batch(oracle, found, st, executor=executor, round=len(cal.history),
                                  source="final", progress=False, ordered=True)
                rows.append(_row(problem, answers[0], st.samples(), ram_budget))
    return DataAwareRun(rows, cal, forms, float(ram_budget), time.perf_counter() - t0, problems)


def _row(problem: Problem, first, samples, ram_budget: float) -> dict[str, Any]:
    flash_budget = problem.constraint(FLASH).budget
    row: dict[str, Any] = {"mode": problem.name, "flash_budget": flash_budget,
                           "ram_budget": ram_budget, "status": first.status.value}
    empty = {"key": None, "predicted_acc": None, "test_acc": None, "flash_bytes": None,
             "ram_bytes": None}
    if not first.feasible:
        row.update(empty)
        row["smallest_flash"] = smallest_achievable(problem, FLASH)
        row["message"] = first.message
        return row
    space = problem.space
    choices = np.array([space.parse_key(k).choices for k in samples["key"]])
    ok = problem.feasible(choices)
    if not ok.any():  # the answers' trainings failed (recorded in the store)
        row.update(empty)
        row["message"] = "no network within the budgets was trained successfully"
        return row
    best = int(np.flatnonzero(ok)[np.argmax(samples[OBJECTIVE].to_numpy()[ok])])
    arch = space.parse_key(samples["key"].iloc[best])
    row.update(_network(problem, arch, samples.iloc[best]))
    row["iqp_key"] = first.architecture.key
    return row


def _network(problem: Problem, arch: Architecture, sample) -> dict[str, Any]:
    from iqnas.builders.digits import build

    fp = exported_footprint(build(arch), int(arch["bits"]))
    flash_budget = problem.constraint(FLASH).budget
    ram_budget = problem.constraint(RAM_LAYERS[0]).budget
    return {"key": arch.key, "predicted_acc": float(problem.objective(arch)),
            "val_acc": float(sample[OBJECTIVE]), "test_acc": float(sample["test_acc"]),
            "flash_bytes": fp[FLASH], "ram_bytes": fp["ram_bytes"],
            "macs": fp["macs"], "input_bytes": fp["input_bytes"],
            "within_budget": bool(within_budget(fp[FLASH], flash_budget)
                                  and within_budget(fp["ram_bytes"], ram_budget)),
            **arch.split_choices()}
