"""One drawn set of points: coordinates, the key and hover text of each point, how to draw it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Series:
    """Points of one legend entry.

    ``kind`` names the role (e.g. ``"front"``, ``"measured"``); ``step`` draws a staircase line
    through the points (sorted by x, steps after each point), ``line`` a plain line; ``band``
    (low, high) arrays shade an interval around ``y``; ``keys``/``hover`` give each point's
    architecture key and a text shown on hover.
    """

    name: str
    kind: str
    x: np.ndarray
    y: np.ndarray
    keys: Sequence[str | None] = ()
    hover: Sequence[str] = ()
    step: bool = False
    line: bool = False
    markers: bool = True
    band: tuple[np.ndarray, np.ndarray] | None = None
    error: tuple[np.ndarray, np.ndarray] | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "x", np.asarray(self.x, dtype=float))
        object.__setattr__(self, "y", np.asarray(self.y, dtype=float))

    @property
    def n_points(self) -> int:
        """Points a renderer draws as markers (finite x and y; 0 for a line without markers)."""
        if not self.markers:
            return 0
        return int(np.count_nonzero(np.isfinite(self.x) & np.isfinite(self.y)))
