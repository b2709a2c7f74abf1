"""Measurer: measures batches of architectures once each through an executor, counting
evaluations and keeping the rows and the failures."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from iqnas._callables import one_line
from iqnas._progress import status_bar
from iqnas.calibration.batch import check_executor
from iqnas.calibration.proxies import skip_score
from iqnas.errors import IqnasError
from iqnas.oracles.function_oracle import check_values
from iqnas.quadform import QuadraticForm
from iqnas.space import Architecture

log = logging.getLogger(__name__)


def metric_job(oracle: Any, arch: Architecture, columns: Sequence[str],
               budgeted: Sequence[str]) -> tuple[str, Any]:
    """One evaluation: ``("ok", {column: value})`` or ``("error", one-line message)``.

    Training-free metric columns keep any float the oracle gives (NASWOT is ``-inf`` on some
    cells, and the combined score handles it); a budgeted metric must be a finite number, else
    the measurement failed."""
    try:
        values = oracle.measure(arch)
        out = {c: float(values[c]) for c in columns}
        out.update(check_values(values, budgeted, arch.key, getattr(oracle, "name", "oracle")))
        return "ok", out
    except IqnasError as exc:
        return "error", str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    except Exception as exc:
        return "error", f"measuring {arch.key}: {one_line(exc)}"


class Measurer:
    """Measures architectures once each, counting evaluations and keeping the rows.

    Only the metric columns and the measured budgeted metrics are read from the oracle's answer;
    budgeted metrics in ``form_only`` take their form's value. Batches run through ``executor``
    (default in-process); rows are kept in the order the batch was given, whatever order the
    results arrive in. A failed measurement (an error, or a budgeted metric that is not a
    finite number) is kept in ``failures`` (architecture -> error), never as a row.
    """

    def __init__(self, oracle, columns: Mapping[str, str | None], budgeted: Sequence[str],
                 form_only: Mapping[str, QuadraticForm], executor=None,
                 progress: bool | None = None):
        self.oracle = oracle
        self.columns = dict(columns)
        self.budgeted = list(budgeted)
        self.form_only = dict(form_only)
        self.executor = check_executor(executor)
        self.progress = progress
        self.rows: dict[Architecture, dict] = {}
        self.failures: dict[Architecture, str] = {}
        self.n_evaluations = 0
        self._oracle_columns = list(dict.fromkeys(c for c in self.columns.values()
                                                  if c is not None))
        self._oracle_budgets = [m for m in self.budgeted if m not in self.form_only]

    def measure(self, arch: Architecture, source: str) -> dict | None:
        """The row of one architecture (measured now unless known); None if it failed."""
        self.measure_many([arch], source)
        return self.rows.get(arch)

    def measure_many(self, archs: Iterable[Architecture], source: str) -> list[Architecture]:
        """Measure the architectures not measured (or failed) yet as one batch; returns those
        measured now, in order."""
        todo = [a for a in dict.fromkeys(archs) if a not in self.rows and a not in self.failures]
        if not todo:
            return []
        results: dict[int, dict[str, float]] = {}
        jobs = [(self.oracle, a, self._oracle_columns, self._oracle_budgets) for a in todo]
        failed = 0
        with status_bar(self.progress, f"measuring training-free metrics ({source}, "
                        f"{self.executor.describe()})", len(jobs)) as update:
            update(0, 0, 0)
            for outcome in self.executor.imap(metric_job, jobs):
                self.n_evaluations += outcome.attempts
                status, value = ("error", outcome.error) if not outcome.ok else outcome.value
                if status == "ok":
                    results[outcome.index] = value
                else:
                    arch = todo[outcome.index]
                    log.warning("measuring %s failed: %s", arch.key, value)
                    self.failures[arch] = str(value)
                    failed += 1
                update(len(results), self.executor.in_flight, failed)
        done = []
        for i, arch in enumerate(todo):
            if i in results:
                self.rows[arch] = self._row(arch, results[i], source)
                done.append(arch)
        return done

    def fill(self, candidates: Iterable[Architecture], n: int, source: str) -> None:
        """Measure ``candidates`` in order until ``n`` rows are kept (or they run out); a
        failure makes room for the next candidate."""
        pending = [a for a in dict.fromkeys(candidates)]
        while len(self.rows) < n:
            pending = [a for a in pending if a not in self.rows and a not in self.failures]
            if not pending:
                return
            batch, pending = pending[:n - len(self.rows)], pending[n - len(self.rows):]
            self.measure_many(batch, source)

    def _row(self, arch: Architecture, values: Mapping[str, float], source: str) -> dict:
        row: dict = {"key": arch.key}
        for m, col in self.columns.items():
            row[m] = skip_score(arch) if col is None else float(values[col])
        for m in self.budgeted:
            row[m] = float(self.form_only[m](arch) if m in self.form_only else values[m])
        row["source"] = source
        return row

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.rows.values()))
