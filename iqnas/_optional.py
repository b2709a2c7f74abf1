"""Optional dependencies: import one, or fail with a one-line message naming the extra to install.

The extras (``pip install 'iqnas[torch]'``, ``'iqnas[cvxpy]'``, ``'iqnas[plots]'``,
``'iqnas[report]'``) are declared in pyproject.toml; ``EXTRAS`` maps each optional module to the
extra that installs it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from iqnas.errors import InputError, IqnasError

#: optional module -> the iqnas extra that installs it
EXTRAS = {"torch": "torch", "cvxpy": "cvxpy", "highspy": "cvxpy", "matplotlib": "plots",
          "plotly": "report"}


def install_hint(module: str) -> str:
    """How to install ``module``: ``pip install 'iqnas[<extra>]'`` for an optional module of
    iqnas, else ``pip install <module>``."""
    top = module.partition(".")[0]
    return f"pip install 'iqnas[{EXTRAS[top]}]'" if top in EXTRAS else f"pip install {top}"


def require(module: str, purpose: str, error: type[IqnasError] = InputError) -> ModuleType:
    """Import and return ``module``, or raise ``error`` in one line: "<purpose> needs <module>:
    pip install 'iqnas[<extra>]'" (an installed module that fails to import also says why)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.partition(".")[0]
        absent = isinstance(exc, ModuleNotFoundError) and (exc.name or top).partition(".")[0] == top
        why = "" if absent else f" (installed, but importing it failed: {exc})"
        raise error(f"{purpose} needs {top}{why}: {install_hint(top)}") from None
