"""The search-space file format: a dict (JSON or TOML) checked field by field, and its writers.

A space is ``{"name": ..., "groups": [{"name": ..., "options": [...]}, ...]}`` with optional
``description`` and ``format`` (``"iqnas.SearchSpace/1"``) at the top, and per group optional
``kind`` (``"architecture"``, the default, or ``"data"``: a choice of the input data such as
resolution or bit depth), ``active_if`` (``{"group": G, "options": [...]}``: the group exists
only when group ``G`` takes one of those options), ``description``, ``units`` and
``option_descriptions`` (option name -> text). Option names are strings; numbers are accepted
and read as their text (``8`` -> ``"8"``, ``0.25`` -> ``"0.25"``), booleans and anything else
are refused. ``check_space_dict``
returns the same content with every option name a string, or raises a one-line InputError that
names the field (``groups[2].active_if.group``) and the fix.

``read_space_file`` reads ``.json`` or ``.toml`` (``tomllib``); ``write_space_file`` writes
either (TOML with the small writer ``toml_text``: top-level strings, then one ``[[groups]]``
table per group, conditions and option descriptions as inline tables).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iqnas._outputs import write_text_atomic
from iqnas.errors import InputError

FORMAT = "iqnas.SearchSpace/1"
SUFFIXES = (".json", ".toml")
#: a group's kind: a choice of the network, or of the input data (resolution, bit depth, ...)
ARCHITECTURE, DATA = "architecture", "data"
KINDS = (ARCHITECTURE, DATA)
TOP_FIELDS = ("format", "name", "description", "groups")
GROUP_FIELDS = ("name", "options", "kind", "active_if", "description", "units",
                "option_descriptions")
CONDITION_FIELDS = ("group", "options")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class _Checker:
    """Raises InputErrors prefixed by where the space comes from."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> InputError:
        return InputError(f"{self.source}: {where}: {message}" if where
                          else f"{self.source}: {message}")

    def fields(self, obj: Any, where: str, allowed: tuple[str, ...], what: str) -> dict:
        if not isinstance(obj, Mapping):
            raise self.fail(where, f"{what} must be an object (a table in TOML), got "
                            f"{_kind(obj)}")
        unknown = [k for k in obj if k not in allowed]
        if unknown:
            raise self.fail(where, f"unknown field {unknown[0]!r}; allowed: {', '.join(allowed)}")
        return dict(obj)

    def text(self, value: Any, where: str, *, name: bool = False) -> str:
        if not isinstance(value, str):
            raise self.fail(where, f"must be a string, got {_kind(value)}")
        if name:
            if not value or value != value.strip():
                raise self.fail(where, f"{value!r}: names must be non-empty, without leading or "
                                "trailing spaces")
            if ";" in value or "\n" in value:
                raise self.fail(where, f"{value!r}: names may not contain ';' or a line break "
                                "(architecture keys are 'group=option;...')")
        return value

    def option(self, value: Any, where: str) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail(where, f"option names must be strings (numbers are read as their "
                            f"text), got {_kind(value)}")
        text = value if isinstance(value, str) else (str(value) if isinstance(value, int)
                                                     else repr(value))
        return self.text(text, where, name=True)

    def options(self, value: Any, where: str, group: str) -> list[str]:
        if not isinstance(value, list):
            raise self.fail(where, f"must be a list of option names, got {_kind(value)}")
        if not value:
            raise self.fail(where, f"group {group!r} has no options; a group needs at least one")
        out: list[str] = []
        for k, v in enumerate(value):
            opt = self.option(v, f"{where}[{k}]")
            if opt in out:
                raise self.fail(f"{where}[{k}]", f"duplicate option {opt!r} in group {group!r}")
            out.append(opt)
        return out


def check_space_dict(data: Any, source: str = "space") -> dict:
    """The validated content of a space dict (option names as strings; see the module
    docstring); a one-line InputError naming ``source`` and the field otherwise."""
    ck = _Checker(source)
    top = ck.fields(data, "", TOP_FIELDS, "a search space")
    if "format" in top and top["format"] != FORMAT:
        raise ck.fail("format", f"{top['format']!r} is not a search-space format; use {FORMAT!r}"
                      " or leave it out")
    if "name" not in top:
        raise ck.fail("name", "missing; a space needs a name")
    out: dict[str, Any] = {"name": ck.text(top["name"], "name", name=True)}
    if "description" in top:
        out["description"] = ck.text(top["description"], "description")
    groups = top.get("groups")
    if groups is None:
        raise ck.fail("groups", "missing; a space needs a list of groups")
    if not isinstance(groups, list) or not groups:
        raise ck.fail("groups", f"must be a non-empty list of groups, got {_kind(groups)}")
    checked, seen = [], {}
    for i, raw in enumerate(groups):
        g = ck.fields(raw, f"groups[{i}]", GROUP_FIELDS, "a group")
        if "name" not in g:
            raise ck.fail(f"groups[{i}].name", "missing; every group needs a name")
        name = ck.text(g["name"], f"groups[{i}].name", name=True)
        if "=" in name:
            raise ck.fail(f"groups[{i}].name", f"{name!r}: group names may not contain '='")
        if name in seen:
            raise ck.fail(f"groups[{i}].name", f"duplicate group name {name!r} (also "
                          f"groups[{seen[name]}])")
        seen[name] = i
        at = f"groups[{i}] ({name!r})"
        if "options" not in g:
            raise ck.fail(f"{at}.options", f"missing; group {name!r} needs a list of options")
        entry: dict[str, Any] = {"name": name,
                                 "options": ck.options(g["options"], f"{at}.options", name)}
        if "kind" in g:
            kind = ck.text(g["kind"], f"{at}.kind")
            if kind not in KINDS:
                raise ck.fail(f"{at}.kind", f"{kind!r} is not a kind of group; use "
                              f"{' or '.join(map(repr, KINDS))} (or leave it out: "
                              f"{ARCHITECTURE!r})")
            if kind != ARCHITECTURE:
                entry["kind"] = kind
        for meta in ("description", "units"):
            if meta in g:
                entry[meta] = ck.text(g[meta], f"{at}.{meta}")
        if "option_descriptions" in g:
            descs = g["option_descriptions"]
            if not isinstance(descs, Mapping):
                raise ck.fail(f"{at}.option_descriptions", "must be an object option -> text, "
                              f"got {_kind(descs)}")
            out_descs = {}
            for opt, text in descs.items():
                if str(opt) not in entry["options"]:
                    raise ck.fail(f"{at}.option_descriptions", f"unknown option {opt!r}; the "
                                  f"options are {', '.join(entry['options'])}")
                out_descs[str(opt)] = ck.text(text, f"{at}.option_descriptions.{opt}")
            entry["option_descriptions"] = out_descs
        if "active_if" in g:
            cond = ck.fields(g["active_if"], f"{at}.active_if", CONDITION_FIELDS, "active_if")
            for f in CONDITION_FIELDS:
                if f not in cond:
                    raise ck.fail(f"{at}.active_if.{f}", "missing; active_if needs 'group' and "
                                  "'options', e.g. {\"group\": \"depth\", \"options\": [\"2\"]}")
            ctrl = ck.text(cond["group"], f"{at}.active_if.group", name=True)
            opts = cond["options"]
            if not isinstance(opts, list) or not opts:
                raise ck.fail(f"{at}.active_if.options", "must be a non-empty list of options "
                              f"of group {ctrl!r}")
            entry["active_if"] = {"group": ctrl,
                                  "options": [ck.option(o, f"{at}.active_if.options[{k}]")
                                              for k, o in enumerate(opts)]}
        checked.append(entry)
    _check_conditions(ck, checked)
    out["groups"] = checked
    return out


