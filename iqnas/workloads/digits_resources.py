"""Analytic resource models of the digits space, and the same counts from the exported network.

Every resource is an exact :class:`~iqnas.QuadraticForm` built from the network definition (no
fitting): weights and biases are stored at int8 (1 byte each), activations at int8 (1 byte per
element), the input buffer at ``bits`` bits per pixel, packed (``ceil(r * r * bits / 8)``
bytes). Peak RAM is the largest over the layers of (input + output activation bytes); it is
budgeted as one constraint per layer (:data:`RAM_LAYERS`), never as a sum.

:func:`exported_footprint` counts the same quantities from a ``torch.export`` of the built
network (parameters from its state dict, activation shapes from its graph), independently of
the forms, to check them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from iqnas.quadform import QuadraticForm
from iqnas.space import SearchSpace
from iqnas.spaces.digits import N_CLASSES, ConvStack, conv_stack

if TYPE_CHECKING:
    from torch import nn

#: the layers whose (input + output) activation bytes each get a RAM constraint
RAM_LAYERS = ("ram_conv1", "ram_pool", "ram_conv2", "ram_dense")
RESOURCES = ("flash_bytes", "input_bytes", "first_layer_weights", "macs") + RAM_LAYERS
UNITS = {"flash_bytes": "bytes", "input_bytes": "bytes", "first_layer_weights": "bytes",
         "macs": "MACs", **{r: "bytes" for r in RAM_LAYERS}}


def input_bytes(resolution: int, bits: int) -> int:
    """Bytes of the packed input buffer."""
    return math.ceil(resolution * resolution * bits / 8)


def _pooled(resolution: int) -> int:
    return resolution // 2


def _weights(c: ConvStack) -> int:
    """Weights and biases of the conv layers (no resolution in them)."""
    w = c.kernel * c.kernel * c.width1 + c.width1
    if c.width2:
        w += 9 * c.width1 * c.width2 + c.width2
    return w


def _head(r: int, c: ConvStack) -> int:
    return _pooled(r) ** 2 * c.last_width * N_CLASSES + N_CLASSES


# name -> terms; each term (groups, value function of those groups' options as ints / stacks)
_TERMS: dict[str, list[tuple[tuple[str, ...], Callable[..., float]]]] = {
    "flash_bytes": [(("conv",), _weights), (("resolution", "conv"), _head)],
    "input_bytes": [(("resolution", "bits"), input_bytes)],
    "first_layer_weights": [(("conv",), lambda c: c.kernel ** 2 * c.width1 + c.width1)],
    "macs": [(("resolution", "conv"), lambda r, c: (
        r * r * c.kernel ** 2 * c.width1 + _pooled(r) ** 2 * 9 * c.width1 * c.width2
        + _pooled(r) ** 2 * c.last_width * N_CLASSES))],
    "ram_conv1": [(("resolution", "bits"), input_bytes),
                  (("resolution", "conv"), lambda r, c: r * r * c.width1)],
    "ram_pool": [(("resolution", "conv"), lambda r, c: (r * r + _pooled(r) ** 2) * c.width1)],
    "ram_conv2": [(("resolution", "conv"), lambda r, c: (
        _pooled(r) ** 2 * (c.width1 + c.width2) if c.width2 else 0))],
    "ram_dense": [(("resolution", "conv"), lambda r, c: _pooled(r) ** 2 * c.last_width
                   + N_CLASSES)],
}


def _value(group: str, option: str) -> Any:
    return conv_stack(option) if group == "conv" else int(option)


def resource_form(space: SearchSpace, name: str) -> QuadraticForm:
    """The exact QuadraticForm of resource ``name`` (one of :data:`RESOURCES`) on ``space``
    (the digits space or a part of it)."""
    n = space.n_vars
    linear, pairwise = np.zeros(n), np.zeros((n, n))
    for groups, fn in _TERMS[name]:
        idx = [space.group_index(g) for g in groups]
        opts = [space.groups[i].options for i in idx]
        if len(groups) == 1:
            for j, o in enumerate(opts[0]):
                linear[space.offsets[idx[0]] + j] += fn(_value(groups[0], o))
            continue
        for j, a in enumerate(opts[0]):
            for k, b in enumerate(opts[1]):
                pairwise[space.offsets[idx[0]] + j, space.offsets[idx[1]] + k] += fn(
                    _value(groups[0], a), _value(groups[1], b))
    return QuadraticForm(space, 0.0, linear, pairwise, name=name, units=UNITS[name])


def resource_forms(space: SearchSpace) -> dict[str, QuadraticForm]:
    """Every resource of :data:`RESOURCES` as its exact QuadraticForm."""
    return {name: resource_form(space, name) for name in RESOURCES}


def ram_constraints(forms: Mapping[str, QuadraticForm], budget: float) -> dict[str, tuple]:
    """Peak RAM <= ``budget`` as one ``(form, budget)`` constraint per layer."""
    return {name: (forms[name], budget) for name in RAM_LAYERS}


def exported_footprint(net: nn.Module, bits: int) -> dict[str, float]:
    """Flash, MACs, input bytes and per-layer RAM counted from ``torch.export`` of ``net``
    (its ``input_shape`` input at ``bits`` bits), plus ``ram_bytes``, the peak over layers."""
    import torch

    x = torch.zeros((1, *net.input_shape))
    program = torch.export.export(net.eval(), (x,))
    out: dict[str, float] = {"flash_bytes": float(sum(
        t.numel() for t in program.state_dict.values()))}
    names = {"conv2d": "ram_conv", "max_pool2d": "ram_pool", "linear": "ram_dense"}
    user_input = next(n for n in program.graph.nodes if n.op == "placeholder"
                      and n.name not in program.graph_signature.inputs_to_parameters)
    counts: dict[str, int] = {}
    macs, ram = 0, {}
    for node in program.graph.nodes:
        op = getattr(node.target, "__name__", "").split(".")[0]
        if node.op != "call_function" or op not in names:
            continue
        src, result = node.args[0], node.meta["val"]
        n_in = src.meta["val"].numel()
        in_bytes = input_bytes(net.input_shape[1], bits) if src is user_input else n_in
        if src is user_input:
            out["input_bytes"] = float(in_bytes)
        base = names[op]
        counts[base] = counts.get(base, 0) + 1
        label = f"{base}{counts[base]}" if base == "ram_conv" else base
        ram[label] = float(in_bytes + result.numel())
        if op == "conv2d":
            weight = node.args[1].meta["val"]
            macs += result.numel() * weight[0].numel()
            if counts[base] == 1:
                out["first_layer_weights"] = float(weight.numel() + result.shape[1])
        elif op == "linear":
            macs += result.numel() * n_in // result.shape[0]
    out["macs"] = float(macs)
    for name in RAM_LAYERS:
        out[name] = ram.get(name, 0.0)
    out["ram_bytes"] = max(out[name] for name in RAM_LAYERS)
    return out
