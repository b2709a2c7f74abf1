"""Search spaces: named categorical groups over one one-hot vector, with optional conditions."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from iqnas.errors import InputError
from iqnas.space_file import (
    ARCHITECTURE,
    DATA,
    FORMAT,
    KINDS,
    check_space_dict,
    read_space_file,
    write_space_file,
)


def _rng(seed) -> np.random.Generator:
    """The generator of ``seed``: an int >= 0, a numpy Generator or None (fresh entropy)."""
    if isinstance(seed, (np.random.Generator, np.random.BitGenerator, np.random.SeedSequence)):
        return np.random.default_rng(seed)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                             or seed < 0):
        raise InputError(f"seed must be an int >= 0, a numpy Generator or None, got {seed!r}")
    return np.random.default_rng(seed)


def _option_index(c) -> int:
    """One choice of an architecture as an option index (an integral number)."""
    try:
        value = float(c)
    except (TypeError, ValueError):
        raise InputError(f"a choice must be an option index (an int), got {c!r}; give a key "
                         "string or a {group: option} dict for names") from None
    if not value.is_integer():
        raise InputError(f"a choice must be an option index (an int), got {c!r}")
    return int(value)


@dataclass(frozen=True)
class Group:
    """One categorical decision with named options.

    ``active_if=(controller, option_names)`` makes the group conditional: it exists only when the
    controller group takes one of those options. An inactive group is encoded as its option 0.
    ``kind`` is ``"architecture"`` (a choice of the network) or ``"data"`` (a choice of the input
    data: resolution, bit depth, sample rate, ...); it is part of equality and of the space's
    content hash. ``description``, ``units`` and ``option_descriptions`` (option -> text) are
    metadata: they take no part in equality or in the space's content hash.
    """

    name: str
    options: tuple[str, ...]
    active_if: tuple[str, frozenset[str]] | None = None
    description: str = field(default="", compare=False)
    units: str = field(default="", compare=False)
    option_descriptions: Mapping[str, str] = field(default_factory=dict, compare=False)
    kind: str = ARCHITECTURE

    def __post_init__(self) -> None:
        if len(self.options) < 1 or len(set(self.options)) != len(self.options):
            raise InputError(f"group {self.name!r} needs distinct option names, got {self.options}")
        if self.kind not in KINDS:
            raise InputError(f"group {self.name!r}: kind {self.kind!r} is unknown; use "
                             f"{' or '.join(map(repr, KINDS))}")
        unknown = [o for o in self.option_descriptions if o not in self.options]
        if unknown:
            raise InputError(f"group {self.name!r}: option_descriptions names unknown option "
                             f"{unknown[0]!r}")
        object.__setattr__(self, "option_descriptions", dict(self.option_descriptions))


@dataclass(frozen=True, eq=False)
class Architecture:
    """One architecture: an option index per group (inactive groups hold 0)."""

    space: SearchSpace
    choices: tuple[int, ...]

    @property
    def key(self) -> str:
        return self.space.format_key(self)

    @property
    def x(self) -> np.ndarray:
        """The one-hot vector."""
        return self.space.encode(self)

    def active(self) -> dict[str, str]:
        """Chosen option name per active group."""
        sp = self.space
        return {g.name: g.options[c] for g, c, a in zip(sp.groups, self.choices, sp.activity(self))
                if a}

    def data(self) -> dict[str, str]:
        """Chosen option name per active data group (``Group(kind="data")``)."""
        return {g: o for g, o in self.active().items() if g in self.space.data_groups}

    def architecture(self) -> dict[str, str]:
        """Chosen option name per active architecture group (every group but the data ones)."""
        return {g: o for g, o in self.active().items() if g not in self.space.data_groups}

    def __getitem__(self, group: str) -> str:
        i = self.space.group_index(group)
        return self.space.groups[i].options[self.choices[i]]

    def to_dict(self) -> dict:
        """``space``, ``key`` and ``choices`` (every active group); with data groups also
        ``data_choices`` and ``architecture_choices``, the two apart."""
        return {"space": self.space.name, "key": self.key, "choices": self.active(),
                **self.split_choices()}

    def split_choices(self) -> dict[str, dict[str, str]]:
        """``{"data_choices": ..., "architecture_choices": ...}`` when the space has data
        groups, else ``{}`` (what results add to their dicts)."""
        if not self.space.data_groups:
            return {}
        return {"data_choices": self.data(), "architecture_choices": self.architecture()}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Architecture) and other.space is self.space
                and other.choices == self.choices)

    def __hash__(self) -> int:
        return hash((self.space.name, self.choices))

    def __repr__(self) -> str:
        return f"Architecture({self.key!r})"


@dataclass(eq=False)
class SearchSpace:
    """Named categorical groups laid out in one one-hot vector, group after group.

    ``key_format`` / ``key_parse`` give a space its human-readable architecture key; by default
    the key is ``group=option;...`` over the active groups.
    """

    name: str
    groups: Sequence[Group]
    key_format: Callable[[Architecture], str] | None = None
    key_parse: Callable[[SearchSpace, str], Sequence[int]] | None = None
    description: str = ""
    offsets: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.groups = tuple(self.groups)
        names = [g.name for g in self.groups]
        if len(set(names)) != len(names):
            raise InputError(f"space {self.name!r} has duplicate group names")
        self._index = {n: i for i, n in enumerate(names)}
        self._data_groups = tuple(g.name for g in self.groups if g.kind == DATA)
        sizes = np.array([len(g.options) for g in self.groups], dtype=np.int64)
        self.sizes = sizes
        self.offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self.n_vars = int(sizes.sum())
        self.group_of_var = np.repeat(np.arange(len(self.groups)), sizes)
        self._opt_index = [{o: k for k, o in enumerate(g.options)} for g in self.groups]
        # conditions: group index -> (controller index, boolean mask over controller options)
        self.conditions: dict[int, tuple[int, np.ndarray]] = {}
        for i, g in enumerate(self.groups):
            if g.active_if is None:
                continue
            ctrl, opts = g.active_if
            c = self.group_index(ctrl)
            if self.groups[c].active_if is not None:
                raise InputError(f"group {g.name!r}: controller {ctrl!r} must be unconditional")
            mask = np.zeros(len(self.groups[c].options), dtype=bool)
            for o in opts:
                mask[self.option_index(c, o)] = True
            self.conditions[i] = (c, mask)
        # the conditions as arrays: conditional group, its controller, padded option masks
        self._cond_groups = np.array(sorted(self.conditions), dtype=np.int64)
        self._cond_ctrl = np.array([self.conditions[g][0] for g in self._cond_groups],
                                   dtype=np.int64)
        self._cond_rows = np.arange(len(self._cond_groups))
        width = max((len(m) for _, m in self.conditions.values()), default=0)
        self._cond_mask = np.zeros((len(self._cond_groups), width), dtype=bool)
        for k, g in enumerate(self._cond_groups):
            m = self.conditions[int(g)][1]
            self._cond_mask[k, :len(m)] = m

    # ---- names ----------------------------------------------------------------------------
    @property
    def n_groups(self) -> int:
        return len(self.groups)

    @property
    def data_groups(self) -> tuple[str, ...]:
        """Names of the data groups (``Group(kind="data")``), in order."""
        return self._data_groups

    @property
    def architecture_groups(self) -> tuple[str, ...]:
        """Names of the architecture groups (every group that is not a data group), in order."""
        return tuple(g.name for g in self.groups if g.kind != DATA)

    def group_kind(self, group: str | int) -> str:
        """``"data"`` or ``"architecture"``."""
        return self.groups[self.group_index(group)].kind

    def group_index(self, group: str | int) -> int:
        if isinstance(group, (int, np.integer)):
            if not 0 <= group < len(self.groups):
                raise InputError(f"group index {group} out of range 0..{len(self.groups) - 1}")
            return int(group)
        try:
            return self._index[group]
        except KeyError:
            raise InputError(f"unknown group {group!r} in space {self.name!r}; "
                             f"groups are {', '.join(self._index)}") from None

    def option_index(self, group: str | int, option: str) -> int:
        gi = self.group_index(group)
        try:
            return self._opt_index[gi][option]
        except KeyError:
            g = self.groups[gi]
            raise InputError(f"unknown option {option!r} for group {g.name!r}; "
                             f"options are {', '.join(g.options)}") from None

    def var_index(self, group: str | int, option: str) -> int:
        gi = self.group_index(group)
        return int(self.offsets[gi]) + self.option_index(gi, option)

    def var_names(self) -> list[str]:
        return [f"{g.name}={o}" for g in self.groups for o in g.options]

    def var_index_by_name(self, name: str) -> int:
        if "=" not in name:
            raise InputError(f"variable name {name!r} must look like 'group=option'")
        g, o = name.split("=", 1)
        return self.var_index(g, o)

    # ---- structure ------------------------------------------------------------------------
    def activity(self, choices) -> np.ndarray:
        """Which groups are active: an (n, n_groups) bool array for an (n, n_groups) choices
        array, an (n_groups,) one for one architecture (an Architecture or its option indices)."""
        C = np.asarray(choices.choices if isinstance(choices, Architecture) else choices,
                       dtype=np.int64)
        act = np.ones(C.shape, dtype=bool)
        if self._cond_groups.size:
            act[..., self._cond_groups] = self._conditions_met(C)
        return act

    def canonical(self, choices) -> np.ndarray:
        """A copy of ``choices`` ((n, n_groups), or one row) with every inactive group at
        option 0: the architectures the rows encode."""
        C = np.array(choices, dtype=np.int64)
        if self._cond_groups.size:
            C[..., self._cond_groups] *= self._conditions_met(C)
        return C

    def _conditions_met(self, C: np.ndarray) -> np.ndarray:
        """(..., n_conditional_groups): whether each conditional group's controller option
        activates it."""
        return self._cond_mask[self._cond_rows, C[..., self._cond_ctrl]]

    @property
    def size(self) -> int:
        """Number of distinct architectures."""
        total = 1
        for _c, per_option in self._controller_sizes().items():
            total *= sum(per_option)
        for i, g in enumerate(self.groups):
            if i not in self.conditions and i not in self._controllers():
                total *= len(g.options)
        return int(total)

    def _controllers(self) -> set[int]:
        return {c for c, _ in self.conditions.values()}

    def _controller_sizes(self) -> dict[int, list[int]]:
        """For each controller, the number of sub-architectures under each of its options."""
        out = {}
        for c in sorted(self._controllers()):
            counts = []
            for o in range(len(self.groups[c].options)):
                n = 1
                for i, (cc, mask) in self.conditions.items():
                    if cc == c and mask[o]:
                        n *= len(self.groups[i].options)
                counts.append(n)
            out[c] = counts
        return out

    # ---- construction ---------------------------------------------------------------------
    def arch(self, choices: Sequence[int] | dict[str, str]) -> Architecture:
        """Build a validated Architecture from option indices or {group: option name}."""
        if isinstance(choices, str):
            raise InputError(f"arch() takes option indices or a {{group: option}} dict, got the "
                             f"string {choices!r}; for a key use parse_key(key)")
        if isinstance(choices, dict):
            idx = [0] * len(self.groups)
            for g, o in choices.items():
                gi = self.group_index(g)
                idx[gi] = self.option_index(gi, o)
            act = self.activity(idx)
            missing = [g.name for g, a in zip(self.groups, act) if a and g.name not in choices]
            if missing:
                raise InputError(f"architecture is missing a choice for group(s) {missing}")
            extra = [g.name for g, a in zip(self.groups, act) if not a and g.name in choices]
            if extra:
                raise InputError(f"group(s) {extra} are inactive for this architecture; "
                                 "leave them out")
            return Architecture(self, tuple(idx))
        row = np.asarray(choices)
        if row.dtype.kind not in "iu":
            row = np.array([_option_index(c) for c in row.ravel()], dtype=np.int64)
        if row.ndim != 1 or row.shape[0] != len(self.groups):
            raise InputError(f"expected {len(self.groups)} choices for space {self.name!r}, "
                             f"got {row.size}")
        bad = np.flatnonzero((row < 0) | (row >= self.sizes))
        if len(bad):
            g = self.groups[bad[0]]
            raise InputError(f"choice {row[bad[0]]} out of range for group {g.name!r} "
                             f"(0..{len(g.options) - 1})")
        if self.conditions:
            row = self.canonical(row)
        return Architecture(self, tuple(row.tolist()))

    def to_arch(self, obj: Architecture | str | dict | Sequence[int] | np.ndarray) -> Architecture:
        """Coerce a key, a one-hot vector, a choices dict or an Architecture."""
        if isinstance(obj, Architecture):
            if obj.space is self:
                return obj
            if obj.space.name != self.name:
                raise InputError(f"architecture belongs to space {obj.space.name!r}, "
                                 f"not {self.name!r}")
            if obj.space.content_hash() == self.content_hash():
                return self.arch(obj.choices)
            return self.parse_key(obj.key)  # a part of this space (a file space): by its key
        if isinstance(obj, str):
            return self.parse_key(obj)
        if isinstance(obj, dict):
            return self.arch(obj)
        arr = np.asarray(obj)
        if arr.ndim == 1 and arr.shape[0] == self.n_vars and arr.shape[0] != len(self.groups):
            return self.decode(arr)
        return self.arch(arr.tolist())

    # ---- encode / decode ------------------------------------------------------------------
    def encode(self, arch: Architecture | str | dict | Sequence[int]) -> np.ndarray:
        a = self.to_arch(arch)
        x = np.zeros(self.n_vars)
        x[self.offsets + np.asarray(a.choices)] = 1.0
        return x

    def decode(self, x: np.ndarray, atol: float = 1e-6) -> Architecture:
        """One-hot vector -> Architecture; raises InputError naming the offending group."""
        x = np.asarray(x, dtype=float).ravel()
        if x.shape[0] != self.n_vars:
            raise InputError(f"one-hot vector has length {x.shape[0]}, space {self.name!r} "
                             f"needs {self.n_vars}")
        if not np.all(np.isfinite(x)):
            raise InputError("one-hot vector contains NaN or inf")
        idx = []
        for g, off, n in zip(self.groups, self.offsets, self.sizes):
            seg = x[off:off + n]
            on = np.flatnonzero(np.abs(seg - 1.0) <= atol)
            off_ok = np.all((np.abs(seg) <= atol) | (np.abs(seg - 1.0) <= atol))
            if len(on) != 1 or not off_ok:
                raise InputError(f"group {g.name!r} is not one-hot: {np.round(seg, 6).tolist()}")
            idx.append(int(on[0]))
        idx = tuple(idx)
        if self.conditions and tuple(self.canonical(idx)) != idx:
            bad = [g.name for g, c, a in zip(self.groups, idx, self.activity(idx)) if not a and c]
            raise InputError(f"inactive group(s) {bad} must take their first option")
        return Architecture(self, idx)

    def validate(self, x: np.ndarray) -> bool:
        try:
            self.decode(x)
        except InputError:
            return False
        return True

    # ---- keys -----------------------------------------------------------------------------
    def format_key(self, arch: Architecture) -> str:
        if self.key_format is not None:
            return self.key_format(arch)
        return ";".join(f"{g}={o}" for g, o in arch.active().items())

    def parse_key(self, key: str) -> Architecture:
        if not isinstance(key, str):
            raise InputError(f"architecture key must be a string, got {type(key).__name__}")
        if self.key_parse is not None:
            return self.arch(self.key_parse(self, key))
        choices = {}
        for part in key.split(";"):
            if "=" not in part:
                raise InputError(f"bad key part {part!r} in {key!r}; expected 'group=option'")
            g, o = part.split("=", 1)
            choices[g.strip()] = o.strip()
        return self.arch(choices)

    def from_json(self, text: str) -> Architecture:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"architecture JSON is malformed: {exc}") from None
        if data.get("space", self.name) != self.name:
            raise InputError(f"architecture JSON is for space {data['space']!r}, not {self.name!r}")
        if "choices" in data:
            return self.arch(data["choices"])
        if "key" in data:
            return self.parse_key(data["key"])
        raise InputError("architecture JSON needs a 'choices' or 'key' field")

    # ---- enumeration and sampling ---------------------------------------------------------
    def enumerate_choices(self, limit: int = 2_000_000) -> np.ndarray:
        """All architectures as an (size, n_groups) array of option indices."""
        if self.size > limit:
            raise InputError(f"space {self.name!r} has {self.size:.3g} architectures, more than "
                             f"the enumeration limit {limit}")
        out = []
        for ranges in self._enumeration_blocks():
            grids = np.meshgrid(*[np.asarray(r, dtype=np.int16) for r in ranges], indexing="ij")
            out.append(np.stack([g.ravel() for g in grids], axis=1))
        return np.concatenate(out)

    def _enumeration_blocks(self) -> Iterator[list[Sequence[int]]]:
        """Per combination of controller options: the option indices each group can take."""
        ctrls = sorted(self._controllers())
        for combo in itertools.product(*[range(len(self.groups[c].options)) for c in ctrls]):
            fixed = dict(zip(ctrls, combo))
            ranges: list[Sequence[int]] = []
            for i, g in enumerate(self.groups):
                if i in fixed:
                    ranges.append((fixed[i],))
                elif i in self.conditions:
                    c, mask = self.conditions[i]
                    ranges.append(range(len(g.options)) if mask[fixed[c]] else (0,))
                else:
                    ranges.append(range(len(g.options)))
            yield ranges

    def enumerate(self, limit: int = 2_000_000) -> list[Architecture]:
        return [Architecture(self, tuple(int(v) for v in row))
                for row in self.enumerate_choices(limit)]

    def sample(self, seed: int | np.random.Generator | None = None, n: int | None = None):
        """Uniform sample over distinct architectures (one, or a list of ``n``); ``seed`` is an
        int, a numpy Generator or None."""
        rng = _rng(seed)
        if n is None:
            return Architecture(self, tuple(int(v) for v in self.sample_choices(rng, 1)[0]))
        return [Architecture(self, tuple(int(v) for v in row))
                for row in self.sample_choices(rng, n)]

    def sample_choices(self, seed: int | np.random.Generator | None, n: int) -> np.ndarray:
        """``n`` uniformly drawn architectures as (n, n_groups) option indices (inactive groups
        at option 0; repeats possible)."""
        rng = _rng(seed)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise InputError(f"n must be a number of architectures (an int >= 0), got {n!r}")
        out = np.zeros((n, len(self.groups)), dtype=np.int64)
        ctrl_sizes = self._controller_sizes()
        for i, g in enumerate(self.groups):
            if i in ctrl_sizes:
                w = np.asarray(ctrl_sizes[i], dtype=float)
                out[:, i] = rng.choice(len(w), size=n, p=w / w.sum())
            elif i not in self.conditions:
                out[:, i] = rng.integers(len(g.options), size=n)
        for i in self.conditions:
            out[:, i] = rng.integers(len(self.groups[i].options), size=n)
        return self.canonical(out)

    def choices_to_onehot(self, choices: np.ndarray) -> np.ndarray:
        """(n, n_groups) option indices -> (n, n_vars) one-hot matrix."""
        choices = np.asarray(choices, dtype=np.int64)
        X = np.zeros((choices.shape[0], self.n_vars))
        rows = np.arange(choices.shape[0])[:, None]
        X[rows, self.offsets[None, :] + choices] = 1.0
        return X

    def onehot_to_choices(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        return np.stack([X[:, o:o + n].argmax(axis=1) for o, n in zip(self.offsets, self.sizes)],
                        axis=1)

    # ---- identity and files ---------------------------------------------------------------
    def content(self) -> dict:
        """What the content hash covers: the name and, per group in order, its options, its
        condition (controller and options, sorted) and, for a data group, ``kind``; no
        descriptions or units."""
        groups = []
        for g in self.groups:
            cond = None
            if g.active_if is not None:
                ctrl, opts = g.active_if
                cond = {"group": ctrl, "options": sorted(opts)}
            entry = {"name": g.name, "options": list(g.options), "active_if": cond}
            if g.kind != ARCHITECTURE:  # the default kind leaves older hashes unchanged
                entry["kind"] = g.kind
            groups.append(entry)
        return {"name": self.name, "groups": groups}

    def content_hash(self) -> str:
        """``"sha256:<hex>"`` of the canonical JSON of ``content()``: two spaces with the same
        hash encode architectures the same way (one-hot layout, conditional activity)."""
        cached = self.__dict__.get("_content_hash")
        if cached is None:
            text = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
            cached = self._content_hash = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
        return cached

    def to_dict(self) -> dict:
        """The space as a file dict (see ``iqnas.space_file``); ``from_dict`` reads it back.
        A built-in space's own key format is not part of it: a space read back keys its
        architectures ``group=option;...``."""
        out: dict = {"format": FORMAT, "name": self.name}
        if self.description:
            out["description"] = self.description
        groups = []
        for g in self.groups:
            entry: dict = {"name": g.name, "options": list(g.options)}
            if g.kind != ARCHITECTURE:
                entry["kind"] = g.kind
            if g.active_if is not None:
                ctrl, opts = g.active_if
                order = self.groups[self.group_index(ctrl)].options
                entry["active_if"] = {"group": ctrl, "options": [o for o in order if o in opts]}
            if g.description:
                entry["description"] = g.description
            if g.units:
                entry["units"] = g.units
            if g.option_descriptions:
                entry["option_descriptions"] = {o: g.option_descriptions[o] for o in g.options
                                                if o in g.option_descriptions}
            groups.append(entry)
        out["groups"] = groups
        return out

    @classmethod
    def from_dict(cls, data: Mapping, *, source: str = "space") -> SearchSpace:
        """A space from a file dict (``{"name": ..., "groups": [...]}``, see
        ``iqnas.space_file``); a one-line InputError naming ``source`` and the field
        otherwise."""
        d = check_space_dict(data, source)
        groups = []
        for g in d["groups"]:
            cond = g.get("active_if")
            groups.append(Group(g["name"], tuple(g["options"]),
                                None if cond is None else (cond["group"],
                                                           frozenset(cond["options"])),
                                description=g.get("description", ""),
                                units=g.get("units", ""),
                                option_descriptions=g.get("option_descriptions", {}),
                                kind=g.get("kind", ARCHITECTURE)))
        return cls(d["name"], groups, description=d.get("description", ""))

    @classmethod
    def load(cls, path: str | Path) -> SearchSpace:
        """Read a ``.json`` or ``.toml`` space file (``iqnas.spaces.get(path)`` caches it)."""
        return cls.from_dict(read_space_file(path), source=f"space file {path}")

    def save(self, path: str | Path) -> Path:
        """Write the space as ``.json`` or ``.toml`` (by the suffix), atomically."""
        return write_space_file(path, self.to_dict())

    def __repr__(self) -> str:
        return (f"SearchSpace({self.name!r}, groups={len(self.groups)}, n_vars={self.n_vars}, "
                f"size={self.size:.4g})")
