"""Shared test setup: make the repository root importable (for ``benchmarks.instances``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# small linear algebra: one BLAS thread avoids oversubscribing the 2-core machine
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
