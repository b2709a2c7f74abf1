"""The executor interface: run a batch of jobs somewhere, stream their outcomes back."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Outcome:
    """How job ``index`` ended: its ``value``, or ``error`` (one line) after ``attempts`` runs."""

    index: int
    value: Any = None
    error: str | None = None
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.error is None


class Executor(ABC):
    """Runs ``fn(*job)`` for every job of a batch and yields an :class:`Outcome` per job as it
    finishes (in completion order), in the calling process.

    A job whose worker process dies is run again up to ``retries`` times and then reported as
    failed; ``retried`` counts those re-runs over the executor's life and ``in_flight`` is the
    number of jobs running (or sent to a worker) right now. An exception raised by ``fn`` is
    a failed outcome with its text, never retried. ``exclusive=True`` runs at most one job per
    worker slot at a time (timings must not disturb each other). Executors are context
    managers; ``close()`` frees their workers.
    """

    name = "executor"

    def __init__(self, retries: int = 1) -> None:
        from iqnas.errors import InputError

        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise InputError(f"retries must be an integer >= 0, got {retries!r}")
        self.retries = retries
        self.retried = 0
        self.in_flight = 0

    @abstractmethod
    def imap(self, fn: Callable[..., Any], jobs: Sequence[tuple],
             exclusive: bool = False) -> Iterator[Outcome]:
        """Outcomes of ``fn(*jobs[i])`` as they finish."""

    @property
    def slots(self) -> int:
        """How many jobs run at the same time."""
        return 1

    def describe(self) -> str:
        return self.name

    def close(self) -> None:  # noqa: B027 - nothing to free by default
        """Free the workers (nothing to do for in-process execution)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()!r})"
