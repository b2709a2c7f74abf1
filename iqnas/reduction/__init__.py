"""Search-space reduction by clustering (C-BRED), expressed as IQP constraints.

``iqnas.reduce(space, k=..., score=..., seed=...)`` clusters a space on op-usage features that are
linear in the one-hot vector, scores each cluster by training-free statistics and returns the
best as a :class:`Cluster`: ``contains(arch)``, ``linear_constraints`` (its Voronoi cell, ready
for ``Problem``), ``summary()``, ``sampler()`` and ``save``/``load``.
"""

from iqnas.reduction.cluster import Cluster, as_cluster
from iqnas.reduction.features import LinearFeatures, active_indicators, op_usage_features
from iqnas.reduction.run import reduce
from iqnas.reduction.sampling import MemberSampler
from iqnas.reduction.scoring import SCORES

__all__ = ["SCORES", "Cluster", "LinearFeatures", "MemberSampler", "active_indicators",
           "as_cluster", "op_usage_features", "reduce"]
