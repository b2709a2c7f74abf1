"""Built-in search spaces: ``iqnas.spaces.get(name)``."""

from __future__ import annotations

from collections.abc import Callable

from iqnas.errors import InputError
from iqnas.space import SearchSpace
from iqnas.spaces import mobilenet, nb201, ofa

_BUILDERS: dict[str, Callable[[], SearchSpace]] = {
    "nb201": nb201.build,
    "mobilenet": mobilenet.build,
    "ofa": ofa.build,
}
_CACHE: dict[str, SearchSpace] = {}


def names() -> list[str]:
    return list(_BUILDERS)


def register(name: str, builder: Callable[[], SearchSpace]) -> None:
    """Add a space under ``name`` (a builder called once, on first use)."""
    if name in _BUILDERS:
        raise InputError(f"a space named {name!r} is already registered")
    _BUILDERS[name] = builder


def get(name: str | SearchSpace) -> SearchSpace:
    if isinstance(name, SearchSpace):
        return name
    if name not in _BUILDERS:
        raise InputError(f"unknown space {name!r}; available: {', '.join(_BUILDERS)}")
    if name not in _CACHE:
        _CACHE[name] = _BUILDERS[name]()
    return _CACHE[name]
