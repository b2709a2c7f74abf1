"""SCIP's own parameters (``Scip(scip_params=...)``): every name one of SCIP's, every value one
SCIP accepts for it, checked before a solve with one-line messages."""

from __future__ import annotations

import contextlib
import difflib
import functools
import os
import re
import sys
import tempfile
from typing import Any

from pyscipopt import Model

from iqnas._validation import Boolean, Interval, check_value
from iqnas.errors import InputError


@functools.lru_cache(maxsize=1)
def scip_defaults() -> dict[str, Any]:
    """Every SCIP parameter with its default value (read once from a fresh model)."""
    m = Model()
    m.hideOutput()
    out = dict(m.getParams())
    m.freeProb()
    return out


@functools.lru_cache(maxsize=1)
def _scratch() -> Model:
    """A model on which a value is tried (and reset) to learn whether SCIP accepts it."""
    m = Model()
    m.hideOutput()
    return m


def check_scip_params(params: dict[str, Any], owner: str = "Scip") -> dict[str, Any]:
    """``params`` with every name a SCIP parameter and every value one SCIP accepts for it,
    else a one-line InputError (close names suggested; the accepted range or set, as SCIP
    states it)."""
    if not params:
        return {}
    defaults = scip_defaults()
    out = {}
    for name, value in params.items():
        if name not in defaults:
            close = difflib.get_close_matches(name, defaults, n=3, cutoff=0.6)
            hint = f"; close matches: {', '.join(map(repr, close))}" if close else ""
            raise InputError(f"The 'scip_params' parameter of {owner} must be a dict of SCIP "
                             f"parameter names to values{hint}. Got {name!r} instead.")
        out[name] = _check_scip_value(name, value, defaults[name], owner)
    return out


def _check_scip_value(name: str, value: Any, default: Any, owner: str) -> Any:
    kind = type(default)
    forms = {bool: [Boolean()], int: [Interval("int")], float: [Interval("real")]}.get(kind, [str])
    where = f"{owner}(scip_params=...)"
    value = check_value(value, forms, name, where)
    said = _refusal(name, value, default)
    if said:
        what = forms[0].describe() if not isinstance(forms[0], type) else "a string"
        raise InputError(f"The {name!r} parameter of {where} must be {what} {said}. Got "
                         f"{value!r} instead.")
    return value


def _refusal(name: str, value: Any, default: Any) -> str:
    """'' if SCIP accepts ``value`` for ``name``, else what SCIP says it must be."""
    try:
        return _refusal_cached(name, value, default)
    except TypeError:  # an unhashable value
        return _refusal_cached.__wrapped__(name, value, default)


@functools.lru_cache(maxsize=256)
def _refusal_cached(name: str, value: Any, default: Any) -> str:
    m = _scratch()
    with _captured_stderr() as err:
        try:
            m.setParam(name, value)
            ok = True
        except (ValueError, TypeError, LookupError):
            ok = False
        finally:
            m.setParam(name, default)
    if ok:
        return ""
    said = re.search(r"Must be in (range \[([^,\]]*),([^\]]*)\]|set \{([^}]*)\})", err["text"])
    if said is None:
        return "(SCIP refused it)"
    if said.group(4) is not None:
        return "in the set " + ", ".join(map(repr, said.group(4)))
    return f"in the range [{said.group(2).strip()}, {said.group(3).strip()}]"


@contextlib.contextmanager
def _captured_stderr():
    """What C code writes to file descriptor 2 meanwhile (SCIP prints its errors there), as
    ``["text"]`` of the yielded dict once the block ends."""
    out = {"text": ""}
    with tempfile.TemporaryFile(mode="w+") as tmp:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(tmp.fileno(), 2)
            yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            out["text"] = tmp.read()
