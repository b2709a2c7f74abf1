"""Shared test setup: make the repository root importable (for ``benchmarks.instances``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# small linear algebra: one BLAS thread avoids oversubscribing the 2-core machine
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def one_torch_thread():
    """One torch intra-op thread: far faster than two on a shared, oversubscribed 2-core
    machine. Use with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
