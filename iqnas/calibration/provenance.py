"""What measured a store's samples: the oracle's description in the store's ``meta`` table
(``"oracle"``: name, type, whether it is a table of the whole space, its dataset) and each
metric's unit (``"units"``), so that a report can say what was measured and, for a table
oracle, rebuild it for the random-search baseline and the true front."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

log = logging.getLogger(__name__)

#: oracle types ``rebuild_oracle`` can build again from their record
REBUILDABLE = ("NB201Oracle", "OFABenchmark")


def describe_oracle(oracle: Any) -> dict[str, Any]:
    """A JSON-able description of ``oracle``: name, type, ``table`` (its table lists every
    architecture of the space) and ``dataset`` (None if it has none)."""
    dataset = getattr(oracle, "dataset", None)
    return {"name": str(getattr(oracle, "name", "oracle")), "type": type(oracle).__name__,
            "table": bool(getattr(oracle, "exhaustive", False)),
            "dataset": dataset if isinstance(dataset, str) else None}


def record_oracle(store, oracle: Any, metrics: Sequence[str] | None = None) -> None:
    """Record ``describe_oracle(oracle)`` and the units of ``metrics`` (default all) in
    ``store``; units already recorded are kept."""
    record = describe_oracle(oracle)
    if store.get_meta("oracle") != record:
        store.set_meta("oracle", record)
    units = dict(getattr(oracle, "units", {}) or {})
    wanted = set(units if metrics is None else metrics)
    current = store.units
    new = {m: u for m, u in units.items() if m in wanted and u and m not in current}
    if new:
        store.set_meta("units", {**current, **new})


def rebuild_oracle(record: Mapping[str, Any] | None, space, metrics: Sequence[str] = (),
                   objective: str | None = None) -> tuple[Any, str]:
    """The oracle a store's record describes, and how it was found: ``(oracle, "recorded")``,
    ``(oracle, "inferred ...")`` for stores without a record whose space and metric names
    identify a built-in table (nb201, ofa), or ``(None, reason)``."""
    from iqnas import oracles

    if record:
        kind = record.get("type")
        if kind == "NB201Oracle":
            return oracles.nb201(record.get("dataset") or "cifar100"), "recorded"
        if kind == "OFABenchmark":
            return oracles.ofa(), "recorded"
        return None, (f"the oracle {record.get('name')!r} ({kind}) cannot be rebuilt by the "
                      "report")
    names = set(metrics)
    if space.name == "nb201":
        table = oracles.nb201()
        if names and names <= set(table.metrics):
            suffix = (objective or "").rpartition("_")[2]
            dataset = {"c10": "cifar10", "c100": "cifar100", "in16": "ImageNet16-120"}.get(
                suffix, "cifar100")
            return oracles.nb201(dataset), "inferred from the space and metric names"
    if space.name == "ofa":
        ofa = oracles.ofa()
        if names and names <= set(ofa.metrics):
            return ofa, "inferred from the space and metric names"
    return None, "the store does not record its oracle"
