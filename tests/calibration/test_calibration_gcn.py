"""Graph encodings, the GCN and MLP predictors, and GCN re-ranking inside calibration."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import iqnas
from iqnas.calibration import GCNRanker, GCNRegressor, MLPRegressor, clone
from iqnas.calibration.graphs import graph_encoding
from iqnas.calibration.rerank import GCNReranker
from iqnas.calibration.selection import iqp_plan, plan_round, reranked
from iqnas.cli import main
from iqnas.errors import InputError, NotFittedError
from iqnas.space import Group, SearchSpace

pytestmark = pytest.mark.usefixtures("one_torch_thread")

LAT = "latbench_ms_mobile-cpu-snapdragon-855-kryo-485-int8"
TINY = {"hidden": 16, "epochs": 3, "batch_size": 16}


@pytest.fixture(scope="module")
def nb201():
    oracle = iqnas.oracles.nb201("cifar100")
    return oracle, oracle.space, oracle.table()


def _sample(nb201, n, seed=0):
    oracle, space, table = nb201
    rows = np.random.default_rng(seed).choice(len(table), n, replace=False)
    return space.choices_to_onehot(oracle.choices[rows]), table, rows


# ---- graph encodings against hand-built graphs -------------------------------------------------
def _adj(n, edges):
    """Hand-built adjacency: global row, self-loops, and ``edges``."""
    a = np.eye(n, dtype=np.float32)
    a[0, 1:] = 1.0
    for i, j in edges:
        a[i, j] = 1.0
    return a


def _feats(n, width, cols):
    f = np.zeros((n, width), dtype=np.float32)
    for node, col in cols.items():
        f[node, col] = 1.0
    return f


def _nb201_graph(ops):
    space = iqnas.spaces.get("nb201")
    key = iqnas.spaces.nb201.format_key(space.arch(dict(zip(iqnas.spaces.nb201.EDGE_NAMES, ops))))
    g = graph_encoding(space).encode(space, [key])
    return g.adjacency[0], g.features[0]


def test_nb201_encoding_every_op_a_node():
    # nodes: 0 global, 1 input, 2..7 the ops e01 e02 e12 e03 e13 e23, 8 output
    adj, feats = _nb201_graph(["nor_conv_3x3"] * 6)
    wiring = [(1, 2), (1, 3), (1, 5), (2, 4), (2, 6), (3, 7), (4, 7), (5, 8), (6, 8), (7, 8)]
    np.testing.assert_array_equal(adj, _adj(9, wiring))
    np.testing.assert_array_equal(feats, _feats(9, 6, {0: 5, 1: 3, 8: 4, 2: 1, 3: 1, 4: 1,
                                                       5: 1, 6: 1, 7: 1}))


def test_nb201_encoding_none_skip_and_pruning():
    # e01 skip, e02 none, e12 conv1x1, e03 avgpool, e13 none, e23 conv3x3: the skip node is
    # bypassed (input -> e12), the none nodes vanish
    adj, feats = _nb201_graph(["skip_connect", "none", "nor_conv_1x1", "avg_pool_3x3", "none",
                               "nor_conv_3x3"])
    np.testing.assert_array_equal(adj, _adj(9, [(1, 4), (1, 5), (4, 7), (5, 8), (7, 8)]))
    np.testing.assert_array_equal(feats, _feats(9, 6, {0: 5, 1: 3, 8: 4, 4: 0, 5: 2, 7: 1}))
    # e01 and e12 lead nowhere (e13, e23 none): only input -> e03 -> output is left
    adj, feats = _nb201_graph(["nor_conv_3x3", "none", "nor_conv_1x1", "nor_conv_3x3", "none",
                               "none"])
    np.testing.assert_array_equal(adj, _adj(9, [(1, 5), (5, 8)]))
    np.testing.assert_array_equal(feats, _feats(9, 6, {0: 5, 1: 3, 8: 4, 5: 1}))
    # an input -> output skip and nothing else
    adj, feats = _nb201_graph(["none", "none", "none", "skip_connect", "none", "none"])
    np.testing.assert_array_equal(adj, _adj(9, [(1, 8)]))
    np.testing.assert_array_equal(feats, _feats(9, 6, {0: 5, 1: 3, 8: 4}))


def test_nb201_cells_without_a_path_are_the_latbench_gaps(nb201):
    """Ground truth from the table: LatBench has no latency for exactly the cells whose graph
    is empty (no input-to-output path), 341 of them."""
    oracle, space, table = nb201
    g = graph_encoding(space).encode_choices(oracle.choices)
    empty = g.features[:, 1:].sum(axis=(1, 2)) == 0
    np.testing.assert_array_equal(empty, table[LAT].isna().to_numpy())
    assert empty.sum() == 341
    assert np.all(g.adjacency[empty] == _adj(9, []))


def test_mobilenet_encoding_is_a_chain_without_inactive_blocks():
    space = iqnas.spaces.get("mobilenet")
    key = "s1:e3_k3,e6_k5_se|s2:e4_k3,e4_k5,e6_k3|s3:e3_k3,e3_k3,e3_k3,e3_k3|s4:e6_k5,e6_k5|" \
          "s5:e3_k5_se,e4_k3"
    g = graph_encoding(space).encode(space, [key])
    # nodes: 0 global, 1 input, 2 + 4 * (stage - 1) + (block - 1), 22 output
    active = [2, 3, 6, 7, 8, 10, 11, 12, 13, 14, 15, 18, 19]
    chain = [1, *active, 22]
    np.testing.assert_array_equal(g.adjacency[0], _adj(23, list(zip(chain, chain[1:]))))
    opt = iqnas.spaces.mobilenet.BLOCK_OPTIONS.index
    blocks = [("e3_k3", 1), ("e6_k5_se", 1), ("e4_k3", 2), ("e4_k5", 2), ("e6_k3", 2)] + \
             [("e3_k3", 3)] * 4 + [("e6_k5", 4)] * 2 + [("e3_k5_se", 5), ("e4_k3", 5)]
    expect = np.zeros((23, 20), dtype=np.float32)
    for node, (o, stage) in zip(active, blocks):
        expect[node, opt(o)] = expect[node, 12 + stage - 1] = 1.0
    expect[1, 17] = expect[22, 18] = expect[0, 19] = 1.0
    np.testing.assert_array_equal(g.features[0], expect)


def test_ofa_encoding_blocks_and_resolution_on_the_input():
    space = iqnas.spaces.get("ofa")
    key = "r192|s1:k3e4,k7e6|s2:k5e3,k5e3,k3e6,k7e4|s3:k3e3,k3e3|s4:k7e6,k5e4,k3e3|s5:k3e3,k3e6"
    g = graph_encoding(space).encode(space, [key])
    active = [2, 3, 6, 7, 8, 9, 10, 11, 14, 15, 16, 18, 19]
    chain = [1, *active, 22]
    np.testing.assert_array_equal(g.adjacency[0], _adj(23, list(zip(chain, chain[1:]))))
    blocks = [(3, 4, 1), (7, 6, 1), (5, 3, 2), (5, 3, 2), (3, 6, 2), (7, 4, 2), (3, 3, 3),
              (3, 3, 3), (7, 6, 4), (5, 4, 4), (3, 3, 4), (3, 3, 5), (3, 6, 5)]
    # features: kernel 3/5/7 | expansion 3/4/6 | stage 1..5 | resolution 160..224 | flags
    expect = np.zeros((23, 19), dtype=np.float32)
    for node, (k, e, stage) in zip(active, blocks):
        expect[node, (3, 5, 7).index(k)] = expect[node, 3 + (3, 4, 6).index(e)] = 1.0
        expect[node, 6 + stage - 1] = 1.0
    expect[1, 11 + 2] = expect[1, 16] = expect[22, 17] = expect[0, 18] = 1.0
    np.testing.assert_array_equal(g.features[0], expect)


def _toy_space() -> SearchSpace:
    return SearchSpace("toy_nograph", [Group("a", ("x", "y")), Group("b", ("x", "y", "z"))])


def _fake_nb201() -> SearchSpace:
    """A space named like the built-in nb201 with other options."""
    ops = ("none", "skip_connect", "nor_conv_3x3")
    return SearchSpace("nb201", [Group(f"edge{i}", ops) for i in range(6)])


def test_spaces_without_a_graph_encoding_are_refused():
    toy = _toy_space()
    with pytest.raises(InputError, match="no graph encoding"):
        graph_encoding(toy)
    X = toy.choices_to_onehot(toy.enumerate_choices())
    with pytest.raises(InputError, match="no graph encoding"):
        GCNRegressor(toy, **TINY).fit(X, np.arange(len(X), dtype=float))
    fake = _fake_nb201()
    with pytest.raises(InputError, match="^space 'nb201' has no graph encoding: it is not the "
                                         "built-in 'nb201' space"):
        graph_encoding(fake)
    assert graph_encoding(iqnas.spaces.get("nb201")) is not None


# ---- the estimators ----------------------------------------------------------------------------
def test_gcn_learns_latency_and_predicts_deterministically(nb201):
    """A small GCN fitted on 150 connected cells predicts the measured LatBench latency of 500
    held-out ones; the same seed gives the same predictions, another seed others. Fitting
    leaves torch's thread count and global random state as they were."""
    import torch

    oracle, space, table = nb201
    y = table[LAT].to_numpy()
    rows = np.random.default_rng(1).choice(np.flatnonzero(np.isfinite(y)), 650, replace=False)
    X, y = space.choices_to_onehot(oracle.choices[rows]), y[rows]
    kw = {"hidden": 32, "epochs": 30, "batch_size": 32, "progress": False}
    torch.set_num_threads(2)
    state = torch.random.get_rng_state()
    est = GCNRegressor(space, seed=3, num_threads=1, **kw).fit(X[:150], y[:150])
    assert torch.get_num_threads() == 2  # restored
    torch.set_num_threads(1)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global RNG is untouched
    pred = est.predict(X[150:])
    report = est.report(X[150:], y[150:])
    assert report["r2"] > 0.85 and report["kendall_tau"] > 0.8
    assert len(est.loss_curve_) == 30 and est.loss_curve_[-1] < est.loss_curve_[0]
    again = GCNRegressor(space, seed=3, **kw).fit(X[:150], y[:150])
    np.testing.assert_array_equal(again.predict(X[150:]), pred)
    other = GCNRegressor(space, seed=4, **kw).fit(X[:150], y[:150])
    assert not np.array_equal(other.predict(X[150:]), pred)