def _check_conditions(ck: _Checker, groups: list[dict]) -> None:
    """Conditions name known groups and options, form no cycle, and have unconditional
    controllers (one level of ``active_if``)."""
    by_name = {g["name"]: g for g in groups}
    index = {g["name"]: i for i, g in enumerate(groups)}
    for i, g in enumerate(groups):
        cond = g.get("active_if")
        if cond is None:
            continue
        at = f"groups[{i}] ({g['name']!r}).active_if"
        if cond["group"] not in by_name:
            raise ck.fail(f"{at}.group", f"unknown group {cond['group']!r}; groups are "
                          f"{', '.join(by_name)}")
    for g in groups:  # cycles before options and depth: a cycle is the error to report
        chain, name = [], g["name"]
        while name is not None and name not in chain:
            chain.append(name)
            cond = by_name[name].get("active_if")
            name = None if cond is None else cond["group"]
        if name is not None:
            loop = chain[chain.index(name):] + [name]
            raise ck.fail(f"groups[{index[loop[0]]}] ({loop[0]!r}).active_if",
                          f"cycle {' -> '.join(loop)}: a group cannot be conditional on itself "
                          "through active_if")
    for i, g in enumerate(groups):
        cond = g.get("active_if")
        if cond is None:
            continue
        ctrl = by_name[cond["group"]]
        for k, o in enumerate(cond["options"]):
            if o not in ctrl["options"]:
                raise ck.fail(f"groups[{i}] ({g['name']!r}).active_if.options[{k}]",
                              f"unknown option {o!r} of group {ctrl['name']!r}; its options are "
                              f"{', '.join(ctrl['options'])}")
    for i, g in enumerate(groups):
        cond = g.get("active_if")
        if cond is not None and by_name[cond["group"]].get("active_if") is not None:
            raise ck.fail(f"groups[{i}] ({g['name']!r}).active_if.group",
                          f"{cond['group']!r} is itself conditional; a controller must be "
                          "unconditional (one level of active_if)")


def _kind(value: Any) -> str:
    return repr(value) if isinstance(value, (bool, int, float)) or value is None \
        else type(value).__name__


# ---- files -----------------------------------------------------------------------------------
def check_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"space file {path}: unknown file type {path.suffix!r}; use .json or "
                         ".toml")
    return suffix


def read_space_file(path: str | Path) -> dict:
    """The raw dict of a ``.json`` or ``.toml`` space file (one-line InputError when it is
    missing or does not parse)."""
    path = Path(path)
    suffix = check_suffix(path)
    if not path.is_file():
        raise InputError(f"space file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"space file {path}: cannot be read ({exc})") from None
    try:
        return json.loads(text) if suffix == ".json" else tomllib.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"space file {path}: not valid JSON (line {exc.lineno}, column "
                         f"{exc.colno}: {exc.msg})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"space file {path}: not valid TOML ({str(exc).splitlines()[0]})") \
            from None


def write_space_file(path: str | Path, data: dict) -> Path:
    """Write ``data`` as JSON or TOML by the suffix, replacing the file atomically."""
    path = Path(path)
    suffix = check_suffix(path)
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n" if suffix == ".json" \
        else toml_text(data)
    write_text_atomic(path, text, "space file")
    return path


def _toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, except that DEL must be escaped too."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _toml_string(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}"
                                for k, v in value.items()) + " }"
    raise InputError(f"cannot write {type(value).__name__} to a TOML space file")


def toml_text(data: dict) -> str:
    """A space dict (strings, lists of strings, one level of tables) as TOML text."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if k != "groups"]
    for g in data.get("groups", []):
        lines += ["", "[[groups]]"] + [f"{k} = {_toml_value(v)}" for k, v in g.items()]
    return "\n".join(lines) + "\n"
