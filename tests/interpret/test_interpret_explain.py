"""iqnas.explain: main effects, interactions, depth/width tables, bootstrap, exports and CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import iqnas
from iqnas import cli
from iqnas.calibration import QuadraticRegressor
from iqnas.cli import explain_cmd
from iqnas.errors import InputError
from iqnas.interpret import (
    COLUMNS,
    Moments,
    explain,
    form_from_table,
    read_csv,
    read_json,
    to_csv,
    to_json,
    to_markdown,
    top_rows,
)
from iqnas.space import Group, SearchSpace
from iqnas.spaces.mobilenet import BLOCK_OPTIONS

METRIC = "test_acc_c100"


@pytest.fixture(scope="module")
def nb201():
    """Min-norm least squares with all pairs on all 15,625 cells: group means match the data."""
    space = iqnas.spaces.get("nb201")
    tab = iqnas.oracles.nb201("cifar100").table()
    choices = np.array([space.parse_key(k).choices for k in tab.index])
    y = tab[METRIC].to_numpy()
    est = QuadraticRegressor(space, alpha=0.0, name=METRIC, units="%").fit(choices, y)
    return space, est.form_, choices, y


def binas_like(stage_gain: bool = True) -> iqnas.QuadraticForm:
    """BINAS-style bilinear accuracy on mobilenet: block option x [depth >= block] products.

    A block's gain is ``stage * (1 + expansion index)``, 1.5 times more for a stage's first block.
    So adding block 3 or 4 to stage s pays E[gain] = 2 s, and e6 - e3 pays 2 s (3 s at b1).
    """
    space = iqnas.spaces.get("mobilenet")
    n = space.n_vars
    lin, Q = np.zeros(n), np.zeros((n, n))
    for s in range(1, 6):
        for b in range(1, 5):
            for c, opt in enumerate(BLOCK_OPTIONS):
                gain = (s if stage_gain else 1) * (1 + c // 4) * (1.5 if b == 1 else 1.0)
                v = space.var_index(f"s{s}.b{b}", opt)
                if b <= 2:
                    lin[v] = gain
                for d in ("3", "4"):
                    if b > 2 and int(d) >= b:
                        Q[v, space.var_index(f"s{s}.depth", d)] = gain
    return iqnas.QuadraticForm(space, 70.0, lin, Q, name="acc", units="%")


def tiny_conditional() -> SearchSpace:
    """Two stages with depth controllers, expansion-named options and a free group (486 archs)."""
    return SearchSpace("tiny-explain", [
        Group("s1.b1", ("e3_k3", "e6_k3", "e4_k5")),
        Group("s1.b2", ("e3_k3", "e6_k3"), ("s1.depth", frozenset({"2", "3"}))),
        Group("s1.b3", ("e3_k3", "e6_k3", "e6_k5"), ("s1.depth", frozenset({"3"}))),
        Group("s1.depth", ("1", "2", "3")),
        Group("s2.b1", ("a", "b")),
        Group("s2.b2", ("e3", "e6"), ("s2.depth", frozenset({"2"}))),
        Group("s2.depth", ("1", "2")),
        Group("x", ("p", "q", "r")),
    ])


def _rows(df, table, **eq):
    sel = df["table"] == table
    for k, v in eq.items():
        sel &= df[k] == v
    return df[sel]


# ---- main effects against brute force ------------------------------------------------------------
def test_conv3x3_beats_avg_pool_on_every_edge(nb201):
    space, form, _, _ = nb201
    main = _rows(explain(form), "main", metric=METRIC)
    for g in space.groups:
        eff = main[main["group"] == g.name].set_index("option")["value"]
        assert eff["nor_conv_3x3"] > eff["avg_pool_3x3"], g.name
        assert eff["none"] == 0.0  # the reference is the first option


def test_main_effects_equal_brute_force_on_nb201(nb201):
    space, form, choices, y = nb201
    C = space.enumerate_choices()
    v = form.evaluate(choices=C)
    first = explain(form, tables=["main"])
    mean = explain(form, tables=["main"], reference="mean")
    mixed = explain(form, tables=["main"], reference={"e12": "nor_conv_1x1", "e23": "mean"})
    for gi, g in enumerate(space.groups):
        brute = np.array([v[C[:, gi] == o].mean() for o in range(5)])
        data = np.array([y[choices[:, gi] == o].mean() for o in range(5)])
        for df in (first, mean, mixed):
            np.testing.assert_allclose(df[df["group"] == g.name]["raw"], brute, atol=1e-9)
        # least squares with every one-hot column reproduces the data's group means exactly
        np.testing.assert_allclose(brute, data, atol=1e-6)
        np.testing.assert_allclose(first[first["group"] == g.name]["value"], brute - brute[0],
                                   atol=1e-9)
        np.testing.assert_allclose(mean[mean["group"] == g.name]["value"], brute - brute.mean(),
                                   atol=1e-9)
        ref = {"e12": brute[2], "e23": brute.mean()}.get(g.name, brute[0])
        np.testing.assert_allclose(mixed[mixed["group"] == g.name]["value"], brute - ref,
                                   atol=1e-9)
    assert set(mean["reference"]) == {"mean"}
    assert set(_rows(mixed, "main", group="e12")["reference"]) == {"nor_conv_1x1"}


@pytest.mark.parametrize("prior", ["architectures", "options"])
def test_conditional_space_effects_equal_brute_force(prior):
    space = tiny_conditional()
    rng = np.random.default_rng(3)
    n = space.n_vars
    form = iqnas.QuadraticForm(space, 0.5, rng.normal(size=n), rng.normal(size=(n, n)))
    C = space.enumerate_choices()
    assert len(C) == space.size == 486
    v = form.evaluate(choices=C)
    act = np.array([space.activity(c) for c in C])
    if prior == "architectures":
        w = np.ones(len(C))
    else:  # every active group's option uniform, controllers uniform over their options
        w = np.array([np.prod([1.0 / space.sizes[g] for g in range(space.n_groups) if a[g]])
                      for a in act])

    def cond(sel):
        return float((w[sel] * v[sel]).sum() / w[sel].sum())

    df = explain(form, prior=prior)
    for gi, g in enumerate(space.groups):
        brute = [cond(act[:, gi] & (C[:, gi] == o)) for o in range(space.sizes[gi])]
        np.testing.assert_allclose(_rows(df, "main", group=g.name)["raw"], brute, atol=1e-10)
    for stage, gi in ((1, 3), (2, 6)):
        brute = [cond(C[:, gi] == o) for o in range(space.sizes[gi])]
        depth = _rows(df, "depth", stage=stage)
        np.testing.assert_allclose(depth["value"], np.diff(brute), atol=1e-10)
        assert depth["position"].tolist() == list(range(2, space.sizes[gi] + 1))
    # width: widest (e6) minus narrowest (e3), each averaged over its options
    b3 = [cond(act[:, 2] & (C[:, 2] == o)) for o in range(3)]
    width = _rows(df, "width", group="s1.b3")
    assert width["value"].item() == pytest.approx((b3[1] + b3[2]) / 2 - b3[0], abs=1e-10)
    assert (width["option"].item(), width["reference"].item()) == ("e6", "e3")
    assert set(_rows(df, "width", metric="objective")["group"]) == {"s1.b1", "s1.b2", "s1.b3",
                                                                    "s2.b2"}


def test_moments_reject_impossible_combinations():
    space = tiny_conditional()
    form = iqnas.QuadraticForm(space, 0.0, np.ones(space.n_vars))
    mom = Moments(form)
    with pytest.raises(InputError, match="cannot occur together"):
        mom.expect({space.group_index("s1.b3"): 1, space.group_index("s1.depth"): 0})
    # a linear form with all-ones coefficients sums one per group, active or not
    assert mom.expect() == pytest.approx(space.n_groups)


# ---- interactions, depth and width -----------------------------------------------------------
def test_interactions_are_centred_blocks_of_the_coefficients(nb201):
    space, form, _, _ = nb201
    inter = _rows(explain(form, tables=["interactions"]), "interactions")
    assert len(inter) == 15 * 25
    Q = form.pairwise.toarray()
    for (g1, g2), blk in inter.groupby(["group", "group2"]):
        raw = np.array([Q[space.var_index(g1, a), space.var_index(g2, b)]
                        for a, b in zip(blk["option"], blk["option2"])]).reshape(5, 5)
        np.testing.assert_array_equal(blk["raw"].to_numpy().reshape(5, 5), raw)
        pure = blk["value"].to_numpy().reshape(5, 5)
        np.testing.assert_allclose(pure.mean(axis=0), 0.0, atol=1e-9)
        np.testing.assert_allclose(pure.mean(axis=1), 0.0, atol=1e-9)
        # pure interaction = raw minus its additive (row + column) part
        add = raw.mean(1, keepdims=True) + raw.mean(0, keepdims=True) - raw.mean()
        np.testing.assert_allclose(pure, raw - add, atol=1e-9)


def test_binas_like_depth_and_width_pay_off_in_deeper_stages():
    df = explain(binas_like(), tables=["depth", "width"])
    depth = _rows(df, "depth").pivot(index="stage", columns="position", values="value")
    assert depth.index.tolist() == [1, 2, 3, 4, 5] and depth.columns.tolist() == [3, 4]
    np.testing.assert_allclose(depth.to_numpy(), np.outer([2, 4, 6, 8, 10], [1, 1]), atol=1e-9)
    width = _rows(df, "width").pivot(index="stage", columns="position", values="value")
    expect = np.outer(np.arange(1, 6), [3.0, 2.0, 2.0, 2.0])
    np.testing.assert_allclose(width.to_numpy(), expect, atol=1e-9)
    # "deeper stages pay more" and "the start of each stage pays more" read off the tables
    assert (np.diff(depth.to_numpy(), axis=0) > 0).all()
    assert (width[1] > width[2]).all()
    flat = explain(binas_like(stage_gain=False), tables=["depth"])
    np.testing.assert_allclose(flat["value"], 2.0, atol=1e-9)


def test_depth_matches_monte_carlo_on_mobilenet():
    form = binas_like()
    space = form.space
    df = explain(form, tables=["depth"])
    C = space.sample_choices(np.random.default_rng(0), 60_000)
    v = form.evaluate(choices=C)
    gi = space.group_index("s5.depth")
    mc = [v[C[:, gi] == o].mean() for o in (1, 2)]  # depth 3 and 4 are common under the prior
    np.testing.assert_allclose(_rows(df, "depth", stage=5)["raw"], mc, atol=0.3)


def test_ofa_width_uses_expansion_groups():
    space = iqnas.spaces.get("ofa")
    lin = np.zeros(space.n_vars)
    for s in range(1, 6):
        for b in range(1, 5):
            lin[space.var_index(f"s{s}.b{b}.e", "6")] = s + b
    df = explain(iqnas.QuadraticForm(space, 0.0, lin), tables=["width", "depth"])
    width = _rows(df, "width")
    assert len(width) == 20 and set(width["option"]) == {"e6"}
    assert set(width["reference"]) == {"e3"}
    np.testing.assert_allclose(width["value"], width["stage"] + width["position"], atol=1e-12)
    depth = _rows(df, "depth").set_index(["stage", "position"])["value"]
    # adding block 3 (or 4) adds the average over its expansions: (s + b) / 3
    assert depth[(2, 3)] == pytest.approx(5 / 3) and depth[(4, 4)] == pytest.approx(8 / 3)


def test_resources_are_per_option_costs():
    space = iqnas.spaces.get("nb201")
    lat = iqnas.QuadraticForm(space, 1.0, np.arange(30, dtype=float) / 10, units="ms")
    obj = iqnas.QuadraticForm(space, 0.0, np.ones(30))
    df = explain(obj, resources={"latency_ms": lat}, reference="mean")
    res = _rows(df, "resources", metric="latency_ms")
    assert len(res) == 30
    # a linear form's main effect is its own coefficient minus the group's mean coefficient
    expect = np.concatenate([(np.arange(5) - 2.0) / 10 for _ in range(6)])
    np.testing.assert_allclose(res["value"], expect, atol=1e-12)
    assert df.attrs["forms"]["latency_ms"]["units"] == "ms"
    assert res["ci_low"].isna().all()


# ---- bootstrap ---------------------------------------------------------------------------------
def _noisy_linear(n, seed):
    space = iqnas.spaces.get("nb201")
    truth = iqnas.QuadraticForm(space, 50.0, np.random.default_rng(7).normal(0, 2.0, 30))
    rng = np.random.default_rng(seed)
    C = space.sample_choices(rng, n)
    return space, truth, C, truth.evaluate(choices=C) + rng.normal(0, 1.0, n)


def test_bootstrap_intervals_cover_the_truth_and_are_seeded():
    space, truth, C, y = _noisy_linear(300, seed=1)
    est = QuadraticRegressor(space, terms="linear", alpha=1e-6)
    form = est.fit(C, y).form_
    kw = dict(samples=(C, y), n_bootstrap=60, estimator=est, tables=["main"])
    df = explain(form, seed=5, **kw)
    true_eff = explain(truth, tables=["main"])["value"]
    moving = df["option"] != "none"
    covered = ((true_eff >= df["ci_low"]) & (true_eff <= df["ci_high"]))[moving]
    assert covered.sum() >= 20 and moving.sum() == 24
    assert (df["ci_low"] <= df["value"] + 1e-9).all() and (df["value"] <= df["ci_high"] + 1e-9).all()
    assert (df.loc[~moving, ["ci_low", "ci_high"]] == 0.0).all().all()
    again = explain(form, seed=5, **kw)
    np.testing.assert_array_equal(again["ci_low"], df["ci_low"])
    other = explain(form, seed=6, **kw)
    assert not np.array_equal(other["ci_low"], df["ci_low"])
    # four times the samples: intervals about half as wide
    space, _, C4, y4 = _noisy_linear(1200, seed=2)
    wide = (df["ci_high"] - df["ci_low"])[moving].mean()
    form4 = est.fit(C4, y4).form_
    df4 = explain(form4, seed=5, **{**kw, "samples": (C4, y4)})
    narrow = (df4["ci_high"] - df4["ci_low"])[moving].mean()
    assert 0.35 < narrow / wide < 0.7


def test_bootstrap_with_a_samples_table_and_default_estimator(nb201):
    space, form, _, _ = nb201
    tab = iqnas.oracles.nb201("cifar100").table().iloc[::150]
    samples = pd.DataFrame({"key": tab.index, METRIC: tab[METRIC].to_numpy()})
    lin = QuadraticRegressor(space, terms="linear", alpha=1.0).fit(tab.index.tolist(),
                                                                   tab[METRIC]).form_
    lin = lin.copy(name=METRIC)
    df = explain(lin, samples=samples, n_bootstrap=5, tables=["main", "coefficients"])
    assert df["ci_low"].notna().all() and (df["ci_low"] <= df["ci_high"]).all()
    with pytest.raises(InputError, match="metric"):
        explain(lin.copy(name=""), samples=samples, n_bootstrap=5)


# ---- issue 4 acceptance ----------------------------------------------------------------------
def test_acceptance_default_regressor_on_all_cells(tmp_path):
    """The issue's wording: a QuadraticRegressor (default settings: pairwise terms, CV ridge)
    fitted on all 15,625 cifar100 accuracies ranks nor_conv_3x3 above avg_pool_3x3 on every
    edge, and the exported table rebuilds a form that evaluates bit for bit identically."""
    space = iqnas.spaces.get("nb201")
    tab = iqnas.oracles.nb201("cifar100").table()
    est = QuadraticRegressor(space, name=METRIC, units="%").fit(tab.index.tolist(), tab[METRIC])
    assert est.alpha_ > 0 and est.cv_scores_ is not None
    df = explain(est.form_)
    main = _rows(df, "main").set_index(["group", "option"])["value"]
    for g in space.groups:
        assert main[(g.name, "nor_conv_3x3")] > main[(g.name, "avg_pool_3x3")], g.name
    C = space.enumerate_choices()
    ref = est.form_.evaluate(choices=C)
    for back in (read_json(to_json(df)), read_csv(to_csv(df, tmp_path / "t.csv"))):
        rebuilt = form_from_table(back, space="nb201")
        assert rebuilt.intercept == est.form_.intercept
        np.testing.assert_array_equal(rebuilt.linear, est.form_.linear)
        assert (rebuilt.pairwise != est.form_.pairwise).nnz == 0
        np.testing.assert_array_equal(rebuilt.evaluate(choices=C), ref)


def _ofa_depth_truth(oracle, n: int, seed: int) -> pd.DataFrame:
    """E[acc | s.depth = d] - E[acc | s.depth = d - 1] of the OFA predictor itself, by Monte
    Carlo under explain's prior (the other groups as ``space.sample``; the stage's blocks
    uniform when active), paired: the same draws at every depth."""
    space = oracle.space
    rng = np.random.default_rng(seed)
    base = space.sample_choices(rng, n)
    out = {}
    for s in range(1, 6):
        C = base.copy()
        blocks = [space.group_index(f"s{s}.b{b}.{k}") for b in range(1, 5) for k in "ke"]
        C[:, blocks] = rng.integers(3, size=(n, len(blocks)))
        means = []
        for d in (2, 3, 4):
            D = C.copy()
            D[:, space.group_index(f"s{s}.depth")] = d - 2
            for b in range(d + 1, 5):
                D[:, [space.group_index(f"s{s}.b{b}.k"), space.group_index(f"s{s}.b{b}.e")]] = 0
            means.append(oracle.accuracy_choices(D).mean())
        out[s] = np.diff(means)
    return pd.DataFrame(out, index=[3, 4]).T


def test_binas_depth_finding_reads_off_a_model_of_the_ofa_predictor():
    """A bilinear model fitted to 1,000 OFA-predictor samples: its depth table matches the
    predictor's own depth effects, and both say that depth pays off most in deeper stages and
    that the first added block (position 3) pays more than the second."""
    from iqnas.calibration import StratifiedSampler

    oracle = iqnas.oracles.ofa()
    space = oracle.space
    train = StratifiedSampler().sample_choices(space, 1000, seed=0)
    form = QuadraticRegressor(space, terms="bilinear").fit(
        train, oracle.accuracy_choices(train)).form_
    depth = _rows(explain(form, tables=["depth"]), "depth").pivot(
        index="stage", columns="position", values="value")
    truth = _ofa_depth_truth(oracle, 4000, seed=5)
    np.testing.assert_allclose(depth.to_numpy(), truth.to_numpy(), atol=0.12)
    for table in (depth, truth):
        gain = table.sum(axis=1)  # depth 2 -> 4, per stage
        assert gain.idxmax() == 4 and gain[[4, 5]].min() > gain[[1, 2]].max()
        assert (table[3] > table[4]).all()


# ---- exports -----------------------------------------------------------------------------------
def test_json_and_csv_exports_rebuild_the_form(nb201, tmp_path):
    space, form, _, _ = nb201
    df = explain(form)
    C = space.enumerate_choices()
    ref = form.evaluate(choices=C)
    back_json = read_json(to_json(df))
    back_csv = read_csv(to_csv(df, tmp_path / "t.csv"))
    for back in (back_json, back_csv):
        rebuilt = form_from_table(back, space="nb201")
        np.testing.assert_allclose(rebuilt.evaluate(choices=C), ref, atol=1e-9, rtol=0)
        pd.testing.assert_frame_equal(back[list(COLUMNS)].reset_index(drop=True),
                                      df[list(COLUMNS)].reset_index(drop=True))
    assert form_from_table(back_json).units == "%"  # the JSON keeps the space and units


def test_round_trip_on_a_conditional_space():
    form = binas_like()
    space = form.space
    C = space.sample_choices(np.random.default_rng(1), 2000)
    rebuilt = form_from_table(read_csv(to_csv(explain(form, tables=["coefficients"]))),
                              space="mobilenet")
    np.testing.assert_allclose(rebuilt.evaluate(choices=C), form.evaluate(choices=C), atol=1e-9)


def test_markdown_and_top_rows(nb201):
    _, form, _, _ = nb201
    df = explain(form, tables=["main", "interactions"])
    top = top_rows(df, 3)
    assert len(top) == 6
    inter = _rows(df, "interactions")
    assert set(_rows(top, "interactions")["value"].abs()) == set(
        inter["value"].abs().nlargest(3))
    md = to_markdown(top).splitlines()
    assert md[0].startswith("| table | metric | group | option |") and "ci_low" not in md[0]
    assert md[1].count("---") == md[0].count("|") - 1 and len(md) == 2 + 6
    assert md[2].split("|")[1].strip() == "main" or md[2].split("|")[1].strip() == "interactions"
    v = top.iloc[0]["value"]
    assert f"{v:.6g}" in md[2]


@pytest.mark.parametrize("kwargs, match", [
    (dict(reference={"e99": "none"}), "unknown group"),
    (dict(reference={"e01": "conv"}), "unknown option"),
    (dict(reference="last"), "reference"),
    (dict(tables=["main", "pies"]), "unknown table"),
    (dict(n_bootstrap=10), "needs samples"),
    (dict(samples=([], []), n_bootstrap=1), "n_bootstrap must be"),
    (dict(prior="gaussian"), "prior"),
    (dict(resources={"lat": "missing.json"}), "file not found"),
])
def test_bad_input(kwargs, match):
    form = iqnas.QuadraticForm(iqnas.spaces.get("nb201"), 0.0, np.ones(30))
    with pytest.raises(InputError, match=match):
        explain(form, **kwargs)


def test_not_a_form():
    with pytest.raises(InputError, match="QuadraticForm"):
        explain({"linear": []})


# ---- CLI -----------------------------------------------------------------------------------------
@pytest.fixture()
def run_cli(monkeypatch, capsys):
    if explain_cmd not in cli.COMMANDS:
        monkeypatch.setattr(cli, "COMMANDS", [*cli.COMMANDS, explain_cmd])

    def run(*argv):
        code = cli.main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err
    return run


@pytest.fixture(scope="module")
def cli_files(nb201, tmp_path_factory):
    d = tmp_path_factory.mktemp("explain")
    space, form, _, _ = nb201
    lat = iqnas.QuadraticForm(space, 1.0, np.arange(30) / 10, units="ms")
    tab = iqnas.oracles.nb201("cifar100").table().iloc[::100]
    pd.DataFrame({"key": tab.index, "acc": tab[METRIC]}).to_csv(d / "samples.csv", index=False)
    return {"form": form.save(d / "form.json"), "lat": lat.save(d / "lat.npz"),
            "samples": d / "samples.csv", "dir": d}


def test_cli_json_round_trip(run_cli, cli_files, nb201):
    space, form, _, _ = nb201
    code, out, _ = run_cli("explain", cli_files["form"], "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["meta"]["space"] == "nb201"
    rebuilt = form_from_table(read_json(out))
    C = space.enumerate_choices()
    np.testing.assert_allclose(rebuilt.evaluate(choices=C), form.evaluate(choices=C), atol=1e-9)


def test_cli_formats_and_files(run_cli, cli_files):
    d = cli_files["dir"]
    code, _, _ = run_cli("explain", cli_files["form"], "--resource", f"lat={cli_files['lat']}",
                         "--table", "resources", "--out", d / "res.csv")
    assert code == 0
    res = read_csv(d / "res.csv")
    assert set(res["table"]) == {"resources"} and len(res) == 30
    np.testing.assert_allclose(res["value"], np.tile(np.arange(5) / 10, 6), atol=1e-12)
    code, out, _ = run_cli("explain", cli_files["form"], "--table", "main", "--format",
                           "markdown", "--top", "4")
    assert code == 0 and out.startswith("| table |") and len(out.splitlines()) == 6
    code, out, _ = run_cli("explain", cli_files["form"], "--table", "main", "--table",
                           "interactions", "--top", "2")
    assert code == 0 and "main effects" in out and "nor_conv_3x3" in out and "interactions" in out
    code, _, _ = run_cli("explain", cli_files["form"], "--table", "main", "--out", d / "m.md")
    assert code == 0 and (d / "m.md").read_text().startswith("| table |")


def test_cli_bootstrap(run_cli, cli_files):
    code, out, _ = run_cli("explain", cli_files["form"], "--samples", cli_files["samples"],
                           "--metric", "acc", "--bootstrap", "3", "--table", "main",
                           "--format", "csv", "--reference", "mean")
    assert code == 0
    df = read_csv(out)
    assert df["ci_low"].notna().all() and set(df["reference"]) == {"mean"}


@pytest.mark.parametrize("extra, match", [
    (["--resource", "lat"], "NAME=FILE"),
    (["--resource", "lat=nope.json"], "not found"),
    (["--table", "resources"], "--resource"),
    (["--bootstrap", "5"], "--samples"),
    (["--samples", "SAMPLES"], "--bootstrap"),
    (["--samples", "SAMPLES", "--bootstrap", "3"], "--metric"),
    (["--reference", "e01"], "GROUP=OPTION"),
    (["--reference", "e77=none"], "unknown group"),
    (["--space", "mobilenet"], "nb201"),
    (["--top", "0"], "--top"),
])
def test_cli_bad_input_exit_2(run_cli, cli_files, extra, match):
    extra = [str(cli_files["samples"]) if a == "SAMPLES" else a for a in extra]
    code, _, err = run_cli("explain", cli_files["form"], *extra)
    assert code == 2
    assert match in err and len(err.strip().splitlines()) == 1


def test_cli_missing_form_exit_2(run_cli, tmp_path):
    code, _, err = run_cli("explain", tmp_path / "none.json")
    assert code == 2 and "not found" in err
