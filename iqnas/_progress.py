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
