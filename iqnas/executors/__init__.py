"""Executors: where a batch of measurements runs (in-process, a local process pool, Dask).

``make_executor(workers=None, scheduler=None)`` picks one the way the CLI's ``--workers`` /
``--scheduler`` do. ``distributed`` is imported only by the Dask executor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from iqnas.errors import InputError
from iqnas.executors.base import Executor, Outcome
from iqnas.executors.inprocess import InProcessExecutor
from iqnas.executors.process_pool import ProcessExecutor

if TYPE_CHECKING:
    from iqnas.executors.dask_cluster import DaskExecutor


def make_executor(workers: int | None = None, scheduler: str | None = None, *,
                  pool: bool = False, retries: int = 1, connect_timeout: float = 3.0) -> Executor:
    """In-process (neither given), an embedded Dask ``LocalCluster`` of ``workers`` processes
    (``pool=True``: a local process pool instead), or the Dask cluster at ``scheduler``."""
    if workers is not None and scheduler is not None:
        raise InputError("give workers (--workers) or scheduler (--scheduler), not both")
    if scheduler is not None:
        if pool:
            raise InputError("pool=True runs local processes; it takes workers, not a scheduler")
        from iqnas.executors.dask_cluster import DaskExecutor

        return DaskExecutor(scheduler=scheduler, connect_timeout=connect_timeout,
                            retries=retries)
    if workers is None:
        return InProcessExecutor(retries)
    if pool:
        return ProcessExecutor(workers, retries)
    from iqnas.executors.dask_cluster import DaskExecutor

    return DaskExecutor(workers=workers, retries=retries)


def __getattr__(attr: str) -> Any:
    if attr == "DaskExecutor":  # imports distributed only when asked for
        from iqnas.executors.dask_cluster import DaskExecutor

        return DaskExecutor
    raise AttributeError(f"module 'iqnas.executors' has no attribute {attr!r}")


__all__ = ["DaskExecutor", "Executor", "InProcessExecutor", "Outcome", "ProcessExecutor",
           "make_executor"]
