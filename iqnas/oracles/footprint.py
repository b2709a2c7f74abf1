"""Static and one-pass resource counts of a torch network: parameter bytes, peak activation
bytes, multiply-accumulates.

* ``param_bytes``: the elements of ``net.parameters()`` (buffers such as batch-norm running
  statistics are not parameters) times the bytes per element of the precision.
* ``peak_activation_bytes``: during one forward pass, the largest working set of any leaf module
  call (a module without children) or of the whole network call: the bytes of its distinct input
  and output tensors together (a tensor an in-place op returns, or a view of the same memory,
  counts once), at the precision's bytes per element. This is the layer-by-layer peak that
  microcontroller NAS reports; tensors kept alive across layers (residual branches) and
  functional ops outside modules are not counted.
* ``macs``: multiply-accumulates of one forward pass as ``torch.utils.flop_counter`` counts them
  (convolutions, matrix products, attention), i.e. its FLOPs / 2; elementwise ops count 0.

torch is imported when a function is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from iqnas.errors import InputError

if TYPE_CHECKING:
    import torch
    from torch import nn

#: bytes per parameter / activation element
PRECISIONS = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}


def bytes_per_element(precision: str) -> int:
    try:
        return PRECISIONS[precision]
    except KeyError:
        raise InputError(f"unknown precision {precision!r}; use one of "
                         f"{', '.join(PRECISIONS)}") from None


def param_count(net: nn.Module) -> int:
    return int(sum(p.numel() for p in net.parameters()))


def param_bytes(net: nn.Module, precision: str = "fp32") -> int:
    return param_count(net) * bytes_per_element(precision)


def _tensors(obj: Any) -> list[torch.Tensor]:
    import torch

    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _tensors(o)]
    return []


def _working_set(inputs: Any, output: Any) -> int:
    """Elements of the distinct tensors among a call's inputs and outputs (a view with the
    same start and size as another tensor, e.g. a flattened output, is the same memory)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for t in _tensors(inputs) + _tensors(output):
        ident = (t.data_ptr(), t.numel())
        if ident not in seen:
            seen.add(ident)
            total += t.numel()
    return total


def peak_activation_bytes(net: nn.Module, x: torch.Tensor, precision: str = "fp32") -> int:
    """See the module docstring; runs one forward pass of ``x`` without gradients."""
    import torch

    per_element = bytes_per_element(precision)
    peak = 0

    def hook(_module: nn.Module, inputs: Any, output: Any) -> None:
        nonlocal peak
        peak = max(peak, _working_set(inputs, output))

    leaves = [m for m in net.modules() if next(m.children(), None) is None and m is not net]
    handles = [m.register_forward_hook(hook) for m in [*leaves, net]]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for h in handles:
            h.remove()
    return peak * per_element


def count_macs(net: nn.Module, x: torch.Tensor) -> int:
    """Multiply-accumulates of one forward pass of ``x`` (torch's FLOP counter / 2)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        net(x)
    return int(counter.get_total_flops()) // 2
