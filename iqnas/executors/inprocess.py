"""In-process execution: the jobs run one after the other in the calling process."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from iqnas._callables import one_line
from iqnas.executors.base import Executor, Outcome


class InProcessExecutor(Executor):
    """Runs every job here, in order (the default). Nothing can die but the caller, so nothing
    is retried."""

    name = "in-process"

    def imap(self, fn: Callable[..., Any], jobs: Sequence[tuple],
             exclusive: bool = False) -> Iterator[Outcome]:
        for i, job in enumerate(jobs):
            self.in_flight = 1
            try:
                value = fn(*job)
            except Exception as exc:
                outcome = Outcome(i, error=one_line(exc))
            else:
                outcome = Outcome(i, value=value)
            self.in_flight = 0
            yield outcome
