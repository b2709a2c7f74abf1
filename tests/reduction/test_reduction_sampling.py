"""MemberSampler: distinct members only, uniform over them, by enumeration or rejection."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas
from iqnas.calibration.samplers import StratifiedSampler
from iqnas.errors import InputError
from iqnas.reduction import MemberSampler


def test_enumerated_members_uniform(nb201):
    cl = nb201.reduce(10)
    members = cl.members()
    assert len(members) == cl.summary().loc[cl.index, "size"]
    s = cl.sampler()
    counts = np.zeros(len(members))
    code = {tuple(r): i for i, r in enumerate(members.tolist())}
    for t in range(400):
        C = s.sample_choices(nb201.space, 50, t)
        assert len({tuple(r) for r in C.tolist()}) == 50
        for r in C.tolist():
            counts[code[tuple(r)]] += 1
    # every member equally likely: counts ~ Binomial(400, 50 / m)
    p = 50 / len(members)
    z = (counts - 400 * p) / np.sqrt(400 * p * (1 - p))
    assert abs(z.mean()) < 0.1 and 0.8 < z.std() < 1.2
    with pytest.raises(InputError, match="only"):
        s.sample_choices(nb201.space, len(members) + 1, 0)
    assert np.array_equal(s.sample_choices(nb201.space, 20, 5), s.sample_choices(nb201.space,
                                                                                 20, 5))


def test_rejection_on_a_large_space_and_with_a_base_sampler():
    space = iqnas.spaces.get("mobilenet")
    from iqnas.reduction.cluster import Cluster
    from iqnas.reduction.clustering import kmeans
    from iqnas.reduction.features import op_usage_features

    C = space.sample_choices(0, 2000)
    f = op_usage_features(space).fit_scaling(C, 2.0 ** -4)
    centroids, labels = kmeans(f.of_choices(C), 3, 0)
    cl = Cluster(space, f, centroids, int(np.bincount(labels).argmin()))
    for base in (None, StratifiedSampler()):
        got = MemberSampler(cl, base).sample_choices(space, 100, 1)
        assert len({tuple(r) for r in got.tolist()}) == 100 and cl.mask(got).all()
    with pytest.raises(InputError, match="is for space 'mobilenet'"):
        MemberSampler(cl).sample_choices(iqnas.spaces.get("nb201"), 5, 0)
