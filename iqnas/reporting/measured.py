"""What was measured of each sample: trained (the objective measured) or resource-only (only
resource metrics), and which metrics.

A store records, per sample, the metrics it holds; a metric a sample lacks is NaN in
``SampleStore.samples()``. A store may also record the measured subset per sample in a
``measured`` column (a list of metric names); it is used when present.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd

TRAINED, RESOURCE_ONLY = "trained", "resource-only"


def measured_sets(samples: pd.DataFrame, metrics: Sequence[str]) -> list[tuple[str, ...]]:
    """Per sample, the metrics measured for it, in ``metrics`` order."""
    if "measured" in samples.columns:
        return [tuple(m for m in metrics if m in set(v or ())) for v in samples["measured"]]
    finite = np.column_stack([np.isfinite(samples[m].to_numpy(dtype=float)) for m in metrics]) \
        if metrics else np.ones((len(samples), 0), dtype=bool)
    return [tuple(m for m, ok in zip(metrics, row) if ok) for row in finite]


def measured_summary(samples: pd.DataFrame, metrics: Sequence[str], objective: str
                     ) -> tuple[list[tuple[str, str, int]], bool]:
    """Rows (kind, metrics measured, number of samples) per measured subset, trained first, and
    whether every sample has every metric."""
    sets = measured_sets(samples, metrics)
    counts = Counter(sets)
    rows = []
    for subset, n in sorted(counts.items(), key=lambda kv: (objective not in kv[0], -kv[1])):
        kind = TRAINED if objective in subset else RESOURCE_ONLY
        rows.append((kind, ", ".join(subset) or "(none)", int(n)))
    everything = all(len(s) == len(metrics) for s in sets)
    return rows, everything
