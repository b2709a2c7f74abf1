"""Which oracle column measures each training-free metric."""

from __future__ import annotations

from collections.abc import Sequence

from iqnas.errors import InputError
from iqnas.space import SearchSpace

DEFAULT_METRICS = ("naswot", "logsynflow", "skip")
#: the combined score's column in ``TrainingFreeRun.samples``
SCORE = "score"
#: column names of ``samples`` that metrics and budgets may not take
RESERVED = (SCORE, "key", "source", "feasible")


def resolve_columns(oracle, metrics: Sequence[str]) -> dict[str, str | None]:
    """Oracle column of each training-free metric (None: computed from the architecture).

    An exact column (``ProxyOracle``'s ``naswot``), else ``<name>_<dataset suffix>`` (``naswot``
    -> ``naswot_c100`` for ``nb201("cifar100")``, as FreeREA uses the metrics cached per
    dataset); ``skip`` without a column is computed from the architecture (nb201 only).
    """
    if isinstance(metrics, str) or not len(metrics):
        raise InputError("metrics must be a non-empty list of names, e.g. "
                         "('naswot', 'logsynflow', 'skip')")
    have = list(oracle.metrics)
    suffix = _dataset_suffix(oracle)
    out: dict[str, str | None] = {}
    for m in metrics:
        if not isinstance(m, str) or not m:
            raise InputError(f"metric names must be non-empty strings, got {m!r}")
        if m in out:
            raise InputError(f"metric {m!r} is listed twice")
        if m in RESERVED:
            raise InputError(f"metric name {m!r} is reserved; use the oracle's column name")
        if m in have:
            out[m] = m
        elif suffix and f"{m}_{suffix}" in have:
            out[m] = f"{m}_{suffix}"
        elif m == "skip":
            if oracle.space.name != "nb201":
                raise InputError(f"the skip metric is defined for nb201 only; drop 'skip' from "
                                 f"metrics for space {oracle.space.name!r}")
            out[m] = None
        else:
            near = [c for c in have if c.startswith(m + "_")]
            hint = f" (columns: {', '.join(near)})" if near else ""
            raise InputError(f"metric {m!r} is not measured by oracle {oracle.name!r}{hint}; "
                             f"give an exact column name")
    return out


def default_metrics(space: SearchSpace) -> tuple[str, ...]:
    """naswot, logsynflow and skip on nb201; naswot and logsynflow elsewhere."""
    return DEFAULT_METRICS if space.name == "nb201" else ("naswot", "logsynflow")


def _dataset_suffix(oracle) -> str | None:
    from iqnas.oracles.nb201 import DATASETS

    return DATASETS.get(getattr(oracle, "dataset", None) or "")
