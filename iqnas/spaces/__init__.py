"""Search spaces: ``iqnas.spaces.get(name_or_path_or_space)``.

A name is a built-in (or ``register``-ed) space; a path ending in ``.json`` or ``.toml`` is a
space file (``SearchSpace.load``), read once and cached by its resolved path: the same file gives
the same object until its content changes. A space file may take a built-in space's name only
for a part of that space: the same groups in the same order and the same conditions, each group
with some of its options (any other option is an unknown op); it keeps the built-in's
architecture keys and its network builder builds it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from iqnas.errors import InputError
from iqnas.space import SearchSpace
from iqnas.space_file import SUFFIXES
from iqnas.spaces import mobilenet, nb201, ofa

_BUILDERS: dict[str, Callable[[], SearchSpace]] = {
    "nb201": nb201.build,
    "mobilenet": mobilenet.build,
    "ofa": ofa.build,
}
_CACHE: dict[str, SearchSpace] = {}
#: resolved path -> ((mtime_ns, size), space)
_FILES: dict[Path, tuple[tuple[int, int], SearchSpace]] = {}


def names() -> list[str]:
    return list(_BUILDERS)


def register(name: str, builder: Callable[[], SearchSpace]) -> None:
    """Add a space under ``name`` (a builder called once, on first use)."""
    if name in _BUILDERS:
        raise InputError(f"a space named {name!r} is already registered")
    _BUILDERS[name] = builder


def is_space_file(spec: object) -> bool:
    """Whether ``spec`` names a space file (a path ending in .json or .toml)."""
    return isinstance(spec, (str, Path)) and Path(spec).suffix.lower() in SUFFIXES


def get(space: str | Path | SearchSpace) -> SearchSpace:
    """A SearchSpace passes; a name gives the built-in space; a ``.json``/``.toml`` path loads
    that space file (cached, see ``load``)."""
    if isinstance(space, SearchSpace):
        return space
    if is_space_file(space):
        return load(space)
    if not isinstance(space, str):
        raise InputError(f"space must be a name, a .json/.toml space file or a SearchSpace, got "
                         f"{type(space).__name__}")
    if space not in _BUILDERS:
        raise InputError(f"unknown space {space!r}; available: {', '.join(_BUILDERS)}, or the "
                         "path of a .json/.toml space file (a space from a file is given by "
                         "its file)")
    if space not in _CACHE:
        _CACHE[space] = _BUILDERS[space]()
    return _CACHE[space]


def load(path: str | Path) -> SearchSpace:
    """The space of a ``.json``/``.toml`` file, cached by its resolved path: the same object
    while the file's content is the same (an edited file with the same content keeps it)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"space file not found: {path}")
    resolved = path.resolve()
    st = resolved.stat()
    stamp = (st.st_mtime_ns, st.st_size)
    cached = _FILES.get(resolved)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    space = _as_part_of_builtin(SearchSpace.load(path), path)
    if cached is not None and cached[1].to_dict() == space.to_dict():
        space = cached[1]
    _FILES[resolved] = (stamp, space)
    return space


def _as_part_of_builtin(space: SearchSpace, path: Path) -> SearchSpace:
    """A file space with a built-in name must be a part of that space (the same groups and
    conditions, a subset of each group's options); it keeps the built-in's architecture keys.
    Other file spaces pass unchanged."""
    if space.name not in _BUILDERS:
        return space
    builtin = get(space.name)
    if space.content_hash() == builtin.content_hash():
        return builtin  # the whole built-in space: the same object
    groups = {g.name: g for g in builtin.groups}
    where = f"space file {path}"
    for i, g in enumerate(space.groups):
        ref = groups.get(g.name)
        if ref is None:
            raise InputError(f"{where}: groups[{i}].name: {g.name!r} is not a group of the "
                             f"built-in space {space.name!r}; rename the space to define your "
                             "own")
        for k, o in enumerate(g.options):
            if o not in ref.options:
                raise InputError(f"{where}: groups[{i}] ({g.name!r}).options[{k}]: unknown op "
                                 f"{o!r} for the built-in space {space.name!r} (its ops are "
                                 f"{', '.join(ref.options)}); rename the space to define your "
                                 "own")
        want = None
        if ref.active_if is not None:
            ctrl, opts = ref.active_if
            mine = next((h for h in space.groups if h.name == ctrl), None)
            kept = frozenset(o for o in opts if mine is not None and o in mine.options)
            want = (ctrl, kept)
        if g.active_if != want:
            shown = "none" if want is None else f"group {want[0]!r}, options {sorted(want[1])}"
            raise InputError(f"{where}: groups[{i}] ({g.name!r}).active_if: the built-in space "
                             f"{space.name!r} has {shown} here; a part of it keeps its "
                             "conditions")
    missing = [n for n in groups if n not in {g.name for g in space.groups}]
    if missing:
        raise InputError(f"{where}: groups: group {missing[0]!r} of the built-in space "
                         f"{space.name!r} is missing; a part of it keeps every group (give the "
                         "group fewer options instead)")
    order = [g.name for g in builtin.groups]
    if [g.name for g in space.groups] != order:
        raise InputError(f"{where}: groups: a part of the built-in space {space.name!r} lists "
                         f"its groups in the built-in order ({', '.join(order[:4])}, ...)")
    return SearchSpace(space.name, space.groups, key_format=builtin.key_format,
                       key_parse=builtin.key_parse, description=space.description)
