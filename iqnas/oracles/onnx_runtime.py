"""ONNX export (torch's ``torch.export``-based exporter) and onnxruntime sessions, both imported
only when used (``pip install 'iqnas[onnx]'``)."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iqnas.errors import InputError

if TYPE_CHECKING:
    import torch

#: loggers of torch's exporter that report, at WARNING, optional packages it does not need
_NOISY = ("torch.onnx", "torch.export", "torch._export", "onnxscript")


def require_onnx() -> None:
    """Raise a one-line InputError when onnx, onnxscript or onnxruntime is missing."""
    missing = []
    for mod in ("onnx", "onnxscript", "onnxruntime"):
        try:
            __import__(mod)
        except ImportError:
            missing.append(mod)
    if missing:
        raise InputError(f"ONNX needs {', '.join(missing)}; install them with "
                         "pip install 'iqnas[onnx]'")


@contextlib.contextmanager
def quiet_exporter() -> Iterator[None]:
    """Silence the exporter's warnings and informational logging for the duration."""
    loggers = [logging.getLogger(n) for n in _NOISY]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def export_onnx(program: Any, example: torch.Tensor, path: str | Path) -> Path:
    """Write ``program`` (an ``nn.Module`` or a ``torch.export.ExportedProgram``) as ONNX."""
    import torch

    require_onnx()
    path = Path(path)
    with quiet_exporter():
        onnx_program = torch.onnx.export(program, (example,), dynamo=True, verbose=False,
                                         report=False)
        onnx_program.save(str(path))
    return path


def session(path: str | Path, num_threads: int = 1) -> Any:
    """A CPU onnxruntime InferenceSession with ``num_threads`` intra-op threads, sequential."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(num_threads)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def run(sess: Any, x: Any) -> Any:
    """The first output of ``sess`` on the numpy array ``x`` (its only input)."""
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]
