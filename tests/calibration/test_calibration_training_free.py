"""Training-free calibration on the NB201 table's cached FreeREA metrics (seed-systems.md FR-1)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd
import pytest

import iqnas
from iqnas.calibration import LinearResourceModel
from iqnas.calibration.training_free import (
    TrainingFreeModel,
    calibrate_training_free,
    resolve_columns,
)
from iqnas.errors import InputError
from iqnas.oracles.oracle import Oracle

SEEDS = range(10)
DATASETS = {"cifar10": "test_acc_c10", "cifar100": "test_acc_c100",
            "ImageNet16-120": "test_acc_in16"}


class _Guarded(Mapping):
    """An oracle's answer that fails the test when an accuracy column is read."""

    def __init__(self, values: dict[str, float], reads: list[str]) -> None:
        self._values = values
        self._reads = reads

    def __getitem__(self, key: str) -> float:
        if "acc" in key:
            raise AssertionError(f"training-free calibration read the trained accuracy {key!r}")
        self._reads.append(key)
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class NoAccuracy(Oracle):
    """The NB201 table oracle with its accuracy columns locked; counts measurements."""

    def __init__(self, dataset: str) -> None:
        self.inner = iqnas.oracles.nb201(dataset)
        self.space, self.dataset = self.inner.space, self.inner.dataset
        self.name = f"locked-{self.inner.name}"
        self.calls = 0
        self.reads: list[str] = []

    @property
    def metrics(self) -> list[str]:
        return self.inner.metrics

    @property
    def units(self) -> dict[str, str]:
        return self.inner.units

    def measure(self, arch) -> Mapping[str, float]:
        self.calls += 1
        return _Guarded(self.inner.measure(arch), self.reads)


@pytest.fixture(scope="module")
def nb():
    return {ds: iqnas.oracles.nb201(ds) for ds in DATASETS}


def _true(nb, ds: str, run) -> dict[str, float]:
    return nb[ds].measure(run.best.architecture)


def _params_form(oracle, metric: str = "params_M_c100") -> iqnas.QuadraticForm:
    """The exact parameter count form (params are linear in the one-hot cell on NB201)."""
    table = oracle.table()
    archs = [oracle.space.parse_key(k) for k in table.index]
    return LinearResourceModel(oracle.space, name=metric).fit(archs, table[metric]).form_


# ---- acceptance (seed-systems.md 4.6) ---------------------------------------------------------
def test_acceptance_unconstrained_three_datasets(nb):
    thresholds = {"cifar10": 94.30, "cifar100": 73.40, "ImageNet16-120": 46.30}
    nonfinite = 0
    for ds, metric in DATASETS.items():
        accs = []
        for seed in SEEDS:
            locked = NoAccuracy(ds)
            run = calibrate_training_free("nb201", locked, seed=seed, progress=False)
            assert run.n_evaluations == locked.calls <= 310
            assert run.n_trained == 0
            assert not any("acc" in k for k in run.samples.columns)
            suffix = metric.split("_")[-1]
            assert set(locked.reads) == {f"naswot_{suffix}", f"logsynflow_{suffix}"}
            nonfinite += int((~np.isfinite(run.samples["naswot"])).sum())
            assert np.isfinite(run.samples["score"]).all()
            accs.append(_true(nb, ds, run)[metric])
        assert np.mean(accs) >= thresholds[ds], (ds, accs)
    # NASWOT's -inf cells did occur in the samples, and were scored finitely
    assert nonfinite > 0


def test_acceptance_params_budget_cifar100(nb):
    accs = []
    for seed in SEEDS:
        locked = NoAccuracy("cifar100")
        run = calibrate_training_free("nb201", locked, constraints={"params_M_c100": 0.2},
                                      seed=seed, progress=False)
        assert run.n_evaluations == locked.calls <= 310
        true = _true(nb, "cifar100", run)
        assert run.best.truly_feasible and true["params_M_c100"] <= 0.2
        assert run.best.measured["params_M_c100"] == true["params_M_c100"]
        accs.append(true["test_acc_c100"])
        # every IQP candidate is within the budget by its true parameter count
        for cand in run.candidates:
            assert nb["cifar100"].measure(cand.architecture)["params_M_c100"] <= 0.2 + 1e-6
    assert np.mean(accs) >= 68.0, accs


