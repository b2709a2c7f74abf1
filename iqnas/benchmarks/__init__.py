"""Measurement oracles: the embedded NAS-Bench-201 table and user CSV files.

``iqnas.benchmarks.nb201(dataset)`` and ``iqnas.benchmarks.csv_oracle(path, space)`` return an
:class:`Oracle`. Nothing is read until an oracle is built.
"""

from __future__ import annotations

from iqnas.benchmarks.csv_oracle import CsvOracle, MeasurementTable, read_measurements
from iqnas.benchmarks.csv_oracle import csv_oracle as _csv_oracle
from iqnas.benchmarks.nb201 import NB201Oracle
from iqnas.benchmarks.nb201 import nb201 as _nb201
from iqnas.benchmarks.oracle import Oracle

# the functions share their names with their modules; bind them last so they win
nb201 = _nb201
csv_oracle = _csv_oracle

__all__ = ["CsvOracle", "MeasurementTable", "NB201Oracle", "Oracle", "csv_oracle", "nb201",
           "read_measurements"]