def test_gcn_ranker_is_antisymmetric_and_ranks_accuracy(nb201):
    X, table, rows = _sample(nb201, 600, seed=2)
    y = table["test_acc_c100"].to_numpy()[rows]
    est = GCNRanker(nb201[1], seed=0, hidden=32, epochs=40, batch_size=32,
                    progress=False).fit(X[:100], y[:100])
    assert est.score(X[100:], y[100:]) > 0.5  # Kendall tau on 500 held-out cells
    A, B = X[100:300], X[300:500]
    p, q = est.predict_proba(A, B), est.predict_proba(B, A)
    assert np.all(p + q == 1.0)
    np.testing.assert_allclose(est.decision_difference(A, B), -est.decision_difference(B, A))
    # the network's own relation head: f(a, b) = -f(b, a)
    import torch

    g = graph_encoding(nb201[1]).encode(nb201[1], A[:20])
    h = graph_encoding(nb201[1]).encode(nb201[1], B[:20])
    ta, fa, tb, fb = (torch.from_numpy(v) for v in (g.adjacency, g.features, h.adjacency,
                                                    h.features))
    with torch.no_grad():
        ab, ba = est.net_.relation_logit(ta, fa, tb, fb), est.net_.relation_logit(tb, fb, ta, fa)
    assert torch.equal(ab, -ba)


