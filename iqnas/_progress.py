"""Progress bars for long work (rich), shown only on a terminal unless asked for."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def progress_bar(enabled: bool | None, description: str, total: int) -> Iterator[Callable]:
    """Yield an ``advance()`` callable; ``enabled=None`` shows the bar only on a terminal."""
    show = sys.stderr.isatty() if enabled is None else bool(enabled)
    if not show or total <= 0:
        yield lambda n=1: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


@contextlib.contextmanager
def status_bar(enabled: bool | None, description: str, total: int) -> Iterator[Callable]:
    """Yield ``update(done, running, failed)`` for a bar showing done / running / failed of
    ``total`` jobs; ``enabled=None`` shows it only on a terminal."""
    show = sys.stderr.isatty() if enabled is None else bool(enabled)
    if not show or total <= 0:
        yield lambda done, running, failed: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[done]} done, {task.fields[running]} running, "
                          "{task.fields[failed]} failed"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(description, total=total, done=0, running=0, failed=0)

        def update(done: int, running: int, failed: int) -> None:
            bar.update(task, completed=done + failed, done=done, running=running, failed=failed)

        yield update
