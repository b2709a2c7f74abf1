"""Live proxies on a macro space: iqnas.reduce with ProxyOracle on mobilenet (slow: torch)."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]


def test_mobilenet_with_live_proxies(tmp_path):
    from iqnas.oracles import ProxyOracle

    space = iqnas.spaces.get("mobilenet")
    oracle = ProxyOracle(space, batch_size=8, input_size=32, n_inits=1, num_threads=1)
    cl = iqnas.reduce(space, k=3, score="freerea", oracle=oracle, n_samples=300,
                      score_fraction=0.02, min_scored=3, n_boot=200)
    s = cl.summary()
    assert s["n_scored"].tolist() == [max(3, int(np.ceil(0.02 * n))) for n in s["size"]]
    assert len(oracle.timings) == s["n_scored"].sum()
    assert np.isfinite(s["score"]).all() and s["score"].idxmax() == cl.index
    back = iqnas.reduction.Cluster.load(cl.save(tmp_path / "m.json"), "mobilenet")
    C = space.sample_choices(5, 2000)
    assert np.array_equal(back.mask(C), cl.assign(C) == cl.index)
