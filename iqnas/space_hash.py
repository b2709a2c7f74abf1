"""A content hash of a search space: its name, groups, options and conditions.

Two spaces with the same hash encode architectures the same way (same one-hot layout, same
conditional activity), so keys and forms of one are valid in the other.
"""

from __future__ import annotations

import hashlib
import json

from iqnas.space import SearchSpace


def space_content(space: SearchSpace) -> dict:
    """The hashed content: name and, per group in order, its options and its condition."""
    groups = []
    for g in space.groups:
        cond = None
        if g.active_if is not None:
            ctrl, opts = g.active_if
            cond = {"group": ctrl, "options": sorted(opts)}
        groups.append({"name": g.name, "options": list(g.options), "active_if": cond})
    return {"name": space.name, "groups": groups}


def space_hash(space: SearchSpace) -> str:
    """``"sha256:<hex>"`` of the canonical JSON of ``space_content(space)``."""
    text = json.dumps(space_content(space), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