@pytest.mark.parametrize("cls", [GCNRegressor, GCNRanker, MLPRegressor])
def test_neural_estimator_contract(cls, nb201):
    space = nb201[1]
    kw = {"epochs": 2, "batch_size": 16, "progress": False}
    est = cls(space, seed=1, **kw)
    with pytest.raises(NotFittedError):
        est.predict(space.choices_to_onehot(nb201[0].choices[:3]))
    params = est.get_params()
    assert params["seed"] == 1 and params["epochs"] == 2 and params["space"] is space
    twin = clone(est)
    assert twin is not est and twin.get_params() == params and not hasattr(twin, "net_")
    assert est.set_params(epochs=3) is est and est.epochs == 3
    with pytest.raises(InputError, match=rf"^{cls.__name__} has no parameter\(s\) 'no_such'"):
        est.set_params(no_such=1)
    X, table, rows = _sample(nb201, 40)
    y = table["test_acc_c100"].to_numpy()[rows]
    with pytest.raises(InputError, match=rf"^The 'lr' parameter of {cls.__name__} must be a float "
                       r"in the range \(0, inf\)\. Got -1\.0 instead\.$"):
        cls(space, lr=-1.0, **kw).fit(X, y)
    with pytest.raises(InputError, match="'epochs' parameter"):
        cls(space, epochs=0).fit(X, y)
    small = {"hidden": 8} if cls is not MLPRegressor else {"width": 8}
    fitted = cls(space, seed=1, **{**kw, "progress": True}, **small).fit(X, y)  # rich bar
    assert fitted.n_features_in_ == space.n_vars and fitted.fit_time_ > 0
    keys = [space.arch(c).key for c in nb201[0].choices[rows[:5]]]
    np.testing.assert_allclose(fitted.predict(keys), fitted.predict(X[:5]))
    assert not hasattr(clone(fitted), "net_")
    # a model of one space refuses another space's architectures
    mb = iqnas.spaces.get("mobilenet")
    with pytest.raises(InputError, match="belongs to space 'mobilenet'"):
        fitted.predict([mb.sample(0)])
    with pytest.raises(InputError, match="trained on space 'nb201', not 'mobilenet'"):
        fitted.set_params(space=mb).predict([mb.sample(0)])
    fake = _fake_nb201()  # the same name, other content: refused by its content hash
    with pytest.raises(InputError, match="^this .* was trained on another space named 'nb201' "
                                         r"\(content hash sha256:"):
        fitted.set_params(space=fake).predict(fake.choices_to_onehot(fake.enumerate_choices()[:2]))


