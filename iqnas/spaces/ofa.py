"""Once-for-all MobileNetV3 space (OFA w1.2): 5 stages, depth {2,3,4}, kernel and expansion.

Groups, in this order: ``s{s}.b{b}.k`` (kernel "3","5","7") and ``s{s}.b{b}.e`` (expansion
"3","4","6") for the 20 block positions, then ``s{s}.depth`` ("2","3","4"), then ``res`` (input
resolution). Blocks 3 and 4 of a stage are active only at depth >= 3 and depth 4; inactive blocks
hold option 0 (k3, e3). Kernel and expansion are separate groups so that interpretation tables
read per decision and the one-hot layout matches the 60 + 60 kernel/expansion inputs of OFA's
released accuracy predictor.

Resolutions are the five that both released oracles cover: the Note10 latency tables exist only
for 160..224 in steps of 16, and the 128-input accuracy predictor one-hot encodes 112..224 in
steps of 16 (see DATA.md). The key reads ``r224|s1:k3e4,k5e6|s2:...|s5:...`` (one ``kKeE`` token
per active block).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from iqnas.errors import InputError
from iqnas.space import Architecture, Group, SearchSpace

N_STAGES = 5
N_BLOCKS = 4
KERNELS = ("3", "5", "7")
EXPANSIONS = ("3", "4", "6")
DEPTHS = ("2", "3", "4")
RESOLUTIONS = ("160", "176", "192", "208", "224")
RES_GROUP = "res"
_STAGE = re.compile(r"^s(\d):(.+)$")
_BLOCK = re.compile(r"^k(\d)e(\d)$")
_RES = re.compile(r"^r(\d+)$")


def kernel_group(stage: int, block: int) -> str:
    return f"s{stage}.b{block}.k"


def expand_group(stage: int, block: int) -> str:
    return f"s{stage}.b{block}.e"


def depth_group(stage: int) -> str:
    return f"s{stage}.depth"


def format_key(arch: Architecture) -> str:
    act = arch.active()
    parts = [f"r{act[RES_GROUP]}"]
    for s in range(1, N_STAGES + 1):
        depth = int(act[depth_group(s)])
        blocks = [f"k{act[kernel_group(s, b)]}e{act[expand_group(s, b)]}"
                  for b in range(1, depth + 1)]
        parts.append(f"s{s}:" + ",".join(blocks))
    return "|".join(parts)


def parse_key(space: SearchSpace, key: str) -> list[int]:
    parts = [p.strip() for p in key.strip().split("|")]
    if len(parts) != N_STAGES + 1:
        raise InputError(f"ofa key {key!r} needs 'rRES' and {N_STAGES} stages separated by '|', "
                         "e.g. 'r224|s1:k3e4,k5e6|s2:...'")
    m = _RES.match(parts[0])
    if not m:
        raise InputError(f"ofa key {key!r}: first part {parts[0]!r} must be 'r' + resolution, "
                         f"one of {', '.join(RESOLUTIONS)}")
    choices: dict[str, str] = {RES_GROUP: m.group(1)}
    for s, part in enumerate(parts[1:], start=1):
        m = _STAGE.match(part)
        if not m or int(m.group(1)) != s:
            raise InputError(f"ofa key {key!r}: stage part {part!r} must start 's{s}:'")
        blocks = [b.strip() for b in m.group(2).split(",")]
        if str(len(blocks)) not in DEPTHS:
            raise InputError(f"ofa key {key!r}: stage {s} has {len(blocks)} blocks; depth must "
                             f"be one of {', '.join(DEPTHS)}")
        choices[depth_group(s)] = str(len(blocks))
        for b, tok in enumerate(blocks, start=1):
            mb = _BLOCK.match(tok)
            if not mb:
                raise InputError(f"ofa key {key!r}: block {tok!r} of stage {s} must look like "
                                 "'k5e4' (kernel 3/5/7, expansion 3/4/6)")
            choices[kernel_group(s, b)] = mb.group(1)
            choices[expand_group(s, b)] = mb.group(2)
    return list(space.arch(choices).choices)


def to_ofa_spec(arch: Architecture) -> dict[str, list[int]]:
    """OFA's subnet dict ``{"ks": [20], "e": [20], "d": [5], "r": [1]}`` (inactive blocks: 3, 3)."""
    ks = [int(arch[kernel_group(s, b)]) for s in range(1, N_STAGES + 1)
          for b in range(1, N_BLOCKS + 1)]
    e = [int(arch[expand_group(s, b)]) for s in range(1, N_STAGES + 1)
         for b in range(1, N_BLOCKS + 1)]
    d = [int(arch[depth_group(s)]) for s in range(1, N_STAGES + 1)]
    return {"ks": ks, "e": e, "d": d, "r": [int(arch[RES_GROUP])]}


def from_ofa_spec(space: SearchSpace, spec: Mapping[str, Sequence[int]]) -> Architecture:
    """Architecture from OFA's subnet dict; entries of inactive blocks are ignored."""
    try:
        ks, e, d, r = (list(spec[f]) for f in ("ks", "e", "d", "r"))
    except KeyError as exc:
        raise InputError(f"OFA spec is missing field {exc.args[0]!r}; it needs ks, e, d, r") \
            from None
    if len(ks) != N_STAGES * N_BLOCKS or len(e) != N_STAGES * N_BLOCKS or len(d) != N_STAGES:
        raise InputError(f"OFA spec needs 20 ks, 20 e and 5 d entries, got {len(ks)}, {len(e)}, "
                         f"{len(d)}")
    if len(r) != 1:
        raise InputError(f"OFA spec field 'r' must hold one resolution, got {r}")
    choices = {RES_GROUP: str(r[0])}
    for s in range(1, N_STAGES + 1):
        depth = int(d[s - 1])
        choices[depth_group(s)] = str(depth)
        for b in range(1, min(depth, N_BLOCKS) + 1):
            i = (s - 1) * N_BLOCKS + b - 1
            choices[kernel_group(s, b)] = str(ks[i])
            choices[expand_group(s, b)] = str(e[i])
    return space.arch(choices)


def build() -> SearchSpace:
    groups = []
    for s in range(1, N_STAGES + 1):
        for b in range(1, N_BLOCKS + 1):
            cond = None
            if b > 2:
                cond = (depth_group(s), frozenset(d for d in DEPTHS if int(d) >= b))
            groups.append(Group(kernel_group(s, b), KERNELS, cond))
            groups.append(Group(expand_group(s, b), EXPANSIONS, cond))
    groups += [Group(depth_group(s), DEPTHS) for s in range(1, N_STAGES + 1)]
    groups.append(Group(RES_GROUP, RESOLUTIONS))
    return SearchSpace(
        name="ofa",
        groups=groups,
        key_format=format_key,
        key_parse=parse_key,
        description="Once-for-all MobileNetV3 (w1.2): 5 stages, depth {2,3,4}, kernel {3,5,7} and "
                    "expansion {3,4,6} per block, resolution 160..224 step 16",
    )