def test_ablation_without_skip_drops_cifar100_below_72(nb):
    accs = [_true(nb, "cifar100", calibrate_training_free(
        "nb201", nb["cifar100"], metrics=("naswot", "logsynflow"), seed=seed,
        progress=False))["test_acc_c100"] for seed in SEEDS]
    assert np.mean(accs) < 72.0, accs


# ---- the IQP and the re-ranking ----------------------------------------------------------------
def test_scip_candidates_equal_the_brute_force_ranking_of_the_fitted_quadratic(nb):
    oracle = nb["cifar100"]
    run = calibrate_training_free("nb201", oracle, constraints={"params_M_c100": 0.3},
                                  n_samples=120, top_k=4, seed=3, solver="scip",
                                  progress=False)
    space = run.space
    C = space.enumerate_choices().astype(np.int64)
    vals = run.model.evaluate(choices=C)
    ok = run.resource_forms["params_M_c100"].evaluate(choices=C) <= 0.3 + 1e-9
    sampled = {space.parse_key(k).choices
               for k, s in zip(run.samples["key"], run.samples["source"]) if s != "candidate"}
    ok &= np.array([tuple(int(v) for v in row) not in sampled for row in C])
    order = np.flatnonzero(ok)[np.argsort(-vals[ok], kind="stable")][:4]
    assert run.candidates[0].architecture.choices == tuple(int(v) for v in C[order[0]])
    np.testing.assert_allclose([c.objective for c in run.candidates], vals[order], rtol=1e-9)
    assert [c.backend for c in run.candidates] == ["scip"] * 4
    # the answer is the exact-score argmax over every measured, truly feasible architecture
    s = run.samples
    feasible = s[s["feasible"]]
    assert run.best.key == feasible["key"].iloc[int(np.argmax(feasible["score"]))]
    assert run.best.measured["score"] == pytest.approx(feasible["score"].max())
    assert (s["params_M_c100"][s["feasible"]] <= 0.3).all()
    assert run.n_evaluations == len(s) == 124
    assert set(s["source"]) == {"pilot", "sample", "candidate"}


def test_normalisation_is_fixed_by_the_calibration_sample(nb):
    oracle = nb["cifar10"]
    run = calibrate_training_free("nb201", oracle, seed=1, progress=False)
    s = run.samples
    cal = s[s["source"] == "sample"]
    assert len(cal) == 300
    # taken from the calibration sample (not the candidates): FreeREA's max |v| (finite values)
    nas = cal["naswot"][np.isfinite(cal["naswot"])]
    assert run.score.stats["naswot"]["maxabs"] == pytest.approx(nas.abs().max())
    assert run.score.stats["logsynflow"]["maxabs"] == pytest.approx(
        cal["logsynflow"].abs().max())
    # an architecture scores the same whatever else is measured
    key = run.best.key
    alone = run.fitted.exact_score(key, oracle)
    assert alone == pytest.approx(run.best.measured["score"], rel=1e-12)
    table = oracle.table().rename(columns={"naswot_c10": "naswot", "logsynflow_c10": "logsynflow"})
    table["skip"] = [iqnas.calibration.proxies.skip_score(run.space.parse_key(k))
                     for k in table.index]
    assert run.score.score(table)[table.index.get_loc(key)] == pytest.approx(alone, rel=1e-12)
    # while FreeREA's set-relative score of the same architecture changes with the set
    def set_relative(frame):
        v = frame[["naswot", "logsynflow", "skip"]].replace(-np.inf, np.nan)
        v = v.fillna(v.min())
        return (v / (v.abs().max() + 1e-9)).sum(axis=1)
    in_sample = set_relative(s.set_index("key"))[key]
    in_table = set_relative(table)[key]
    assert abs(in_sample - in_table) > 1e-3
    # with a budget the normalisation comes from the truly feasible sampled architectures
    cons = calibrate_training_free("nb201", nb["cifar100"], constraints={"params_M_c100": 0.2},
                                   n_samples=80, top_k=2, seed=0, progress=False)
    first = cons.samples.iloc[:80]
    assert cons.score.stats["logsynflow"]["maxabs"] == pytest.approx(
        first["logsynflow"][first["feasible"]].abs().max())
    assert cons.score.stats["logsynflow"]["n"] == int(first["feasible"].sum()) < 80


