"""Resolve a ``"module:function"`` string (or a callable) to a callable, with one-line errors."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

from iqnas.errors import InputError


def one_line(exc: BaseException) -> str:
    """``Type: first line of the message`` of an exception."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def resolve_callable(spec: str | Callable[..., Any], what: str) -> Callable[..., Any]:
    """The callable ``spec`` names (``"package.module:function"``, attributes may be dotted);
    a callable passes. The working directory is importable, as for ``python -m``.
    ``what`` names the field in error messages (e.g. ``"--builder"``)."""
    if callable(spec):
        return spec
    if not isinstance(spec, str) or spec.count(":") != 1:
        raise InputError(f"{what} {spec!r}: expected 'module:function' (a module on the Python "
                         "path and a callable in it) or a callable")
    module_name, attr = (part.strip() for part in spec.split(":"))
    if not module_name or not attr:
        raise InputError(f"{what} {spec!r}: expected 'module:function'; the module or the "
                         "function name is empty")
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.append(cwd)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or anything the module raises on import
        raise InputError(f"{what} {spec!r}: module {module_name!r} does not import "
                         f"({one_line(exc)})") from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"{what} {spec!r}: module {module_name!r} has no attribute "
                             f"{attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise InputError(f"{what} {spec!r}: {attr!r} is a {type(obj).__name__}, not a callable")
    return obj
