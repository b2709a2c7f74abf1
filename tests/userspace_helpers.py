"""A user-defined space and functions of its architectures, named by the calibration tests as
``userspace_helpers:NAME`` (tests/ is on the path, also in spawned worker processes)."""

from __future__ import annotations

import math

#: a user's space with two conditional groups: 3 x 2 x (1 + 3 + 3 x 2) = 60 architectures
SPACE = {"name": "toyconv", "groups": [
    {"name": "depth", "options": [1, 2, 3]},
    {"name": "w1", "options": [8, 16, 32]},
    {"name": "k1", "options": [3, 5]},
    {"name": "w2", "options": [8, 16, 32], "active_if": {"group": "depth", "options": [2, 3]}},
    {"name": "w3", "options": [8, 16], "active_if": {"group": "depth", "options": [3]}}]}


def widths(arch) -> list[int]:
    a = arch.active()
    return [int(a[g]) for g in ("w1", "w2", "w3") if g in a]


def evaluate(arch) -> dict[str, float]:
    """A closed-form accuracy (interaction of the first width and the kernel) and latency."""
    w, k = widths(arch), int(arch["k1"])
    acc = 60 + 4 * len(w) + sum(w) / 8 + (2.0 if k == 5 else 0.0) \
        + (1.5 if k == 5 and w[0] == 32 else 0.0)
    return {"accuracy": acc, "latency_ms": 0.5 + 0.05 * sum(w) * (1.4 if k == 5 else 1.0)}


def fails(arch) -> bool:
    return arch["depth"] == "2" and arch["w1"] == "16"


def flaky(arch) -> dict[str, float]:
    """``evaluate``, but raises on the 6 architectures of depth 2 with w1=16."""
    if fails(arch):
        raise RuntimeError("out of memory")
    return evaluate(arch)


def nan_latency(arch) -> dict[str, float]:
    """``evaluate`` with a NaN latency where ``flaky`` raises (a table's missing entry)."""
    out = evaluate(arch)
    if fails(arch):
        out["latency_ms"] = math.nan
    return out


def free_metrics(arch) -> dict[str, float]:
    """Training-free-like metrics (NASWOT is -inf where w1=8 and k1=3, as on some real cells)
    and the latency; raises where ``flaky`` does."""
    if fails(arch):
        raise RuntimeError("out of memory")
    w = widths(arch)
    dead = w[0] == 8 and arch["k1"] == "3"
    naswot = -math.inf if dead else 100.0 + sum(w) + 3 * int(arch["k1"])
    return {"naswot": naswot, "logsynflow": 10.0 * len(w) + math.log(sum(w)),
            "latency_ms": evaluate(arch)["latency_ms"]}


class FreeOracle:
    """An oracle (not a FunctionOracle, which refuses non-finite values) of ``free_metrics``:
    its NASWOT is -inf on some architectures, as the NB201 table's and the live proxies' are."""

    name = "free"
    metrics = ["naswot", "logsynflow", "latency_ms"]
    units = {m: "" for m in metrics}

    def __init__(self):
        from iqnas import SearchSpace

        self.space = SearchSpace.from_dict(SPACE)

    def measure(self, arch):
        return free_metrics(arch)


def slow_depth_1(arch) -> dict[str, float]:
    """``evaluate``, 0.5 s slower on depth 1 (so a later job finishes first)."""
    import time

    if arch["depth"] == "1":
        time.sleep(0.5)
    return evaluate(arch)
