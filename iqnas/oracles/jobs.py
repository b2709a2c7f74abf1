"""One measurement as a job an executor can run anywhere: ``measure_job(oracle, arch, metrics)``.

The job never raises for a failed measurement: it returns ``("ok", values)`` or
``("error", message)``, so errors travel between processes as text.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from typing import Any

from iqnas._callables import one_line
from iqnas.errors import IqnasError
from iqnas.oracles.function_oracle import check_values

log = logging.getLogger(__name__)


def takes_metrics(oracle: Any) -> bool:
    """True when ``oracle.measure`` accepts ``metrics=`` (measures a subset itself)."""
    try:
        return "metrics" in inspect.signature(oracle.measure).parameters
    except (TypeError, ValueError):
        return False


def is_timed(oracle: Any, metrics: Sequence[str] | None) -> bool:
    """Whether measuring ``metrics`` times something (such jobs run one per machine slot)."""
    timed = getattr(oracle, "timed", None)
    return bool(timed(metrics)) if callable(timed) else False


def measure_metrics(oracle: Any, arch: Any, metrics: Sequence[str]) -> dict[str, float]:
    """``metrics`` of ``arch``, finite floats (MeasurementError otherwise)."""
    values = (oracle.measure(arch, metrics=list(metrics)) if takes_metrics(oracle)
              else oracle.measure(arch))
    key = getattr(arch, "key", str(arch))
    return check_values(values, metrics, key, getattr(oracle, "name", "oracle"))


def measure_job(oracle: Any, arch: Any, metrics: Sequence[str]) -> tuple[str, Any]:
    """``("ok", {metric: value})`` or ``("error", one-line message)``."""
    try:
        return "ok", measure_metrics(oracle, arch, metrics)
    except IqnasError as exc:
        return "error", str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    except Exception as exc:
        key = getattr(arch, "key", str(arch))
        log.debug("measuring %s failed", key, exc_info=True)
        return "error", f"measuring {key}: {one_line(exc)}"
