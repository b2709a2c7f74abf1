"""BINAS / HardCoRe-NAS MobileNetV3-like space: 5 stages, depth {2,3,4}, 12 block options.

Variables follow BINAS's order: the 240 block options (stage, block, option) and then the 15 depth
options. Option ``c = 4*er_idx + 2*k_idx + se_idx`` as in the BINAS code, so option 0 (e3_k3) is
the cheapest. Blocks 3 and 4 of a stage are active only at depth >= 3 and depth 4.
"""

from __future__ import annotations

import re

from iqnas.errors import InputError
from iqnas.space import Architecture, Group, SearchSpace

EXPANSIONS = (3, 4, 6)
KERNELS = (3, 5)
N_STAGES = 5
N_BLOCKS = 4
DEPTHS = ("2", "3", "4")
BLOCK_OPTIONS = tuple(f"e{e}_k{k}" + ("_se" if se else "")
                      for e in EXPANSIONS for k in KERNELS for se in (0, 1))
_STAGE = re.compile(r"^s(\d):(.+)$")


def block_group(stage: int, block: int) -> str:
    return f"s{stage}.b{block}"


def depth_group(stage: int) -> str:
    return f"s{stage}.depth"


def format_key(arch: Architecture) -> str:
    act = arch.active()
    stages = []
    for s in range(1, N_STAGES + 1):
        depth = int(act[depth_group(s)])
        blocks = [act[block_group(s, b)] for b in range(1, depth + 1)]
        stages.append(f"s{s}:" + ",".join(blocks))
    return "|".join(stages)


def parse_key(space: SearchSpace, key: str) -> list[int]:
    parts = key.strip().split("|")
    if len(parts) != N_STAGES:
        raise InputError(f"mobilenet key {key!r} needs {N_STAGES} stages separated by '|'")
    choices: dict[str, str] = {}
    for s, part in enumerate(parts, start=1):
        m = _STAGE.match(part.strip())
        if not m or int(m.group(1)) != s:
            raise InputError(f"mobilenet key {key!r}: stage part {part!r} must start 's{s}:'")
        blocks = [b.strip() for b in m.group(2).split(",")]
        if str(len(blocks)) not in DEPTHS:
            raise InputError(f"mobilenet key {key!r}: stage {s} has {len(blocks)} blocks; "
                             f"depth must be one of {', '.join(DEPTHS)}")
        choices[depth_group(s)] = str(len(blocks))
        for b, opt in enumerate(blocks, start=1):
            choices[block_group(s, b)] = opt
    arch = space.arch(choices)
    return list(arch.choices)


def build() -> SearchSpace:
    groups = []
    for s in range(1, N_STAGES + 1):
        for b in range(1, N_BLOCKS + 1):
            cond = None
            if b > 2:
                cond = (depth_group(s), frozenset(d for d in DEPTHS if int(d) >= b))
            groups.append(Group(block_group(s, b), BLOCK_OPTIONS, cond))
    groups += [Group(depth_group(s), DEPTHS) for s in range(1, N_STAGES + 1)]
    return SearchSpace(
        name="mobilenet",
        groups=groups,
        key_format=format_key,
        key_parse=parse_key,
        description="BINAS/HardCoRe-NAS MobileNetV3 space: 5 stages x 4 blocks x 12 options, "
                    "depth {2,3,4}",
    )
