"""Dask distributed execution: an embedded ``LocalCluster`` or an existing scheduler.

``distributed`` is imported when such an executor is made (``pip install 'iqnas[dask]'``).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from iqnas._callables import one_line
from iqnas.errors import InputError
from iqnas.executors.base import Executor, Outcome

log = logging.getLogger(__name__)

#: the worker resource an exclusive job holds: one per worker, so one such job per worker
RESOURCE = "measure"
_ADDRESS = re.compile(r"^(tcp|tls|ucx|inproc)://[^\s/]+$")


def _import_all(modules: list[str]) -> None:
    import importlib

    for name in modules:
        importlib.import_module(name)


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise InputError("Dask distributed is not installed; pip install 'iqnas[dask]'") from None
    return distributed


class DaskExecutor(Executor):
    """Jobs on Dask workers: ``workers=N`` starts an embedded ``distributed.LocalCluster`` (N
    worker processes, one thread each, resource ``measure=1`` each); ``scheduler=ADDR`` uses an
    existing cluster (unreachable within ``connect_timeout`` seconds: one-line InputError).

    Outcomes come back to the calling process as they finish; at most one job per slot is in
    flight (``slots``: workers holding the ``measure`` resource for exclusive jobs, worker
    threads otherwise), and exclusive jobs hold ``measure=1``, so timings never share a worker.
    A job whose worker dies is re-run up to ``retries`` times, then reported failed. The embedded
    cluster reports every death (``allowed-failures`` 0); an existing scheduler first retries on
    its own, as its ``distributed.scheduler.allowed-failures`` setting says. Workers of an
    existing cluster need the ``measure`` resource for exclusive jobs:
    ``dask worker ADDR --nthreads 1 --resources measure=1``.
    """

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None, *,
                 connect_timeout: float = 3.0, retries: int = 1) -> None:
        super().__init__(retries)
        if (workers is None) == (scheduler is None):
            raise InputError("give the Dask executor either workers=N (an embedded cluster) or "
                             "scheduler='tcp://HOST:PORT' (an existing one), not "
                             + ("both" if workers is not None else "neither"))
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                    or workers < 1):
            raise InputError(f"workers must be a positive integer, got {workers!r}")
        if scheduler is not None and (not isinstance(scheduler, str)
                                      or not _ADDRESS.match(scheduler.strip())):
            raise InputError(f"scheduler {scheduler!r}: expected an address like "
                             "tcp://HOST:PORT")
        distributed = _distributed()
        self._cluster = None
        self._quieted: list[tuple[logging.Logger, int]] = []
        if workers is not None:
            import dask

            # the embedded cluster's own logs (a worker restarted, a task lost with it) are
            # expected when a worker dies; this executor reports those events itself
            for name in ("distributed", "tornado"):
                logger = logging.getLogger(name)
                self._quieted.append((logger, logger.level))
                logger.setLevel(logging.CRITICAL)

            with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                self._cluster = distributed.LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True,
                    resources={RESOURCE: 1}, dashboard_address=None,
                    silence_logs=logging.CRITICAL)
            self._client = distributed.Client(self._cluster, set_as_default=False)
            self._client.wait_for_workers(workers)
            self.address = self._cluster.scheduler_address
        else:
            self.address = scheduler.strip()
            try:
                self._client = distributed.Client(self.address, timeout=connect_timeout,
                                                  set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise InputError(f"scheduler {self.address}: cannot reach a Dask scheduler "
                                 f"there ({one_line(exc)}); start one (dask scheduler) or use "
                                 "workers=N (--workers N)") from None

    def preload(self, *modules: str) -> None:
        """Import ``modules`` (e.g. ``"torch"``) on every worker now, so that the first jobs do
        not pay for it."""
        self._client.run(_import_all, list(modules))

    def _workers(self) -> dict[str, dict]:
        return dict(self._client.scheduler_info(n_workers=-1)["workers"])

    def slots_for(self, exclusive: bool) -> int:
        workers = self._workers()
        if exclusive:
            n = sum(1 for w in workers.values() if w.get("resources", {}).get(RESOURCE, 0) >= 1)
            if n == 0:
                raise InputError(f"scheduler {self.address}: no worker has the {RESOURCE!r} "
                                 "resource that timed jobs hold; start workers with "
                                 f"'dask worker {self.address} --nthreads 1 --resources "
                                 f"{RESOURCE}=1'")
            return n
        return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))

    @property
    def slots(self) -> int:
        return self.slots_for(False)

    def describe(self) -> str:
        kind = "embedded LocalCluster" if self._cluster is not None else "scheduler"
        return f"dask, {kind} {self.address}, {len(self._workers())} workers"

    def imap(self, fn: Callable[..., Any], jobs: Sequence[tuple],
             exclusive: bool = False) -> Iterator[Outcome]:
        distributed = _distributed()
        from distributed.scheduler import KilledWorker

        if not jobs:
            return
        slots = self.slots_for(exclusive)
        resources = {RESOURCE: 1} if exclusive else None
        token = uuid.uuid4().hex[:12]
        queue: deque[int] = deque(range(len(jobs)))
        attempts = [0] * len(jobs)
        running: dict[str, tuple[int, Any]] = {}
        completed = distributed.as_completed(loop=self._client.loop)

        def fill() -> None:
            while queue and len(running) < slots:
                i = queue.popleft()
                attempts[i] += 1
                fut = self._client.submit(fn, *jobs[i], key=f"iqnas-job-{token}-{i}-{attempts[i]}",
                                          pure=False, resources=resources)
                running[fut.key] = (i, fut)
                completed.add(fut)
            self.in_flight = len(running)

        fill()
        try:
            for fut in completed:
                i, _ = running.pop(fut.key)
                outcome = None
                try:
                    outcome = Outcome(i, value=fut.result(), attempts=attempts[i])
                except KilledWorker:
                    if attempts[i] <= self.retries:
                        self.retried += 1
                        log.warning("a Dask worker died while job %d ran (attempt %d); running "
                                    "it again", i, attempts[i])
                        queue.appendleft(i)
                    else:
                        outcome = Outcome(i, error=f"the Dask worker died {attempts[i]} times "
                                          "while running this job", attempts=attempts[i])
                except Exception as exc:
                    outcome = Outcome(i, error=one_line(exc), attempts=attempts[i])
                finally:
                    fut.release()
                fill()
                if outcome is not None:
                    yield outcome
        finally:
            if running:
                self._client.cancel([f for _, f in running.values()])
            self.in_flight = 0

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
        for logger, level in self._quieted:
            logger.setLevel(level)
        self._quieted = []
