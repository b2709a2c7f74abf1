"""Torch networks for architectures of the built-in spaces: ``iqnas.builders.build(space, arch)``;
``resolve_builder(spec, space)`` turns a built-in or a user's builder into one callable.

torch is imported only when a network is built, so ``import iqnas`` stays torch-free; without
torch, ``build`` says ``pip install 'iqnas[torch]'``.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from iqnas._callables import one_line, resolve_callable
from iqnas._optional import require
from iqnas.errors import InputError, MeasurementError

if TYPE_CHECKING:
    from torch import nn

    from iqnas.space import Architecture, SearchSpace

# space name -> module (under iqnas.builders) with build(arch, num_classes=None, **kw)
_MODULES = {"nb201": "iqnas.builders.nb201", "mobilenet": "iqnas.builders.mobilenet"}


def names() -> list[str]:
    """Spaces that have a network builder."""
    return list(_MODULES)


def _check_options(space_name: str, num_classes: int | None, kw: dict[str, Any]) -> Callable:
    """The built-in ``build`` function of a space, after checking its keyword options."""
    if space_name not in _MODULES:
        raise InputError(f"no network builder for space {space_name!r}; builders exist for "
                         f"{', '.join(_MODULES)} (give your own as builder='module:function')")
    module = importlib.import_module(_MODULES[space_name])
    try:
        inspect.signature(module.build).bind(None, num_classes=num_classes, **kw)
    except TypeError as exc:
        raise InputError(f"bad option for the {space_name} builder ({exc}); see "
                         f"help({_MODULES[space_name]}.build)") from None
    return module.build


def build(space: SearchSpace | str, arch: Architecture | str | Any, num_classes: int | None = None,
          **kw: Any) -> nn.Module:
    """A freshly initialised ``torch.nn.Module`` for ``arch`` (a key, Architecture, dict, ...).

    Keyword options per space: nb201 takes ``dataset`` ("cifar10", "cifar100", "ImageNet16-120"
    or c10/c100/in16) and ``input_size``; mobilenet takes ``input_size`` (default 224). The module
    has an ``input_shape`` attribute (C, H, W) giving the input it expects.
    """
    from iqnas import spaces

    sp = spaces.get(space)
    if sp.name in _MODULES:
        require("torch", "building a network")
    fn = _check_options(sp.name, num_classes, kw)
    return fn(sp.to_arch(arch), num_classes=num_classes, **kw)


class NetworkBuilder:
    """``arch -> torch.nn.Module``: the built-in builder of a space (``spec=None``) or a user's
    callable, given directly or as ``"module:function"``.

    Calling it raises :class:`~iqnas.errors.MeasurementError` (one line, naming the
    architecture) when the builder raises or returns something that is not an ``nn.Module``.
    A builder named by a string is pickled as that string and resolved again where it is
    unpickled (a worker process), so it must import there too.
    """

    def __init__(self, space: SearchSpace, spec: str | Callable[..., Any] | None = None,
                 **build_kw: Any) -> None:
        self.space = space
        self.spec = spec
        self.build_kw = dict(build_kw)
        if spec is None:
            num_classes = self.build_kw.pop("num_classes", None)
            self.build_kw["num_classes"] = num_classes
            _check_options(space.name, num_classes, {k: v for k, v in self.build_kw.items()
                                                     if k != "num_classes"})
            self._fn: Callable[..., Any] = build
        else:
            if self.build_kw:
                raise InputError(f"builder options {sorted(self.build_kw)} apply to the built-in "
                                 "builders only; a user's builder takes the architecture alone")
            self._fn = resolve_callable(spec, "builder")

    @property
    def description(self) -> str:
        """``"built-in"``, the ``module:function`` string, or the callable's qualified name."""
        if self.spec is None:
            return "built-in"
        if isinstance(self.spec, str):
            return self.spec
        mod = getattr(self.spec, "__module__", "?")
        return f"{mod}:{getattr(self.spec, '__qualname__', type(self.spec).__name__)}"

    def __call__(self, arch: Architecture) -> nn.Module:
        from torch import nn

        try:
            if self.spec is None:
                net = self._fn(self.space, arch, **self.build_kw)
            else:
                net = self._fn(arch)
        except Exception as exc:
            raise MeasurementError(f"builder {self.description!r} failed on {arch.key}: "
                                   f"{one_line(exc)}") from exc
        if not isinstance(net, nn.Module):
            raise MeasurementError(f"builder {self.description!r} returned a "
                                   f"{type(net).__name__} for {arch.key}, not a torch.nn.Module")
        return net

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if self.spec is None or isinstance(self.spec, str):
            state.pop("_fn")
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "_fn" not in state:
            self._fn = build if self.spec is None else resolve_callable(self.spec, "builder")

    def __repr__(self) -> str:
        return f"NetworkBuilder({self.description!r}, space={self.space.name!r})"


def resolve_builder(spec: str | Callable[..., Any] | NetworkBuilder | None,
                    space: SearchSpace | str, **build_kw: Any) -> NetworkBuilder:
    """One builder for ``space``: None = the built-in one (``build_kw`` are its options), a
    callable ``arch -> nn.Module`` or a ``"module:function"`` string naming one. A module that
    does not import, a missing attribute or a non-callable is a one-line InputError."""
    from iqnas import spaces

    if isinstance(spec, NetworkBuilder):
        return spec
    return NetworkBuilder(spaces.get(space), spec, **build_kw)


def option_probes(space: SearchSpace) -> list[tuple[str, str, Architecture]]:
    """For every option of every group, the first architecture that takes it: every other
    group at its first option, the controller of a conditional group at its first option that
    activates it. ``(group, option, architecture)`` in the space's variable order."""
    out = []
    for gi, g in enumerate(space.groups):
        base = [0] * space.n_groups
        if g.active_if is not None:
            ctrl, opts = g.active_if
            ci = space.group_index(ctrl)
            base[ci] = min(space.option_index(ci, o) for o in opts)
        for oi, option in enumerate(g.options):
            row = list(base)
            row[gi] = oi
            out.append((g.name, option, space.arch(row)))
    return out


def check_buildable(builder: NetworkBuilder, what: str = "builder") -> None:
    """Build the first network of every option of the builder's space (``option_probes``, each
    distinct network once): an option the builder cannot build (an unknown op for it) is a
    one-line InputError naming ``what``, the group and the option, before any work starts."""
    space = builder.space
    built: set[str] = set()
    for group, option, arch in option_probes(space):
        if arch.key in built:
            continue
        built.add(arch.key)
        try:
            builder(arch)
        except MeasurementError as exc:
            cause = exc.__cause__
            reason = one_line(cause) if cause is not None else str(exc)
            if len(built) == 1:
                raise InputError(f"{what} {builder.description!r} failed on the first network "
                                 f"of space {space.name!r} ({arch.key}): {reason}") from None
            raise InputError(f"{what} {builder.description!r} cannot build option "
                             f"{group}={option} of space {space.name!r} (network {arch.key}): "
                             f"{reason}; an unknown op for this builder? fix the space or the "
                             "builder") from None
