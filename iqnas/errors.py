"""Exception types raised by iqnas."""

from __future__ import annotations


class IqnasError(Exception):
    """Base class of every error iqnas raises on purpose."""


class InputError(IqnasError, ValueError):
    """Bad input: an unknown name, a wrong shape, a NaN, a negative budget, a malformed file."""


class SolverError(IqnasError, RuntimeError):
    """A backend failed and returned nothing usable."""


class BackendUnavailableError(SolverError):
    """A backend's Python package is not installed."""


class NotFittedError(IqnasError, ValueError, AttributeError):
    """An estimator was used before `fit`."""


class MeasurementError(IqnasError, RuntimeError):
    """Measuring one architecture failed (the builder or the user's function raised, a metric
    came back missing or non-finite, a worker died). Recorded with its text, never as a number."""


class CapabilityWarning(UserWarning):
    """A backend was asked for something it cannot do (a warm start on ``exhaustive``, a gap on
    ``random``, ...); the request is ignored. Issued once per backend and option."""