def test_model_and_normalisation_round_trip_through_save_and_load(nb, tmp_path):
    oracle = nb["cifar100"]
    run = calibrate_training_free("nb201", oracle, constraints={"params_M_c100": 0.4},
                                  n_samples=100, top_k=3, seed=2, progress=False)
    path = run.save(tmp_path / "tf.json")
    back = TrainingFreeModel.load(path)
    C = run.space.enumerate_choices()
    np.testing.assert_allclose(back.model.evaluate(choices=C), run.model.evaluate(choices=C),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(back.resource_forms["params_M_c100"].evaluate(choices=C),
                               run.resource_forms["params_M_c100"].evaluate(choices=C),
                               rtol=1e-12, atol=1e-12)
    assert back.score.stats == run.score.stats and back.constraints == run.constraints
    assert back.columns == run.columns == {"naswot": "naswot_c100",
                                           "logsynflow": "logsynflow_c100", "skip": None}
    for key in run.samples["key"][:20]:
        assert back.exact_score(key, oracle) == pytest.approx(
            run.samples.set_index("key")["score"][key], rel=1e-12)
    # the reloaded IQP gives the same first candidate
    sampled = [run.space.parse_key(k) for k, s in zip(run.samples["key"], run.samples["source"])
               if s != "candidate"]
    res = iqnas.solve(back.problem(exclude=sampled), "exhaustive")
    assert res.architecture == run.candidates[0].architecture
    # bad files
    with pytest.raises(InputError, match=".json"):
        run.save(tmp_path / "tf.npz")
    (tmp_path / "bad.json").write_text("not json")
    with pytest.raises(InputError, match="not JSON"):
        TrainingFreeModel.load(tmp_path / "bad.json")
    with pytest.raises(InputError, match="file not found"):
        TrainingFreeModel.load(tmp_path / "missing.json")
    d = json.loads(path.read_text())
    with pytest.raises(InputError, match="format"):
        TrainingFreeModel.from_dict({**d, "format": "something/1"})
    with pytest.raises(InputError, match="incomplete"):
        TrainingFreeModel.from_dict({k: v for k, v in d.items() if k != "score"})
    with pytest.raises(InputError, match="inconsistent"):
        TrainingFreeModel.from_dict({**d, "resource_forms": {}})


def test_budget_that_no_measured_network_meets_is_repaired_a_bounded_number_of_times(nb):
    oracle = nb["cifar100"]
    exact = _params_form(oracle)
    # a form that claims 1 M fewer parameters than the truth: every architecture looks feasible
    # under it, none is truly (the budget is below the smallest network)
    wrong = iqnas.QuadraticForm(oracle.space, exact.intercept - 1.0, exact.linear)
    run = calibrate_training_free("nb201", oracle, constraints={"params_M_c100": 0.05},
                                  resource_forms={"params_M_c100": wrong}, n_samples=30,
                                  top_k=2, max_repairs=3, seed=0, progress=False)
    assert run.best is None
    assert run.n_evaluations == 30 + 2 + 3
    assert (run.samples["source"] == "repair").sum() == 3
    assert not run.samples["feasible"].any()


def test_rank_target_and_exclusion_off(nb):
    oracle = nb["cifar10"]
    run = calibrate_training_free("nb201", oracle, target="rank", exclude_measured=False,
                                  seed=0, progress=False)
    s = run.samples.iloc[:300]
    pred = run.model.evaluate([run.space.parse_key(k) for k in s["key"]])
    ranks = s["score"].rank().to_numpy() / len(s)
    assert np.corrcoef(pred, ranks)[0, 1] > 0.8
    assert run.n_evaluations <= 310
    assert _true(nb, "cifar10", run)["test_acc_c10"] >= 93.5


# ---- live metrics ----------------------------------------------------------------------------
def test_live_proxy_oracle_with_an_exact_params_form(nb):
    torch = pytest.importorskip("torch")
    from iqnas.builders import build
    from iqnas.oracles.proxy import ProxyOracle

    form = _params_form(nb["cifar100"])
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        live = ProxyOracle("nb201", n_inits=1, batch_size=8, input_size=8, dataset="cifar100")
        run = calibrate_training_free("nb201", live, constraints={"params_M": 0.3},
                                      resource_forms={"params_M": form}, n_samples=10,
                                      top_k=2, seed=0, progress=False)
        assert run.columns == {"naswot": "naswot", "logsynflow": "logsynflow", "skip": "skip"}
        assert run.n_evaluations == len(live.timings) == 12
        assert run.best is not None and run.best.truly_feasible
        net = build("nb201", run.best.architecture, dataset="cifar100")
        n_params = sum(p.numel() for p in net.parameters()) / 1e6
        assert n_params == pytest.approx(run.best.measured["params_M"], abs=1e-5)
        assert n_params <= 0.3
        s = run.samples.set_index("key")
        assert s.loc[run.best.key, "score"] == pytest.approx(s["score"][s["feasible"]].max())
    finally:
        torch.set_num_threads(old)


# ---- bad input -------------------------------------------------------------------------------
def test_bad_input_is_rejected_with_the_field_named(nb):
    o = nb["cifar100"]
    form = _params_form(o)
    bad = [
        (dict(metrics=("naswot", "zen_score")), "zen_score"),
        (dict(metrics=("naswot", "naswot")), "twice"),
        (dict(metrics="naswot"), "list"),
        (dict(metrics=()), "non-empty"),
        (dict(constraints={"flops": 1.0}), "flops"),
        (dict(constraints={"params_M_c100": -1.0}), "negative"),
        (dict(constraints=[("params_M_c100", 1.0)]), "constraints"),
        (dict(constraints={"naswot_c100": 1.0}, metrics=("naswot_c100",)), "clashes"),
        (dict(resource_forms={"params_M_c100": form}), "no budget"),
        (dict(constraints={"params_M_c100": 1.0}, resource_forms={"params_M_c100": 1.0}),
         "QuadraticForm"),
        (dict(n_samples=1), "n_samples"),
        (dict(n_samples=20_000), "n_samples"),
        (dict(top_k=0), "top_k"),
        (dict(seed=-1), "seed"),
        (dict(target="accuracy"), "target"),
        (dict(resource_terms="cubic"), "resource_terms"),
        (dict(pilot_share=0.0), "pilot_share"),
        (dict(normalisation="rank"), "method"),
        (dict(weights={"zen": 1.0}), "zen"),
    ]
    for kw, match in bad:
        with pytest.raises(InputError, match=match):
            calibrate_training_free("nb201", o, **kw)
    with pytest.raises(InputError, match="space"):
        calibrate_training_free("mobilenet", o)
    with pytest.raises(InputError, match="oracle"):
        calibrate_training_free("nb201", object())
    mobilenet = iqnas.spaces.get("mobilenet")
    with pytest.raises(InputError, match="skip"):
        resolve_columns(_FakeOracle(mobilenet, ["naswot", "logsynflow"]), ("naswot", "skip"))


class _FakeOracle(Oracle):
    name = "fake"

    def __init__(self, space, metrics):
        self.space, self._m = space, metrics

    @property
    def metrics(self):
        return list(self._m)

    def measure(self, arch):  # pragma: no cover - never called
        return pd.Series(0.0, index=self._m).to_dict()


def test_public_entry_points():
    assert iqnas.calibrate_training_free is calibrate_training_free
    assert iqnas.calibration.calibrate_training_free is calibrate_training_free
    assert "calibrate_training_free" in iqnas.__all__
    assert {"evolution", "bcfw", "random", "scip"} <= set(iqnas.solvers.names())


# ---- command line ----------------------------------------------------------------------------
def test_cli_training_free_mode_json_table_and_exit_codes(nb, capsys, tmp_path):
    from iqnas.cli import main

    argv = ["calibrate", "--mode", "training-free", "--space", "nb201", "--oracle", "nb201",
            "--dataset", "cifar100", "--constraint", "params_M_c100=0.2", "--samples", "120",
            "--top-k", "3", "--seed", "4"]
    assert main(argv + ["--format", "json", "--save-models", str(tmp_path)]) == 0
    d = json.loads(capsys.readouterr().out)
    api = calibrate_training_free("nb201", nb["cifar100"], constraints={"params_M_c100": 0.2},
                                  n_samples=120, top_k=3, seed=4, progress=False)
    assert d["best"]["key"] == api.best.key and d["n_trained"] == 0
    assert d["n_evaluations"] == api.n_evaluations == 123
    assert d["true"]["score"] == pytest.approx(api.best.measured["score"])
    assert "test_acc_c100" not in d["true"]
    assert [c["key"] for c in d["candidates"]] == [c.key for c in api.candidates]
    saved = TrainingFreeModel.load(tmp_path / "training_free.json")
    assert saved.score.stats == api.score.stats
    form = iqnas.QuadraticForm.load(tmp_path / "score.json")
    assert form(api.best.architecture) == pytest.approx(api.model(api.best.architecture))
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "123 metric evaluations, 0 trained networks" in out and api.best.key in out
    # bad input: exit 2 with the field named
    assert main(argv + ["--objective", "test_acc_c100"]) == 2
    assert "--objective" in capsys.readouterr().err
    assert main(argv + ["--metrics", "naswot", "grad_norm"]) == 2
    assert "grad_norm" in capsys.readouterr().err
    assert main(["calibrate", "--space", "nb201", "--oracle", "nb201"]) == 2
    assert "--objective is required" in capsys.readouterr().err


def test_cli_trained_mode_still_works_and_proxies_oracle_runs_live(capsys, tmp_path):
    from iqnas.cli import main

    code = main(["calibrate", "--space", "nb201", "--oracle", "nb201", "--objective",
                 "test_acc_c100", "--samples", "12", "--rounds", "2", "--store",
                 str(tmp_path / "s.db"), "--format", "json"])
    assert code == 0
    d = json.loads(capsys.readouterr().out)
    assert d["n_samples"] == 12 and "test_acc_c100" in d["true"]
    assert main(["calibrate", "--space", "nb201", "--oracle", "nb201", "--objective",
                 "test_acc_c100", "--metrics", "naswot"]) == 2
    assert "--metrics is for --mode training-free" in capsys.readouterr().err
    # --oracle proxies: the live training-free oracle (run live in the API test above)
    from iqnas.oracles import get as make_oracle
    from iqnas.oracles.proxy import ProxyOracle

    live = make_oracle("proxies", iqnas.spaces.get("nb201"), dataset="ImageNet16-120")
    assert isinstance(live, ProxyOracle) and live.num_threads == 1
    assert live.build_kw == {"dataset": "ImageNet16-120"}
    assert live.metrics == ["naswot", "logsynflow", "skip"]
    assert make_oracle("proxies", iqnas.spaces.get("mobilenet")).metrics == ["naswot",
                                                                             "logsynflow"]
