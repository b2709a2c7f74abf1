"""Measurement oracles: the embedded NAS-Bench-201 table, OFA MobileNetV3 and user CSV files.

``iqnas.benchmarks.nb201(dataset)`` and ``iqnas.benchmarks.csv_oracle(path, space)`` return an
:class:`Oracle`. Nothing is read until an oracle is built. The functions ``nb201`` and
``csv_oracle`` shadow the modules of the same name as attributes of this package; import from the
modules with ``from iqnas.benchmarks.nb201 import NB201Oracle``.
"""

from __future__ import annotations

from iqnas.benchmarks.csv_oracle import CsvOracle, MeasurementTable, read_measurements
from iqnas.benchmarks.csv_oracle import csv_oracle as _csv_oracle
from iqnas.benchmarks.nb201 import NB201Oracle
from iqnas.benchmarks.nb201 import nb201 as _nb201
from iqnas.benchmarks.ofa import OFABenchmark, ofa_latency_form, resolution_constraint
from iqnas.benchmarks.ofa import ofa as _ofa
from iqnas.benchmarks.oracle import Oracle

# the functions share their names with their modules; bind them last so they win
nb201 = _nb201
csv_oracle = _csv_oracle
ofa = _ofa

__all__ = ["CsvOracle", "MeasurementTable", "NB201Oracle", "OFABenchmark", "Oracle", "csv_oracle",
           "nb201", "ofa", "ofa_latency_form", "read_measurements", "resolution_constraint"]