def test_mlp_learns_params(nb201):
    X, table, rows = _sample(nb201, 600, seed=4)
    y = table["params_M_c100"].to_numpy()[rows]
    est = MLPRegressor(nb201[1], width=64, epochs=200, progress=False).fit(X[:200], y[:200])
    assert est.score(X[200:], y[200:]) > 0.9
    assert 0 <= est.best_epoch_ < 200
    again = MLPRegressor(nb201[1], width=64, epochs=200, progress=False).fit(X[:200], y[:200])
    np.testing.assert_array_equal(again.predict(X[200:]), est.predict(X[200:]))


def test_import_iqnas_does_not_import_torch():
    code = ("import sys, iqnas, iqnas.calibration, iqnas.calibration.gcn, "
            "iqnas.calibration.mlp, iqnas.calibration.rerank; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- re-ranking in the selection loop ----------------------------------------------------------
def _fitted_forms(nb201, n=60, seed=0):
    oracle, space, table = nb201
    X, _, rows = _sample(nb201, n, seed)
    acc = iqnas.calibration.PairwiseRanker(space).fit(X, table["test_acc_c100"].to_numpy()[rows])
    par = iqnas.calibration.LinearResourceModel(space).fit(
        X, table["params_M_c100"].to_numpy()[rows])
    return acc.form_, par.form_


def test_plan_round_keeps_only_iqp_candidates_whatever_the_rerank_returns(nb201):
    space = nb201[1]
    obj, par = _fitted_forms(nb201)
    scen = [{"params_M_c100": (par, 0.3)}]

    def fit():
        return obj, scen, {}

    outside = space.arch([3, 3, 3, 3, 3, 3])  # the largest cell: far over 0.3 M params
    assert par(outside) > 0.3
    seen = {}

    def rerank(cands):
        seen["cands"] = list(cands)
        return [outside] + cands[::-1]

    plain = plan_round(2, 20, space, 0, fit, set(), solver="exhaustive")
    out = plan_round(2, 20, space, 0, fit, set(), solver="exhaustive", rerank=rerank,
                     rerank_pool=3)
    top = [a for a, src in out if src == "iqp-rerank"]
    assert len(seen["cands"]) == 30 and len(top) == 10
    assert outside not in top and top == seen["cands"][::-1][:10]
    assert top != [a for a, src in plain if src == "iqp"]
    assert all(par(a) <= 0.3 for a in seen["cands"])  # the IQP's candidates, proved feasible


def test_gcn_rerank_reorders_iqp_candidates_within_the_budgets(nb201):
    oracle, space, table = nb201
    obj, par = _fitted_forms(nb201, n=60, seed=5)
    budget = 0.35
    cands = iqp_plan(space, obj, [{"params_M_c100": (par, budget)}], 40, set(), "exhaustive",
                     0, None)
    assert len(cands) == 40 and all(par(a) <= budget for a in cands)
    rows = np.random.default_rng(5).choice(len(table), 60, replace=False)
    samples = table.iloc[rows].assign(key=[space.arch(c).key for c in oracle.choices[rows]])
    rr = GCNReranker(space, "test_acc_c100", [{"params_M_c100": budget}], factor=4,
                     use_filter=True, params={**TINY, "epochs": 20, "progress": False})
    chosen = rr.order(cands, 10, samples, seed=0)
    assert len(chosen) == 10 == len(set(chosen)) and set(chosen) <= set(cands)
    assert chosen != cands[:10]
    assert rr.last["candidates"] == 40 and 0 <= rr.last["filtered_out"] <= 40
    assert chosen == rr.order(cands, 10, samples, seed=0)  # seeded


@pytest.mark.parametrize("rule, expected", [
    ("gcn", [1, 3, 5, 7, 6, 4, 2, 0]),    # the GCN's order
    ("hedge", [0, 1, 3, 5, 7, 6, 4, 2]),  # the IQP's first 8 / (2 x 2), then the GCN's order
    ("borda", [1, 3, 0, 5, 2, 4, 6, 7]),  # IQP rank + GCN rank: 1, 4, 7, 7, 8, 9, 10, 10
])
def test_rerank_rules_combine_the_iqp_and_gcn_orders(nb201, monkeypatch, rule, expected):
    """Candidates arrive in the IQP's order; the GCN's (faked) scores rank them 1, 3, 5, 7, 6,
    4, 2, 0; each rule's order is computed by hand."""
    oracle, space, table = nb201
    cands = [space.arch(c) for c in oracle.choices[:8]]
    monkeypatch.setattr(GCNRanker, "fit", lambda self, X, y: self)
    monkeypatch.setattr(GCNRanker, "predict",
                        lambda self, X: np.array([0, 7, 1, 6, 2, 5, 3, 4], dtype=float))
    samples = table.iloc[8:20].assign(key=[space.arch(c).key for c in oracle.choices[8:20]])
    rr = GCNReranker(space, "test_acc_c100", [{}], factor=2, params={"rule": rule})
    assert rr.order(cands, 8, samples, seed=0) == [cands[i] for i in expected]
    assert rr.order(cands, 3, samples, seed=0) == [cands[i] for i in expected[:3]]


def test_reranked_interleaves_the_scenarios_heads():
    """The re-ranker sees the heads interleaved (a position is an IQP rank across scenarios)
    and each stream keeps only its own candidates, in the re-ranker's order."""
    seen = {}

    def rerank(c):
        seen["c"] = list(c)
        return c[::-1]

    out = reranked([iter("abcd"), iter("AbCD")], 3, rerank)
    assert seen["c"] == ["a", "A", "b", "c", "C"]  # b once, at its first place
    assert ["".join(s) for s in out] == ["cbad", "CbAD"]


def test_calibrate_with_gcn_rerank(nb201, tmp_path):
    oracle = nb201[0]
    kw = dict(rounds=3, seed=2, progress=False)
    run = iqnas.calibrate("nb201", oracle, "test_acc_c100", {"params_M_c100": 0.4}, 45,
                          store=tmp_path / "r.db", rerank="gcn", rerank_params=TINY, **kw)
    src = run.samples["source"].value_counts()
    assert src["iqp-rerank"] > 0 and "iqp" not in src
    assert run.settings["rerank"] == {"method": "gcn", "factor": 4, "filter": False,
                                      "params": {**TINY, "loosen": 3.0}}
    # 8 x 4, then the last round trains the IQP's answers only: 15 x 4
    assert [h["rerank"]["candidates"] for h in run.history[1:]] == [32, 60]
    assert run.best is not None and run.best.measured["params_M_c100"] <= 0.4
    # the store resumes with the same settings and refuses others
    again = iqnas.calibrate("nb201", oracle, "test_acc_c100", {"params_M_c100": 0.4}, 45,
                            store=tmp_path / "r.db", rerank="gcn", rerank_params=TINY, **kw)
    assert list(again.samples["key"]) == list(run.samples["key"])
    explicit = iqnas.calibrate("nb201", oracle, "test_acc_c100", {"params_M_c100": 0.4}, 45,
                               store=tmp_path / "r.db", rerank="gcn",
                               rerank_params={**TINY, "loosen": 3}, **kw)
    assert list(explicit.samples["key"]) == list(run.samples["key"])  # the default, recorded
    with pytest.raises(InputError, match="different settings"):
        iqnas.calibrate("nb201", oracle, "test_acc_c100", {"params_M_c100": 0.4}, 45,
                        store=tmp_path / "r.db", **kw)
    with pytest.raises(InputError, match="different settings"):  # another plan: refused
        iqnas.calibrate("nb201", oracle, "test_acc_c100", {"params_M_c100": 0.4}, 45,
                        store=tmp_path / "r.db", rerank="gcn",
                        rerank_params={**TINY, "loosen": 1}, **kw)


def test_identity_rerank_reproduces_the_plain_run(nb201, tmp_path, monkeypatch):
    """Re-ranking screens lazily: with the identity as re-ranker (the IQP's order kept) the run
    trains the same networks in the same order and spends the same look-ups as the plain
    run, under a near-median latency budget where screening looks candidates up."""
    oracle, _, table = nb201
    budget = {LAT: float(table[LAT].quantile(0.5))}
    kw = dict(rounds=4, seed=3, progress=False)
    plain = iqnas.calibrate("nb201", oracle, "test_acc_c100", budget, 40,
                            store=tmp_path / "p.db", **kw)

    def identity(self, candidates, k, samples, seed):
        self.last = {"candidates": len(candidates), "filtered_out": 0}
        return list(candidates)[:k]

    monkeypatch.setattr(GCNReranker, "order", identity)
    flat = {**TINY, "loosen": 1}  # the IQP within the budgets, as the plain run
    same = iqnas.calibrate("nb201", oracle, "test_acc_c100", budget, 40,
                           store=tmp_path / "i.db", rerank="gcn", rerank_params=flat, **kw)
    assert list(same.samples["key"]) == list(plain.samples["key"])
    assert list(same.lookups["key"]) == list(plain.lookups["key"])
    assert [h["lookups"] for h in same.history] == [h["lookups"] for h in plain.history]
    assert sum(h["looked_up"] for h in plain.history[1:]) > 0  # the rounds did screen
    # 4 x the IQP share of each round: 5 of 10, and all 10 in the last round (which trains
    # the IQP's answers only)
    assert [h["rerank"]["candidates"] for h in same.history[1:]] == [20, 20, 40]
    assert same.best.architecture == plain.best.architecture

    def reverse(self, candidates, k, samples, seed):
        self.last = {"candidates": len(candidates), "filtered_out": 0}
        return list(candidates)[::-1][:k]

    monkeypatch.setattr(GCNReranker, "order", reverse)
    other = iqnas.calibrate("nb201", oracle, "test_acc_c100", budget, 40,
                            store=tmp_path / "r.db", rerank="gcn", rerank_params=flat, **kw)
    assert list(other.samples["key"]) != list(plain.samples["key"])  # the order matters


@pytest.mark.parametrize("kw, needle", [
    ({"rerank": "mlp"}, r"^The 'rerank' parameter of calibrate\(\) must be one of 'gcn' or "
                        r"None\. Got 'mlp' instead\.$"),
    ({"rerank": "gcn", "rerank_factor": 0}, r"^The 'rerank_factor' parameter of calibrate"),
    ({"rerank": "gcn", "rerank_params": {"bogus": 1}}, "unknown parameter 'bogus'"),
    ({"rerank": "gcn", "rerank_params": {"epochs": -2}}, "'epochs' parameter"),
    ({"rerank": "gcn", "rerank_params": {"rule": "best"}}, "unknown rule 'best'; use one of"),
    ({"rerank": "gcn", "selection": "random"}, "selection='iterative'"),
])
def test_calibrate_rerank_bad_input(nb201, tmp_path, kw, needle):
    with pytest.raises(InputError, match=needle):
        iqnas.calibrate("nb201", nb201[0], "test_acc_c100", None, 20, store=tmp_path / "x.db",
                        **kw)
    assert not (tmp_path / "x.db").exists()


def test_cli_rerank_on_a_space_without_graph_encoding_exits_2(tmp_path, capsys, monkeypatch):
    from iqnas import spaces

    toy = _toy_space()
    monkeypatch.setitem(spaces._BUILDERS, "toy_nograph", lambda: toy)
    monkeypatch.setitem(spaces._CACHE, "toy_nograph", toy)
    csv = tmp_path / "toy.csv"
    lines = ["arch,acc"] + [f"{toy.arch(c).key},{i}" for i, c in enumerate(toy.enumerate_choices())]
    csv.write_text("\n".join(lines) + "\n")
    db = tmp_path / "t.db"
    code = main(["calibrate", "--space", "toy_nograph", "--oracle", str(csv), "--objective",
                 "acc", "--samples", "4", "--rerank", "gcn", "--store", str(db)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "no graph encoding" in err and len(err.splitlines()) == 1
    assert not db.exists()
    code = main(["calibrate", "--space", "nb201", "--oracle", "nb201", "--objective",
                 "test_acc_c100", "--rerank-filter", "--store", str(db)])
    assert code == 2 and "need --rerank gcn" in capsys.readouterr().err
    code = main(["calibrate", "--space", "nb201", "--oracle", "nb201", "--objective",
                 "test_acc_c100", "--rerank-rule", "hedge", "--store", str(db)])
    assert code == 2 and "need --rerank gcn" in capsys.readouterr().err
    assert not db.exists()


# ---- the loosened plan of rerank="gcn" (look-ups decide what the latency model rules out) ------
def _hidden_cheap_oracle(table, space):
    """NB201 accuracy; a hand-made latency: the number of 3x3 convolutions, except that the 15
    cells of four 3x3 and two 1x1 convolutions cost 0 (outliers a fitted model over-predicts:
    4 against a budget of 1.5)."""
    from iqnas.oracles.function_oracle import FunctionOracle

    acc = dict(zip((space.arch(c).key for c in iqnas.oracles.nb201("cifar100").choices),
                   table["test_acc_c100"].to_numpy(dtype=float)))

    def lat(arch):
        c = np.array(arch.choices)
        n3, n1 = int((c == 3).sum()), int((c == 2).sum())
        return 0.0 if (n3, n1) == (4, 2) else float(n3)

    def fn(arch, metrics=None):
        out = {"lat": lat(arch)}
        if metrics is None or "acc" in metrics:
            out["acc"] = acc[arch.key]
        return out

    return FunctionOracle(fn, ["acc", "lat"], space), lat


def test_loosened_plan_finds_what_the_latency_model_rules_out_and_trains_only_feasible(
        nb201, tmp_path):
    _, space, table = nb201
    oracle, lat = _hidden_cheap_oracle(table, space)
    hidden = {space.arch(c).key for c in space.enumerate_choices()
              if lat(space.arch(c)) == 0 and int((np.array(c) == 3).sum()) == 4}
    assert len(hidden) == 15
    kw = dict(rounds=4, seed=1, progress=False)
    runs = {}
    for loosen in (1, 3):
        runs[loosen] = iqnas.calibrate(
            "nb201", oracle, "acc", {"lat": 1.5}, 40, store=tmp_path / f"l{loosen}.db",
            rerank="gcn", rerank_params={"rule": "iqp", "loosen": loosen}, **kw)
    plain, loose = runs[1], runs[3]
    assert plain.settings["rerank"]["params"]["loosen"] == 1
    # the plain plan never proposes a hidden cell (predicted 4 > 1.5); the loosened one (within
    # 4.5) proposes them, and the look-ups find them feasible
    assert not set(plain.measurements["key"]) & hidden
    later = loose.samples[loose.samples["round"] > 0]
    assert set(later["key"]) & hidden
    assert loose.best.architecture.key in hidden and loose.best.measured["lat"] <= 1.5
    assert loose.best.measured["acc"] > plain.best.measured["acc"]
    # budgets stay hard: every network a loosened round trained meets the true budget
    assert len(later) == 30 and (later["lat"] <= 1.5).all()
    assert sum(h["looked_up"] for h in loose.history[1:]) > \
        sum(h["looked_up"] for h in plain.history[1:])


def test_screen_loosened_looks_up_instead_of_predicting():
    """With ``loosen`` 3 a candidate predicted at twice the budget is looked up (kept iff its
    true value meets the budget) and a safely predicted one is looked up too; with 1 the
    first is dropped unseen and the second trained on its prediction."""
    from iqnas.calibration.conformal import Margin
    from iqnas.calibration.screening import LookupBudget, Screen

    space = _toy_space()
    a, b = (space.arch(c) for c in space.enumerate_choices()[:2])
    pred = {a.key: 2.0, b.key: 0.1}
    true = {a.key: 0.5, b.key: 2.0}

    class Form:
        def __call__(self, arch):
            return pred[arch.key]

    for loosen, expected, looked in ((3.0, [True, False], 2), (1.0, [False, True], 0)):
        seen = []
        screen = Screen([{"m": 1.0}], lambda arch: {},
                        lambda arch, seen=seen: seen.append(arch) or {"m": true[arch.key]},
                        LookupBudget(10), forms={"m": Form()},
                        margins={"m": Margin(-0.2, 0.2, 20, 0.9)}, loosen=loosen)
        assert [screen.accept(x, 0) for x in (a, b)] == expected
        assert len(seen) == looked == screen.budget.used


@pytest.mark.parametrize("params, needle", [
    ({"loosen": 0.5}, r"^rerank_params: loosen=0\.5 must be a number >= 1"),
    ({"loosen": -2}, r"^rerank_params: loosen=-2 must be a number >= 1"),
    ({"loosen": "3"}, r"^rerank_params: loosen='3' must be a number >= 1"),
    ({"rule": "iqp", "bogus": 1}, "unknown parameter 'bogus'; GCN parameters are .*loosen"),
])
def test_calibrate_rerank_loosen_bad_input(nb201, tmp_path, params, needle):
    with pytest.raises(InputError, match=needle) as err:
        iqnas.calibrate("nb201", nb201[0], "test_acc_c100", None, 20, store=tmp_path / "x.db",
                        rerank="gcn", rerank_params=params)
    assert len(str(err.value).splitlines()) == 1
    assert not (tmp_path / "x.db").exists()


def test_cli_rerank_loosen(tmp_path, capsys, monkeypatch):
    import iqnas.cli.calibrate_cmd as cmd

    db = tmp_path / "t.db"
    base = ["calibrate", "--space", "nb201", "--oracle", "nb201", "--objective",
            "test_acc_c100", "--store", str(db)]
    assert main([*base, "--rerank-loosen", "2"]) == 2
    assert "--rerank-loosen need --rerank gcn" in capsys.readouterr().err
    assert main([*base, "--rerank", "gcn", "--rerank-loosen", "-1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "loosen=-1.0 must be a number >= 1" in err and len(err.splitlines()) == 1
    seen = {}

    def fake(*args, **kw):
        seen.update(kw)
        raise InputError("stop here")

    monkeypatch.setattr(cmd, "calibrate", fake)
    assert main([*base, "--rerank", "gcn", "--rerank-loosen", "2", "--rerank-rule", "iqp"]) == 2
    assert seen["rerank"] == "gcn" and seen["rerank_params"] == {"rule": "iqp", "loosen": 2.0}
    assert not db.exists()


def test_loosened_rounds_still_train_every_network_when_the_look_ups_run_out(nb201, tmp_path):
    """With few look-ups a loosened round runs out of them mid-way; the rest of the round is
    planned within the budgets (as a run without look-ups), so the run trains n_samples."""
    _, space, table = nb201
    oracle, _ = _hidden_cheap_oracle(table, space)
    run = iqnas.calibrate("nb201", oracle, "acc", {"lat": 1.5}, 40, store=tmp_path / "r.db",
                          rounds=4, seed=1, progress=False, resource_samples=25, rerank="gcn",
                          rerank_params={"rule": "iqp", "loosen": 3})
    assert max(h["lookups"] for h in run.history) == 25
    assert len(run.samples) == 40 and all(h["planned"] == 10 for h in run.history)
    assert run.best.measured["lat"] <= 1.5
