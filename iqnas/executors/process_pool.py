"""A local pool of worker processes (``concurrent.futures``, started with ``spawn``)."""

from __future__ import annotations

import logging
import pickle
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from iqnas._callables import one_line
from iqnas.errors import InputError
from iqnas.executors.base import Executor, Outcome

log = logging.getLogger(__name__)


class ProcessExecutor(Executor):
    """``workers`` local processes, one job each at a time.

    A process that dies takes the pool down with every job running in it; the pool is started
    again and those jobs are re-run one at a time, alone (so a job that kills its worker again
    is the one recorded as failed, not its neighbours). Jobs and ``fn`` must pickle (module-level
    functions; a builder or function given as ``"module:function"`` always does).
    """

    name = "process pool"

    def __init__(self, workers: int, retries: int = 1, start_method: str = "spawn") -> None:
        super().__init__(retries)
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise InputError(f"workers must be a positive integer, got {workers!r}")
        self.workers = workers
        self.start_method = start_method
        self._pool: ProcessPoolExecutor | None = None

    @property
    def slots(self) -> int:
        return self.workers

    def describe(self) -> str:
        return f"process pool, {self.workers} workers"

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            ctx = multiprocessing.get_context(self.start_method)
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        return self._pool

    def _restart(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = None

    def imap(self, fn: Callable[..., Any], jobs: Sequence[tuple],
             exclusive: bool = False) -> Iterator[Outcome]:
        if not jobs:
            return
        try:
            pickle.dumps((fn, jobs[0]))
        except Exception as exc:
            raise InputError(f"the jobs cannot be sent to worker processes ({one_line(exc)}); "
                             "define the function at module level or name it as "
                             "'module:function'") from None
        queue: deque[int] = deque(range(len(jobs)))
        alone: deque[int] = deque()
        attempts = [0] * len(jobs)
        running: dict[Future, int] = {}

        def submit(i: int) -> bool:
            """Start job ``i``; False when the pool broke under jobs still running (their
            futures report it, and the job waits for the restart)."""
            try:
                fut = self._get_pool().submit(fn, *jobs[i])
            except BrokenProcessPool:
                if running:
                    return False
                self._restart()
                fut = self._get_pool().submit(fn, *jobs[i])
            attempts[i] += 1
            running[fut] = i
            return True

        try:
            while queue or alone or running:
                if alone:
                    if not running:
                        submit(alone.popleft())
                else:
                    while queue and len(running) < self.workers:
                        i = queue.popleft()
                        if not submit(i):
                            queue.appendleft(i)
                            break
                self.in_flight = len(running)
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                died: list[int] = []
                for fut in done:
                    i = running.pop(fut)
                    try:
                        value = fut.result()
                    except BrokenProcessPool:
                        died.append(i)
                        continue
                    except Exception as exc:
                        yield Outcome(i, error=one_line(exc), attempts=attempts[i])
                        continue
                    yield Outcome(i, value=value, attempts=attempts[i])
                if not died:
                    continue
                died += list(running.values())  # the broken pool took them down too
                running.clear()
                self._restart()
                for i in sorted(died):
                    if attempts[i] <= self.retries:
                        self.retried += 1
                        log.warning("a worker process died while job %d ran (attempt %d); "
                                    "running it again, alone", i, attempts[i])
                        alone.append(i)
                    else:
                        yield Outcome(i, error=f"the worker process died {attempts[i]} times "
                                      "while running this job", attempts=attempts[i])
        finally:
            for fut in running:
                fut.cancel()
            self.in_flight = 0

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
