"""iqnas.reduce: the summary, seeds, K by silhouette, budgets, oracles, macro spaces, errors."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas
from iqnas.errors import InputError
from iqnas.oracles.oracle import Oracle
from iqnas.reduction import Cluster, op_usage_features
from iqnas.reduction.scoring import bootstrap_interval


def test_summary_matches_the_table(nb201):
    cl = nb201.reduce(6, "naswot")
    s = cl.summary()
    labels = cl.assign(nb201.X)
    assert list(s.index) == list(range(cl.k)) and s["selected"].sum() == 1
    assert s["selected"].idxmax() == cl.index == s["score"].idxmax()
    assert s["size"].sum() == nb201.space.size
    raw = op_usage_features(nb201.space).raw(nb201.X)
    for c in range(cl.k):
        assert s.loc[c, "size"] == (labels == c).sum()
        assert np.allclose(s.loc[c, list(cl.features.names)], raw[labels == c].mean(axis=0))
        assert s.loc[c, "score_lo"] <= s.loc[c, "score"] <= s.loc[c, "score_hi"]
        # ~10 % of each cluster (rounded up) is measured
        assert s.loc[c, "n_scored"] == int(np.ceil(0.1 * s.loc[c, "size"]))
    # the selected score is the mean NASWOT of its measured members: recompute it
    naswot = nb201.oracle.table()["naswot_c100"].to_numpy()
    assert np.isfinite(s["score"]).all()
    sel = labels == cl.index
    assert naswot[sel].min() - 1e-9 <= s.loc[cl.index, "score"] <= naswot[sel].max() + 1e-9
    assert cl.settings["enumerated"] and cl.settings["n_sample"] == 15625


def test_same_seed_same_cluster_and_select(nb201):
    a, b = nb201.reduce(8), iqnas.reduce("nb201", k=8, seed=0)
    assert a.digest == b.digest and np.array_equal(a.centroids, b.centroids)
    other = a.select((a.index + 1) % a.k)
    assert other.index != a.index and other.k == a.k
    assert not np.any(a.mask(nb201.X) & other.mask(nb201.X))


def test_k_by_silhouette(nb201):
    cl = iqnas.reduce("nb201", k_range=(3, 6), n_boot=0)
    sil = cl.settings["silhouette"]
    assert sorted(sil) == ["3", "4", "5", "6"] and cl.k == int(max(sil, key=sil.get))


def test_budget_forms_and_table_metrics_agree(nb201):
    params = iqnas.calibration.LinearResourceModel(nb201.space, name="p").fit(
        nb201.X, nb201.params).form_
    a = iqnas.reduce("nb201", k=6, constraints={"params_M_c100": 0.4}, n_boot=0)
    b = iqnas.reduce("nb201", k=6, constraints={"p": (params, 0.4)}, n_boot=0)
    # params is exactly linear on NB201: the same feasible set, the same cluster
    assert np.array_equal(a.mask(nb201.X), b.mask(nb201.X))
    assert a.summary()["feasible params_M_c100"].tolist() == pytest.approx(
        b.summary()["feasible p"].tolist())


def test_bootstrap_interval_covers_the_mean():
    rng = np.random.default_rng(0)
    v = rng.normal(10.0, 2.0, 400)
    lo, hi = bootstrap_interval(v, 2000, 0.95, np.random.default_rng(1))
    half = 1.96 * 2.0 / np.sqrt(400)
    assert lo < v.mean() < hi and hi - lo == pytest.approx(2 * half, rel=0.15)


class FeatureOracle(Oracle):
    """A stand-in for live proxies on macro spaces: metrics linear in the op-usage counts."""

    name = "feature-oracle"

    def __init__(self, space):
        self.space = space
        self.features = op_usage_features(space)
        rng = np.random.default_rng(7)
        self.w = rng.normal(size=(2, self.features.n_features))
        self.calls = 0

    @property
    def metrics(self):
        return ["naswot", "logsynflow"]

    def measure(self, arch):
        self.calls += 1
        z = self.features.raw(self.space.to_arch(arch).x[None])[0]
        return {"naswot": float(self.w[0] @ z), "logsynflow": float(abs(self.w[1] @ z))}


@pytest.mark.parametrize("name", ["mobilenet", "ofa"])
def test_macro_spaces_cluster_a_sample_exactly(name):
    space = iqnas.spaces.get(name)
    oracle = FeatureOracle(space)
    cl = iqnas.reduce(space, k=5, score="naswot", oracle=oracle, n_samples=1500, n_boot=100)
    s = cl.settings
    assert not s["enumerated"] and s["n_sample"] == 1500 and cl.k == 5
    assert oracle.calls == s["n_measured"] == cl.summary()["n_scored"].sum()
    fresh = space.sample_choices(11, 3000)
    X = space.choices_to_onehot(fresh)
    assert np.array_equal(cl.mask(fresh), cl.assign(X) == cl.index)
    assert np.array_equal(cl.mask(X), [cl.contains(space.arch(r.tolist())) for r in fresh])
    members = cl.sample(50, 3)
    assert len({a.key for a in members}) == 50 and all(cl.contains(a) for a in members)


def test_ofa_budget_measured_by_the_ofa_table():
    space = iqnas.spaces.get("ofa")
    lat = iqnas.oracles.ofa()
    budget = float(np.median(lat.measure_many(space.sample_choices(0, 500))["lat_note10_ms"]))
    cl = iqnas.reduce(space, k=4, oracle=FeatureOracle(space), n_samples=1000,
                      constraints={"lat_note10_ms": budget}, n_boot=0)
    assert 0 < cl.settings["n_clustered"] < 1000
    feas = cl.summary()["feasible lat_note10_ms"]
    assert ((feas >= 0) & (feas <= 1)).all() and feas.max() > 0


@pytest.mark.parametrize("kw,match", [
    ({"score": "synflow"}, "'score' parameter"),
    ({"k": 1}, "'k' parameter"),
    ({"k": 20_000}, "more than the 15625 architectures"),
    ({"k": 300}, "distinct feature vectors"),
    ({"seed": -1}, "'seed' parameter"),
    ({"score_fraction": 0.0}, "'score_fraction' parameter"),
    ({"k_range": (5, 3)}, "'k_range' parameter"),
    ({"constraints": {"nonsense_metric": 1.0}}, "no oracle measures 'nonsense_metric'"),
    ({"constraints": {"params_M_c100": 0.0}}, "no architecture of the clustering sample"),
    ({"oracle": "ofa"}, "measures space 'ofa'"),
])
def test_bad_input_is_one_line(kw, match):
    with pytest.raises(InputError, match=match) as exc:
        iqnas.reduce("nb201", **{"k": 4, **kw})
    assert "\n" not in str(exc.value)


def test_ofa_needs_an_oracle_of_training_free_metrics():
    with pytest.raises(InputError, match="no oracle of training-free metrics"):
        iqnas.reduce("ofa", k=4, n_samples=100)


def test_cluster_refuses_a_problem_of_another_space(nb201):
    cl = nb201.reduce(4)
    other = iqnas.spaces.get("mobilenet")
    with pytest.raises(InputError, match="space 'nb201'"):
        cl.restrict(iqnas.Problem(other, iqnas.QuadraticForm(other)))
    assert isinstance(cl, Cluster) and "nb201" in repr(cl)
