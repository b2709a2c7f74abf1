"""SCIP's optimize, stoppable by Ctrl-C at once.

SCIP checks for an interrupt between its own steps only: a long root LP runs on for seconds
after Ctrl-C. So the solve runs in a helper thread with the GIL released while the main thread
waits; Ctrl-C raises KeyboardInterrupt in the main thread at once, SCIP is told to stop, and
the caller gets the interrupt without waiting for the LP in progress.
"""

from __future__ import annotations

import threading

#: seconds between the main thread's checks for Ctrl-C while SCIP solves
POLL = 0.05


def optimize(model) -> None:
    """``model.optimize()``, interruptible by Ctrl-C (KeyboardInterrupt) within ``POLL`` s."""
    if threading.current_thread() is not threading.main_thread() \
            or not hasattr(model, "optimizeNogil"):
        model.optimize()  # signals reach the main thread only
        return
    model.setParam("misc/catchctrlc", False)  # Python keeps its SIGINT handler
    errors: list[BaseException] = []

    def run() -> None:
        try:
            model.optimizeNogil()
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    worker = threading.Thread(target=run, name="iqnas-scip", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(POLL)
    except KeyboardInterrupt:
        model.interruptSolve()  # the helper thread stops at SCIP's next check and exits
        raise KeyboardInterrupt("the SCIP solve was interrupted (Ctrl-C)") from None
    if errors:
        raise errors[0]
