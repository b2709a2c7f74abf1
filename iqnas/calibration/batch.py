"""``measure_batch``: measure a batch of architectures through an executor into a sample store.

Results are written in the calling process as they arrive (workers never touch the store), one
transaction per sample, so an interrupted batch keeps every finished sample and a rerun with
the same store measures only what is missing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from iqnas._progress import status_bar
from iqnas.calibration.provenance import record_oracle
from iqnas.calibration.store import SampleStore
from iqnas.errors import InputError
from iqnas.executors import Executor, InProcessExecutor, Outcome
from iqnas.oracles.jobs import is_timed, measure_job
from iqnas.oracles.oracle import select_metrics
from iqnas.space import Architecture

log = logging.getLogger(__name__)


@dataclass
class BatchReport:
    """What one ``measure_batch`` call did.

    ``keys``: the distinct architectures asked for, in order; ``measured``: those stored by this
    call; ``cached``: those the store already held; ``failed``: key -> error of the failures this
    call recorded; ``skipped_failed``: earlier failures not tried again (``retry_failed=False``);
    ``retried``: jobs run again because their worker died.
    """

    keys: list[str]
    measured: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped_failed: list[str] = field(default_factory=list)
    retried: int = 0
    elapsed: float = 0.0
    executor: str = ""

    def summary(self) -> str:
        """One line: how many were measured, cached, failed, retried, and how fast."""
        parts = [f"{len(self.measured)} measured"]
        if self.cached:
            parts.append(f"{len(self.cached)} already in the store")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        if self.skipped_failed:
            parts.append(f"{len(self.skipped_failed)} earlier failures skipped")
        if self.retried:
            parts.append(f"{self.retried} job{'s' if self.retried != 1 else ''} retried after "
                         "a worker died")
        rate = (60.0 * len(self.measured) / self.elapsed) if self.elapsed > 0 else 0.0
        return (f"{len(self.keys)} architectures: " + ", ".join(parts)
                + f" in {self.elapsed:.1f} s ({rate:.1f} networks/min, {self.executor})")


def measure_batch(oracle: Any, archs: Iterable[Architecture | str], store: SampleStore, *,
                  executor: Executor | None = None, metrics: Sequence[str] | None = None,
                  progress: bool | None = None, round: int = 0,
                  source: str | Mapping[str, str] = "measure",
                  retry_failed: bool = False, ordered: bool = False) -> BatchReport:
    """Measure ``archs`` with ``oracle`` through ``executor`` (default in-process) into
    ``store``.

    ``metrics`` (None = every metric of the oracle) must be the store's metric set once it has
    samples, or a subset of it (a partial measurement, e.g. resource-only: the samples hold only
    those metrics). Architectures the store holds with every metric asked for are not measured
    again; a recorded failure is not
    tried again unless ``retry_failed`` (it is then measured again; its attempts add up).
    Samples and failures are recorded with ``round`` and ``source`` (a string, or a mapping
    key -> source for per-architecture sources, "measure" for keys it lacks).
    Timed jobs (``oracle.timed(metrics)``, e.g. TorchOracle's latency) run one per worker
    slot. The progress bar shows done / running / failed; the retried and failed counts are
    logged and returned in the :class:`BatchReport`. ``ordered=True`` records the results in
    the order of ``archs`` (one that finishes early waits for those before it), so that the
    store's order, and whatever is fitted from it, does not depend on the executor; an
    interrupted batch then keeps the finished prefix.
    """
    t0 = time.perf_counter()
    space = store.space
    oracle_space = _space_of(oracle)
    if oracle_space is not None and oracle_space.name != space.name:
        raise InputError(f"the oracle measures space {oracle_space.name!r}, the store holds "
                         f"space {space.name!r}")
    wanted = select_metrics(list(oracle.metrics), metrics, getattr(oracle, "name", "oracle"))
    stored = store.metrics
    partial = bool(stored) and set(wanted) < set(stored)
    if stored and set(stored) != set(wanted) and not partial:
        raise InputError(f"store {store.path} holds metrics {', '.join(sorted(stored))}; this "
                         f"batch measures {', '.join(sorted(wanted))}; pick another store or "
                         "the same metrics")
    if isinstance(archs, (str, Architecture)):
        raise InputError("measure_batch needs a list of architectures")
    chosen: dict[str, Architecture] = {}
    for a in archs:
        arch = space.to_arch(a)
        chosen.setdefault(arch.key, arch)
    executor = check_executor(executor)
    report = BatchReport(list(chosen), executor=executor.describe())
    todo: list[Architecture] = []
    #: what each architecture still lacks: a sample that holds some of the metrics (e.g. a
    #: resource look-up) gains the others, and what it holds is not measured again (a second
    #: wall-clock timing differs from the first, and the store refuses conflicting values)
    missing: dict[str, list[str]] = {}
    for key, arch in chosen.items():
        have = store.get(key)
        if have is not None and set(wanted) <= set(have):
            report.cached.append(key)
        elif not retry_failed and store.failure(key) is not None:
            report.skipped_failed.append(key)
        else:
            todo.append(arch)
            missing[key] = [m for m in wanted if have is None or m not in have]
    if report.skipped_failed:
        log.info("%d architectures failed in an earlier run and are skipped "
                 "(retry_failed=True / --retry-failed measures them again)",
                 len(report.skipped_failed))
    sources = dict(source) if isinstance(source, Mapping) else {}
    default_source = source if isinstance(source, str) else "measure"
    record_oracle(store, oracle, wanted)
    retried_before = executor.retried
    jobs = [(oracle, arch, missing[arch.key]) for arch in todo]
    waiting: dict[int, Outcome] = {}
    next_index = 0

    def record(outcome: Outcome) -> None:
        arch = todo[outcome.index]
        src = sources.get(arch.key, default_source)
        status, value = ("error", outcome.error) if not outcome.ok else outcome.value
        if status == "ok":
            store.add(arch, value, round=round, source=src,
                      partial=partial or len(missing[arch.key]) < len(wanted))
            report.measured.append(arch.key)
        else:
            log.info("measuring %s failed: %s", arch.key, value)  # one summary warning below
            store.add_failure(arch, str(value), round=round, source=src,
                              attempts=outcome.attempts)
            report.failed[arch.key] = str(value)

    with status_bar(progress, f"measuring ({executor.describe()})", len(jobs)) as update:
        update(0, 0, 0)
        for outcome in executor.imap(measure_job, jobs, exclusive=is_timed(oracle, wanted)):
            if not ordered:
                record(outcome)
            else:
                waiting[outcome.index] = outcome
                while next_index in waiting:
                    record(waiting.pop(next_index))
                    next_index += 1
            update(len(report.measured) + _ok(waiting), executor.in_flight,
                   len(report.failed) + len(waiting) - _ok(waiting))
    report.retried = executor.retried - retried_before
    report.elapsed = time.perf_counter() - t0
    if report.retried or report.failed:
        example = next(iter(report.failed.items()), None)
        log.warning("%d of %d measurement(s) failed%s, %d job(s) retried after a worker died "
                    "(failures recorded in %s; -v lists each)", len(report.failed), len(jobs),
                    f" (e.g. {example[0]}: {example[1]})" if example else "", report.retried,
                    store.path)
    log.info("%s", report.summary())
    return report


def _ok(outcomes: Mapping[int, Outcome]) -> int:
    """How many of the held-back outcomes are measurements (for the progress bar)."""
    return sum(1 for o in outcomes.values() if o.ok and o.value[0] == "ok")


def check_executor(executor: Any) -> Executor:
    """``executor`` if it is an Executor, an InProcessExecutor for None, else InputError."""
    if executor is None:
        return InProcessExecutor()
    if not isinstance(executor, Executor):
        raise InputError(f"executor must be an iqnas.executors Executor (InProcessExecutor, "
                         f"ProcessExecutor, DaskExecutor or make_executor(...)), got "
                         f"{type(executor).__name__}")
    return executor


def _space_of(oracle: Any) -> Any:
    try:
        return oracle.space
    except InputError:  # a FunctionOracle without a space measures the store's architectures
        return None
