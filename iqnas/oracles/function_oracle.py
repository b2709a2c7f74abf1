"""FunctionOracle: the user's own function ``arch -> {metric: value}`` as an oracle."""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import math
import random
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from iqnas._callables import one_line, resolve_callable
from iqnas.errors import InputError, MeasurementError
from iqnas.oracles.oracle import Oracle, check_units, select_metrics

if TYPE_CHECKING:
    from iqnas.space import Architecture, SearchSpace


def arch_seed(seed: int, key: str) -> int:
    """A 32-bit seed for one architecture: the same for the same (oracle seed, key)."""
    digest = hashlib.sha256(f"{int(seed)}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed python's ``random``, numpy's global generator and (if imported) torch's, and
    restore their states afterwards."""
    torch = sys.modules.get("torch")
    py_state, np_state = random.getstate(), np.random.get_state()
    torch_state = torch.random.get_rng_state() if torch is not None else None
    random.seed(seed)
    np.random.seed(seed)
    if torch is not None:
        torch.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        if torch is not None and torch_state is not None:
            torch.random.set_rng_state(torch_state)


def _takes_seed(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any((p.name == "seed" and p.kind != p.POSITIONAL_ONLY) or p.kind == p.VAR_KEYWORD
               for p in params)


def _takes_keyword(fn: Callable[..., Any], name: str) -> bool:
    """Whether ``fn`` names a keyword parameter ``name`` (``**kwargs`` does not count)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    p = params.get(name)
    return p is not None and p.kind != p.POSITIONAL_ONLY


class FunctionOracle(Oracle):
    """Wraps ``fn(arch) -> {metric: value}`` (train and evaluate, or anything else).

    ``fn`` is a callable or ``"module:function"``; it receives an
    :class:`~iqnas.space.Architecture` and, if it takes a ``seed`` argument (or ``**kwargs``),
    ``seed=arch_seed(seed, key)``; if it names a ``metrics`` parameter, a measurement of a
    subset passes ``metrics=[...]`` (so a resource-only measurement need not train).
    Python's ``random``, numpy's global generator and torch's (when torch is imported) are
    seeded with the same value before each call and restored after it. ``metrics`` names what
    ``fn`` returns (extra keys are ignored); a missing or non-finite value, or an exception
    in ``fn``, raises :class:`~iqnas.errors.MeasurementError`
    naming the architecture: a failure is never turned into a number.

    ``space`` None: the space of the Architecture objects passed to ``measure``.
    ``exclusive=True`` marks the function as one that must run alone on a machine slot
    (e.g. it times something or uses every core), as TorchOracle's latency jobs do.
    """

    name = "function"

    def __init__(self, fn: Callable[..., Mapping[str, float]] | str, metrics: Sequence[str],
                 space: SearchSpace | str | None = None, *,
                 units: Mapping[str, str] | None = None, seed: int = 0, exclusive: bool = False,
                 name: str | None = None) -> None:
        from iqnas import spaces

        self.fn = resolve_callable(fn, "fn")
        self.spec = fn if isinstance(fn, str) else None
        if isinstance(metrics, str) or not metrics:
            raise InputError("metrics must list the metric names fn returns, e.g. "
                             "metrics=['accuracy']")
        names = [str(m) for m in metrics]
        if len(set(names)) != len(names):
            raise InputError(f"metrics {names} name a metric twice")
        self._metrics = names
        self._units = check_units(units, names, "FunctionOracle")
        self._space = None if space is None else spaces.get(space)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise InputError(f"seed must be an integer, got {seed!r}")
        self.seed = seed
        self.exclusive = bool(exclusive)
        if name is not None:
            self.name = str(name)
        self._pass_seed = _takes_seed(self.fn)
        self._pass_metrics = _takes_keyword(self.fn, "metrics")

    @property
    def space(self) -> SearchSpace:  # type: ignore[override]
        if self._space is None:
            raise InputError("this FunctionOracle has no space: pass space= to measure keys, "
                             "or measure Architecture objects")
        return self._space

    @property
    def metrics(self) -> list[str]:
        return list(self._metrics)

    @property
    def units(self) -> dict[str, str]:
        return dict(self._units)

    def timed(self, metrics: Sequence[str] | None = None) -> bool:
        return self.exclusive

    @property
    def measures_subsets(self) -> bool:
        """Whether measuring some metrics costs less than all of them: ``fn`` names a
        ``metrics`` parameter (otherwise every measurement is a full call)."""
        return self._pass_metrics

    def settings(self) -> dict[str, Any]:
        return {"oracle": self.name, "fn": self.spec or getattr(self.fn, "__qualname__", "?"),
                "metrics": self.metrics, "seed": self.seed}

    def _arch(self, arch: Architecture | str | Any) -> Architecture:
        from iqnas.space import Architecture

        if self._space is None:
            if not isinstance(arch, Architecture):
                raise InputError("this FunctionOracle has no space: pass space= to measure "
                                 f"keys, or measure Architecture objects (got {arch!r})")
            return arch
        return self._space.to_arch(arch)

    def measure(self, arch: Architecture | str | Any,
                metrics: Sequence[str] | None = None) -> dict[str, float]:
        """Call ``fn`` once (seeded) and return the metrics (all, or the subset ``metrics``)."""
        a = self._arch(arch)
        wanted = select_metrics(self._metrics, metrics, self.name)
        return check_values(self._call(a, None if metrics is None else wanted), wanted, a.key,
                            self.name)

    def _call(self, a: Architecture, metrics: Sequence[str] | None = None) -> Any:
        """``fn(a)`` seeded by ``arch_seed(seed, key)`` (MeasurementError if it raises); a
        subset ``metrics`` is passed on when ``fn`` names that parameter."""
        seed = arch_seed(self.seed, a.key)
        kw: dict[str, Any] = {"seed": seed} if self._pass_seed else {}
        if self._pass_metrics and metrics is not None:
            kw["metrics"] = list(metrics)
        try:
            with seeded(seed):
                return self.fn(a, **kw)
        except Exception as exc:
            raise MeasurementError(f"{self.name} failed on {a.key}: {one_line(exc)}") from exc

    @classmethod
    def discover(cls, fn: Callable[..., Mapping[str, float]] | str, space: SearchSpace | str,
                 arch: Architecture | str | None = None, *, what: str = "fn",
                 **kw: Any) -> FunctionOracle:
        """A FunctionOracle whose metrics are the keys with a finite number in what ``fn``
        returns for ``arch`` (default: the space's first architecture, every group at its
        first option), called once as ``measure`` calls it. A call that raises or returns no
        number is a one-line InputError naming ``what``."""
        oracle = cls(fn, ["?"], space, **kw)
        a = oracle.space.to_arch(arch) if arch is not None else \
            oracle.space.arch([0] * oracle.space.n_groups)
        label = oracle.spec or getattr(oracle.fn, "__qualname__", "fn")
        try:
            result = oracle._call(a)
        except MeasurementError as exc:
            raise InputError(f"{what} {label!r} failed on {a.key} (the call that discovers its "
                             f"metrics): {one_line(exc.__cause__ or exc)}") from None
        if not isinstance(result, Mapping):
            raise InputError(f"{what} {label!r} returned a {type(result).__name__} for "
                             f"{a.key}, not a mapping metric -> value")
        names = [str(k) for k, v in result.items() if _is_number(v)]
        if not names:
            raise InputError(f"{what} {label!r} returned no finite number for {a.key} (it "
                             f"returned {', '.join(map(str, result)) or 'nothing'})")
        return cls(fn, names, space, **kw)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if self.spec is not None:
            state.pop("fn")
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "fn" not in state:
            self.fn = resolve_callable(self.spec, "fn")

    def __repr__(self) -> str:
        space = None if self._space is None else self._space.name
        return f"FunctionOracle({self.name!r}, space={space!r}, metrics={self._metrics})"


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def check_values(result: Any, wanted: Sequence[str], key: str, owner: str) -> dict[str, float]:
    """``{metric: float}`` for ``wanted`` from a measurement, or MeasurementError when it is not
    a mapping, a metric is missing, or a value is not a finite number."""
    if not isinstance(result, Mapping):
        raise MeasurementError(f"{owner} returned a {type(result).__name__} for {key}, not a "
                               "mapping metric -> value")
    out = {}
    for m in wanted:
        if m not in result:
            raise MeasurementError(f"{owner} returned no value of {m!r} for {key} (it returned "
                                   f"{', '.join(map(str, result)) or 'nothing'})")
        value = result[m]
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise MeasurementError(f"{owner} returned {m} = {value!r} for {key}, not a "
                                   "number") from None
        if isinstance(value, bool) or not math.isfinite(number):
            raise MeasurementError(f"{owner} returned {m} = {value!r} for {key}; a measurement "
                                   "must be a finite number")
        out[m] = number
    return out
