"""Shared test setup: one BLAS thread and the one-torch-thread fixture."""

from __future__ import annotations

import os

import pytest

# small linear algebra: one BLAS thread avoids oversubscribing the 2-core machine
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

@pytest.fixture
def one_torch_thread():
    """One torch intra-op thread: far faster than two on a shared, oversubscribed 2-core
    machine. Use with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
