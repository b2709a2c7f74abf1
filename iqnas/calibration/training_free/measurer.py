"""Measurer: measures architectures once each, counting evaluations and keeping the rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from iqnas.calibration.proxies import skip_score
from iqnas.quadform import QuadraticForm
from iqnas.space import Architecture


class Measurer:
    """Measures architectures once each, counting evaluations and keeping the rows.

    Only the metric columns and the measured budgeted metrics are read from the oracle's answer;
    budgeted metrics in ``form_only`` take their form's value.
    """

    def __init__(self, oracle, columns: Mapping[str, str | None], budgeted: Sequence[str],
                 form_only: Mapping[str, QuadraticForm]):
        self.oracle = oracle
        self.columns = dict(columns)
        self.budgeted = list(budgeted)
        self.form_only = dict(form_only)
        self.rows: dict[Architecture, dict] = {}
        self.n_evaluations = 0

    def measure(self, arch: Architecture, source: str) -> dict:
        if arch in self.rows:
            return self.rows[arch]
        values = self.oracle.measure(arch)
        self.n_evaluations += 1
        row: dict = {"key": arch.key}
        for m, col in self.columns.items():
            row[m] = skip_score(arch) if col is None else float(values[col])
        for m in self.budgeted:
            row[m] = float(self.form_only[m](arch) if m in self.form_only else values[m])
        row["source"] = source
        self.rows[arch] = row
        return row

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.rows.values()))
