"""Oracles: what measures a network (benchmark tables, CSV files, live proxies, ...).

``iqnas.oracles.get(name, space)`` builds an oracle by name (``names()`` lists them) or from a
``.csv`` file of measurements; ``nb201(dataset)``, ``ofa()`` and ``csv_oracle(path, space)`` build
the built-in ones directly. Nothing is read until an oracle is built. ``TorchOracle`` measures
built networks on this machine (``get("torch", space, input_shape=...)``); ``FunctionOracle``
wraps the user's own ``arch -> {metric: value}`` function (``get("module:function", space,
metrics=None)``: without ``metrics`` they are discovered from one first call).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iqnas.errors import InputError
from iqnas.oracles.csv_oracle import CsvOracle, MeasurementTable, read_measurements
from iqnas.oracles.csv_oracle import csv_oracle as _csv_oracle
from iqnas.oracles.function_oracle import FunctionOracle
from iqnas.oracles.nb201 import NB201Oracle
from iqnas.oracles.nb201 import nb201 as _nb201
from iqnas.oracles.ofa import OFABenchmark, ofa_latency_form, resolution_constraint
from iqnas.oracles.ofa import ofa as _ofa
from iqnas.oracles.oracle import Oracle
from iqnas.oracles.torch_oracle import TorchOracle

if TYPE_CHECKING:
    from iqnas.space import SearchSpace

# the functions share their names with their modules; bind them last so they win
nb201 = _nb201
csv_oracle = _csv_oracle
ofa = _ofa


def _proxies(space: SearchSpace | None, dataset: str | None = None, **kw: Any) -> Oracle:
    from iqnas.oracles.proxy import ProxyOracle

    if space is None:
        raise InputError("the proxies oracle needs a space (get('proxies', space))")
    if space.name == "nb201":
        kw.setdefault("dataset", dataset or "cifar100")
    kw.setdefault("num_threads", 1)
    return ProxyOracle(space, **kw)


def _torch(space: SearchSpace | None, dataset: str | None = None, **kw: Any) -> Oracle:
    if space is None:
        raise InputError("the torch oracle needs a space (get('torch', space, input_shape=...))")
    if "input_shape" not in kw:
        raise InputError("the torch oracle needs input_shape=(batch, channels, height, width), "
                         "e.g. (1, 3, 32, 32)")
    if dataset is not None:
        if kw.get("builder") is not None or space.name != "nb201":
            raise InputError("dataset applies to the built-in nb201 builder only")
        kw["dataset"] = dataset
    return TorchOracle(space, **kw)


def _table(factory: Callable[..., Oracle], takes_dataset: bool) -> Callable[..., Oracle]:
    def build(space: SearchSpace | None, dataset: str | None = None, **kw: Any) -> Oracle:
        if dataset is not None and not takes_dataset:
            raise InputError(f"{factory.__name__}() takes no dataset; --dataset applies to nb201")
        oracle = factory(dataset, **kw) if takes_dataset and dataset else factory(**kw)
        if space is not None and space.name != oracle.space.name:
            raise InputError(f"oracle {factory.__name__!r} measures space "
                             f"{oracle.space.name!r}, not {space.name!r}")
        return oracle

    return build


def _function(spec: str, space: SearchSpace | None, dataset: str | None = None,
              metrics: Any = None, **kw: Any) -> Oracle:
    from iqnas._callables import resolve_callable

    if space is None:
        raise InputError(f"oracle {spec!r} (a function) needs the space it measures")
    if dataset is not None:
        raise InputError("dataset applies to the nb201 oracle, not to a function")
    resolve_callable(spec, "oracle")
    if metrics is None:
        return FunctionOracle.discover(spec, space, what="oracle", **kw)
    return FunctionOracle(spec, metrics, space, **kw)


_REGISTRY: dict[str, Callable[..., Oracle]] = {
    "nb201": _table(_nb201, True),
    "ofa": _table(_ofa, False),
    "proxies": _proxies,
    "torch": _torch,
}


def names() -> list[str]:
    """Names ``get`` accepts (besides a path to a ``.csv`` file)."""
    return list(_REGISTRY)


def register(name: str, factory: Callable[..., Oracle]) -> None:
    """Add ``factory(space, dataset=None, **kw) -> Oracle`` under ``name``."""
    if name in _REGISTRY:
        raise InputError(f"an oracle named {name!r} is already registered")
    _REGISTRY[name] = factory


def is_function_spec(name: object) -> bool:
    """Whether ``name`` reads as ``"module:function"`` (not a registered name or a CSV file)."""
    return (isinstance(name, str) and name.count(":") == 1 and name not in _REGISTRY
            and not name.endswith(".csv"))


def get(name: str | Oracle, space: SearchSpace | str | None = None, *,
        dataset: str | None = None, **kw: Any) -> Oracle:
    """An oracle by name (``names()``), a CSV oracle from ``NAME.csv``, or a
    :class:`FunctionOracle` from ``"module:function"`` (``metrics=`` names what it returns;
    None: discovered from one call on the space's first architecture); an Oracle passes."""
    if isinstance(name, Oracle):
        return name
    if space is not None:
        from iqnas import spaces

        space = spaces.get(space)
    if not isinstance(name, str):
        raise InputError(f"oracle must be a name or an Oracle, got {type(name).__name__}")
    if is_function_spec(name):
        return _function(name, space, dataset, **kw)
    if name.endswith(".csv"):
        if space is None:
            raise InputError(f"a CSV oracle ({name}) needs the space its keys belong to")
        if dataset is not None:
            raise InputError("dataset applies to the nb201 oracle, not to a CSV file")
        if not Path(name).is_file():
            raise InputError(f"oracle CSV file not found: {name}")
        return _csv_oracle(name, space, **kw)
    if name not in _REGISTRY:
        raise InputError(f"unknown oracle {name!r}; use one of {', '.join(_REGISTRY)} or a .csv "
                         "file of measurements")
    return _REGISTRY[name](space, dataset=dataset, **kw)


def __getattr__(attr: str) -> Any:
    if attr == "ProxyOracle":  # needs the proxies module; import it only when asked for
        from iqnas.oracles.proxy import ProxyOracle

        return ProxyOracle
    raise AttributeError(f"module 'iqnas.oracles' has no attribute {attr!r}")


__all__ = ["CsvOracle", "FunctionOracle", "MeasurementTable", "NB201Oracle", "OFABenchmark",
           "Oracle", "ProxyOracle", "TorchOracle", "csv_oracle", "get", "is_function_spec",
           "names", "nb201", "ofa", "ofa_latency_form", "read_measurements", "register",
           "resolution_constraint"]
