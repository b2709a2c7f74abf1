"""Torch networks for architectures of the built-in spaces: ``iqnas.builders.build(space, arch)``.

torch is imported only when a network is built, so ``import iqnas`` stays torch-free; without
torch, ``build`` says ``pip install 'iqnas[torch]'``.
"""

from __future__ import annotations

import importlib
import inspect
from typing import TYPE_CHECKING, Any

from iqnas._optional import require
from iqnas.errors import InputError

if TYPE_CHECKING:
    from torch import nn

    from iqnas.space import Architecture, SearchSpace

# space name -> module (under iqnas.builders) with build(arch, num_classes=None, **kw)
_MODULES = {"nb201": "iqnas.builders.nb201", "mobilenet": "iqnas.builders.mobilenet"}


def names() -> list[str]:
    """Spaces that have a network builder."""
    return list(_MODULES)


def build(space: SearchSpace | str, arch: Architecture | str | Any, num_classes: int | None = None,
          **kw: Any) -> nn.Module:
    """A freshly initialised ``torch.nn.Module`` for ``arch`` (a key, Architecture, dict, ...).

    Keyword options per space: nb201 takes ``dataset`` ("cifar10", "cifar100", "ImageNet16-120"
    or c10/c100/in16) and ``input_size``; mobilenet takes ``input_size`` (default 224). The module
    has an ``input_shape`` attribute (C, H, W) giving the input it expects.
    """
    from iqnas import spaces

    sp = spaces.get(space)
    if sp.name not in _MODULES:
        raise InputError(f"no network builder for space {sp.name!r}; builders exist for "
                         f"{', '.join(_MODULES)}")
    require("torch", "building a network")
    a = sp.to_arch(arch)
    module = importlib.import_module(_MODULES[sp.name])
    try:
        inspect.signature(module.build).bind(a, num_classes=num_classes, **kw)
    except TypeError as exc:
        raise InputError(f"bad option for the {sp.name} builder ({exc}); see "
                         f"help({_MODULES[sp.name]}.build)") from None
    return module.build(a, num_classes=num_classes, **kw)
