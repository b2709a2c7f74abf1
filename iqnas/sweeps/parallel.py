"""Run chunks of a sweep: in this process (one job) or one process per chunk (several jobs).

Workers send each finished point back over a queue, so the parent (the single writer of the
sweep file) records points as they finish, not only when a whole chunk is done.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_mod
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from iqnas.sweeps.points import SweepPoint
from iqnas.sweeps.rows import SweepRow
from iqnas.sweeps.runner import Chunk, solve_chunk

_QUEUE = None  # the worker's end of the results queue (set by _init_worker)
_POLL = 0.05   # seconds between checks of the queue and the workers
_PARENT_CHECK = 0.5  # seconds between a worker's checks that its parent is alive


def split(points: Sequence[SweepPoint], n: int) -> list[tuple[SweepPoint, ...]]:
    """``points`` (sorted) cut into at most ``n`` contiguous runs of near-equal length."""
    n = max(1, min(int(n), len(points)))
    size, extra = divmod(len(points), n)
    out, start = [], 0
    for k in range(n):
        stop = start + size + (k < extra)
        out.append(tuple(points[start:stop]))
        start = stop
    return [c for c in out if c]


def run_chunks(chunks: Sequence[Chunk], jobs: int, on_row: Callable[[SweepRow], None]) -> None:
    """Solve every chunk; ``on_row`` is called in this process once per finished point."""
    if jobs <= 1 or len(chunks) <= 1:
        for chunk in chunks:
            solve_chunk(chunk, on_row)
        return
    ctx = multiprocessing.get_context()
    results = ctx.Queue()
    seen: set[int] = set()

    def deliver(row: SweepRow) -> None:
        if row.point not in seen:
            seen.add(row.point)
            on_row(row)

    pool = ProcessPoolExecutor(max_workers=min(jobs, len(chunks)), mp_context=ctx,
                               initializer=_init_worker, initargs=(results,))
    failure: BaseException | None = None
    clean = False
    try:
        pending: set[Future] = {pool.submit(_work, c) for c in chunks}
        while pending:
            _drain(results, deliver, block=True)
            finished, pending = wait(pending, timeout=0, return_when=FIRST_COMPLETED)
            for fut in finished:
                if fut.exception() is not None:  # keep the other chunks' points, then raise
                    failure = failure or fut.exception()
                    continue
                for row in fut.result():
                    deliver(row)
        _drain(results, deliver, block=False)
        clean = True
    finally:
        if not clean:  # interrupted: stop the workers now rather than after their chunks
            procs = getattr(pool, "_processes", None) or {}
            for proc in list(procs.values()):
                proc.terminate()
        pool.shutdown(wait=clean, cancel_futures=True)
        results.close()
        if clean:
            results.join_thread()
    if failure is not None:
        raise failure


def _drain(results, deliver: Callable[[SweepRow], None], block: bool) -> None:
    try:
        row = results.get(timeout=_POLL) if block else results.get_nowait()
        while True:
            deliver(row)
            row = results.get_nowait()
    except queue_mod.Empty:
        pass


def _init_worker(results) -> None:
    global _QUEUE
    _QUEUE = results
    parent = os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """End this worker soon after its parent dies (e.g. the sweep was killed): nobody would
    read its answers, and it would otherwise wait for work forever."""
    while os.getppid() == parent:
        time.sleep(_PARENT_CHECK)
    os._exit(1)


def _work(chunk: Chunk) -> list[SweepRow]:
    return solve_chunk(chunk, _QUEUE.put)
