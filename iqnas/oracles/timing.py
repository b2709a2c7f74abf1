"""Wall-clock latency of a callable: warm-up, repetitions, median and a robust spread.

Each repetition is timed twice: by the wall clock (``time.perf_counter_ns``, the latency) and
by the CPU time of the whole process (``time.process_time_ns``, all its threads). On a machine
shared with other work the CPU time is not stretched when the process is preempted, so it
estimates the latency on an idle core (with one torch thread; with more, it adds the threads up).
The spread is the interquartile range (75th minus 25th percentile) of the wall-clock
repetitions, in the same unit as the median. When it exceeds ``max_rel_spread`` times the
median, the callable is timed again with twice as many repetitions (pooled with the earlier
ones), up to ``max_rounds`` rounds in all; a spread that stays wide is logged and reported as it
is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from iqnas.errors import InputError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimingPolicy:
    """How a latency is measured (see the module docstring)."""

    warmup: int = 5
    repeats: int = 30
    max_rel_spread: float = 0.1
    max_rounds: int = 2

    def __post_init__(self) -> None:
        for name, low in (("warmup", 0), ("repeats", 3), ("max_rounds", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InputError(f"{name} must be an integer >= {low}, got {value!r}")
        if not (isinstance(self.max_rel_spread, (int, float)) and self.max_rel_spread > 0):
            raise InputError(f"max_rel_spread must be a number > 0, got {self.max_rel_spread!r}")

    def to_dict(self) -> dict:
        return {"warmup": self.warmup, "repeats": self.repeats,
                "max_rel_spread": float(self.max_rel_spread), "max_rounds": self.max_rounds}


@dataclass(frozen=True)
class Timing:
    """The wall-clock median and interquartile range and the CPU-time median (milliseconds)
    of ``n`` repetitions in ``rounds``."""

    median_ms: float
    spread_ms: float
    n: int
    rounds: int
    cpu_median_ms: float = float("nan")

    @property
    def rel_spread(self) -> float:
        return self.spread_ms / self.median_ms if self.median_ms > 0 else float("inf")


def summarize(samples_ms: np.ndarray) -> tuple[float, float]:
    """(median, interquartile range) of repetitions."""
    q25, q50, q75 = np.percentile(samples_ms, [25, 50, 75])
    return float(q50), float(q75 - q25)


def time_call(fn: Callable[[], object], policy: TimingPolicy = TimingPolicy(),
              what: str = "") -> Timing:
    """Time ``fn()`` under ``policy``: warm-up calls, then rounds of repetitions."""
    for _ in range(policy.warmup):
        fn()
    samples: list[float] = []
    cpu: list[float] = []
    n = policy.repeats
    for rnd in range(1, policy.max_rounds + 1):
        for _ in range(n):
            c0 = time.process_time_ns()
            t0 = time.perf_counter_ns()
            fn()
            t1 = time.perf_counter_ns()
            cpu.append((time.process_time_ns() - c0) / 1e6)
            samples.append((t1 - t0) / 1e6)
        median, spread = summarize(np.asarray(samples))
        timing = Timing(median, spread, len(samples), rnd, float(np.median(cpu)))
        if timing.rel_spread <= policy.max_rel_spread:
            return timing
        n *= 2
    log.info("latency of %s: the spread stayed wide (IQR %.3g ms = %.0f %% of the median "
                "%.3g ms after %d repetitions)", what or "a call", spread,
                100 * timing.rel_spread, median, timing.n)
    return timing
