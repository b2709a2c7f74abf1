"""Ship a chosen network: ``export_network`` writes ``model.pt2`` (a ``torch.export`` program,
never a pickle), optionally ``model.onnx``, and ``arch.json`` into a directory, atomically.

``arch.json`` holds the architecture (key and choices), its space's name and content hash, the
input shape, the weight seed, and, when given, the models' predictions and the store's
measurements; ``read_arch_json`` turns it back into the same architecture.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from iqnas._callables import one_line
from iqnas.builders import NetworkBuilder, resolve_builder
from iqnas.errors import InputError, MeasurementError
from iqnas.space import Architecture, SearchSpace

log = logging.getLogger(__name__)

ARCH_FORMAT = "iqnas.arch/1"
PROGRAM_FILE, ONNX_FILE, ARCH_FILE = "model.pt2", "model.onnx", "arch.json"


def _check_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"out {out} exists and is not a directory; pick another --out")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError(f"out {out} exists and is not empty; pick another --out or pass "
                         "--force to replace it")


def _predictions(models: Mapping[str, Any] | None, space: SearchSpace,
                 arch: Architecture) -> dict[str, dict[str, Any]]:
    from iqnas.quadform import QuadraticForm

    out = {}
    for name, form in (models or {}).items():
        if isinstance(form, (str, Path)):
            if not Path(form).is_file():
                raise InputError(f"model {name!r}: file not found: {form}")
            form = QuadraticForm.load(form, space)
        if not isinstance(form, QuadraticForm):
            raise InputError(f"model {name!r} must be a QuadraticForm or a path to one")
        if form.space.name != space.name:
            raise InputError(f"model {name!r} is over space {form.space.name!r}, not "
                             f"{space.name!r}")
        out[name] = {"value": float(form(arch)), "units": form.units}
    return out


def _measured(store: str | Path | None, space: SearchSpace, arch: Architecture) -> dict:
    if store is None:
        return {}
    path = Path(store)
    if not path.is_file():
        raise InputError(f"store file not found: {path}")
    from iqnas.calibration.store import SampleStore

    with SampleStore(path, space) as st:
        values = st.get(arch)
        units = st.units
        failure = st.failure(arch)
    if values is None:
        if failure is not None:
            log.warning("%s failed in store %s: %s", arch.key, path, failure["error"])
        else:
            log.warning("%s has no sample in store %s", arch.key, path)
        return {}
    return {m: {"value": float(v), "units": units.get(m, "")} for m, v in values.items()}


def export_network(space: SearchSpace | str, arch: Architecture | str | Any, out: str | Path, *,
                   builder: str | Callable[..., Any] | NetworkBuilder | None = None,
                   input_shape: Sequence[int] | str | None = None, onnx: bool = False,
                   seed: int = 0, store: str | Path | None = None,
                   models: Mapping[str, Any] | None = None, force: bool = False,
                   **build_kw: Any) -> Path:
    """Write the network of ``arch`` into the directory ``out`` (see the module docstring).

    ``builder`` as for :class:`~iqnas.oracles.TorchOracle`; ``input_shape`` (with the batch
    size first) defaults to ``(1, *net.input_shape)`` for the built-in builders. Initial
    weights are seeded by ``seed``. ``models`` maps a name to a QuadraticForm (or its file)
    whose prediction is recorded; ``store`` a sample store whose measurements of ``arch`` are.
    ``out`` must not exist or be empty unless ``force``; everything is written to a temporary
    directory next to it and renamed into place, so ``out`` is never half-written.
    """
    import torch

    from iqnas import spaces
    from iqnas.oracles import onnx_runtime
    from iqnas.oracles.torch_oracle import example_input, parse_shape, seeded_network

    space = spaces.get(space)
    a = space.to_arch(arch)
    out = Path(out)
    _check_out(out, force)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InputError(f"seed must be an integer, got {seed!r}")
    if onnx:
        onnx_runtime.require_onnx()
    net_builder = resolve_builder(builder, space, **build_kw)
    predicted = _predictions(models, space, a)
    measured = _measured(store, space, a)
    try:
        net = seeded_network(net_builder, a, seed)
    except MeasurementError as exc:
        raise InputError(str(exc)) from None
    if input_shape is None:
        if not hasattr(net, "input_shape"):
            raise InputError("input_shape is needed (--input-shape 1,3,32,32): the network "
                             "has no input_shape attribute")
        shape = (1, *tuple(net.input_shape))
    else:
        shape = parse_shape(input_shape)
    x = example_input(shape, seed)
    try:
        program = torch.export.export(net, (x,))
    except Exception as exc:
        raise InputError(f"torch.export failed for {a.key} at input_shape "
                         f"{','.join(map(str, shape))}: {one_line(exc)}") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the result is an ordinary dir
    try:
        torch.export.save(program, str(tmp / PROGRAM_FILE))
        files = [PROGRAM_FILE]
        if onnx:
            onnx_runtime.export_onnx(program, x, tmp / ONNX_FILE)
            files.append(ONNX_FILE)
        record = {
            "format": ARCH_FORMAT, "key": a.key, "space": space.name,
            "space_hash": space.content_hash(), "choices": a.active(),
            "input_shape": list(shape), "seed": seed, "builder": net_builder.description,
            "files": files + [ARCH_FILE],
            "predicted": predicted, "measured": measured,
            "versions": {"iqnas": _iqnas_version(), "torch": torch.__version__},
        }
        (tmp / ARCH_FILE).write_text(json.dumps(record, indent=1) + "\n")
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("exported %s to %s (%s)", a.key, out, ", ".join(files))
    return out


def _replace_dir(new: Path, out: Path) -> None:
    """Rename ``new`` to ``out``; an existing ``out`` is moved aside first, then removed."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
        os.rmdir(old)
        os.replace(out, old)
    try:
        os.replace(new, out)
    except BaseException:
        if old is not None:
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _iqnas_version() -> str:
    from iqnas._version import __version__

    return __version__


def read_arch_json(path: str | Path, space: SearchSpace | str) -> Architecture:
    """The architecture an ``arch.json`` records, after checking it was written for ``space``
    (same name and content hash)."""
    from iqnas import spaces

    space = spaces.get(space)
    path = Path(path)
    if path.is_dir():
        path = path / ARCH_FILE
    if not path.is_file():
        raise InputError(f"arch file not found: {path}")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not JSON: {one_line(exc)}") from None
    if not isinstance(data, dict) or data.get("format") != ARCH_FORMAT:
        raise InputError(f"{path}: field 'format' must be {ARCH_FORMAT!r}")
    if data.get("space") != space.name:
        raise InputError(f"{path}: field 'space' is {data.get('space')!r}, not {space.name!r}")
    if data.get("space_hash") != space.content_hash():
        raise InputError(f"{path}: field 'space_hash' does not match space {space.name!r} "
                         "(it was written for a different version of the space)")
    if not isinstance(data.get("key"), str):
        raise InputError(f"{path}: field 'key' must be an architecture key")
    arch = space.parse_key(data["key"])
    if "choices" in data and data["choices"] != arch.active():
        raise InputError(f"{path}: field 'choices' does not match field 'key'")
    return arch
