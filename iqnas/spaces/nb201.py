"""NAS-Bench-201 cell space: 6 edges x 5 operations, keyed by the official arch string."""

from __future__ import annotations

import re

from iqnas.errors import InputError
from iqnas.space import Architecture, Group, SearchSpace

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
# (target node, source node) per edge, in the order the official string lists them
EDGES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
EDGE_NAMES = tuple(f"e{src}{dst}" for dst, src in EDGES)  # e01 e02 e12 e03 e13 e23
_TOKEN = re.compile(r"^([a-z0-9_]+)~(\d)$")


def format_key(arch: Architecture) -> str:
    ops = [g.options[c] for g, c in zip(arch.space.groups, arch.choices)]
    nodes, k = [], 0
    for dst in (1, 2, 3):
        nodes.append("|" + "|".join(f"{ops[k + src]}~{src}" for src in range(dst)) + "|")
        k += dst
    return "+".join(nodes)


def parse_key(space: SearchSpace, key: str) -> list[int]:
    parts = key.strip().split("+")
    if len(parts) != 3:
        raise InputError(f"NB201 key {key!r} must have 3 nodes separated by '+', got {len(parts)}")
    choices = []
    for dst, part in enumerate(parts, start=1):
        if not (part.startswith("|") and part.endswith("|")):
            raise InputError(f"NB201 key {key!r}: node {dst} {part!r} must be wrapped in '|'")
        tokens = part[1:-1].split("|")
        if len(tokens) != dst:
            raise InputError(f"NB201 key {key!r}: node {dst} needs {dst} edge(s), got "
                             f"{len(tokens)}")
        for src, tok in enumerate(tokens):
            m = _TOKEN.match(tok)
            if not m or int(m.group(2)) != src:
                raise InputError(f"NB201 key {key!r}: bad edge {tok!r}, expected 'op~{src}'")
            if m.group(1) not in OPS:
                raise InputError(f"NB201 key {key!r}: unknown op {m.group(1)!r}; ops are "
                                 f"{', '.join(OPS)}")
            choices.append(space.option_index(len(choices), m.group(1)))
    return choices


def build() -> SearchSpace:
    return SearchSpace(
        name="nb201",
        groups=[Group(name, OPS) for name in EDGE_NAMES],
        key_format=format_key,
        key_parse=parse_key,
        description="NAS-Bench-201 cell: 6 edges x 5 ops, 15,625 cells",
    )
