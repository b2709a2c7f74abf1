"""What a report is made of, read and checked before anything is computed: the calibration run
(store and models), its oracle when it can be rebuilt, the sweep, and where to write."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from iqnas.errors import InputError
from iqnas.reporting.html import check_writable

log = logging.getLogger(__name__)


@dataclass
class ReportInputs:
    """``run`` is a :class:`~iqnas.calibration.CalibrationRun`; ``oracle`` the run's oracle if
    it could be rebuilt (``oracle_how`` says how, or why not); ``meta`` the store's metadata;
    ``failures`` its failed measurements; ``sweep`` a :class:`~iqnas.sweeps.Sweep` or None."""

    run: Any
    oracle: Any
    oracle_how: str
    meta: dict
    failures: pd.DataFrame
    sweep: Any
    out: Path
    models_dir: Path | None


def load_inputs(store, models=None, sweep=None, out="report.html") -> ReportInputs:
    """Check ``out``, read the store and models, rebuild the oracle and read the sweep; every
    problem is an InputError before any work."""
    from iqnas.calibration import CalibrationRun, load_run
    from iqnas.calibration.provenance import rebuild_oracle
    from iqnas.calibration.store import open_store
    from iqnas.sweeps import Sweep, load_sweep
    from iqnas.sweeps.load import read_header

    out = check_writable(out)
    if isinstance(store, CalibrationRun):
        run = store
        path = run.store_path
        if models is not None:
            raise InputError("models= applies to a store path; a CalibrationRun has its models")
    else:
        path = Path(store)
        run = None
    with open_store(path) as st:
        meta, failures = st.meta, st.failures()
    if run is None:
        run = load_run(path, models)
    if sweep is not None and not isinstance(sweep, Sweep):
        head = read_header(sweep)  # missing or not a sweep file: fails here
        if head.get("space") != run.space.name:
            raise InputError(f"sweep file {sweep} is over space {head.get('space')!r}, the "
                             f"store holds samples of {run.space.name!r}")
    oracle, how = rebuild_oracle(meta.get("oracle"), run.space, run.settings.get("metrics", ()),
                                 run.objective)
    if sweep is not None and not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep, run.models, oracle, objective=run.objective,
                           budgets=run.scenarios[0],
                           objective_metric=run.objective if oracle is not None else None)
    elif sweep is not None and sweep.problem.space.name != run.space.name:
        raise InputError(f"the sweep is over space {sweep.problem.space.name!r}, the store "
                         f"holds samples of {run.space.name!r}")
    models_dir = Path(models) if isinstance(models, (str, Path)) else None
    return ReportInputs(run, oracle, how, meta, failures, sweep, out, models_dir)
