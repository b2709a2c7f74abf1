"""A reduced data-aware sweep (few, briefly trained networks): exact answers under the fitted
model, infeasibility with the smallest achievable flash, budgets rechecked on the exported
network, and the demo's JSON contract."""

from __future__ import annotations

import json

import numpy as np
import pytest

from iqnas.cli import main
from iqnas.workloads.data_aware import FIXED_INPUT, MODES, run_data_aware

pytest.importorskip("torch")
pytest.importorskip("sklearn")

PINNED = ("mode", "flash_budget", "ram_budget", "status", "key", "predicted_acc", "test_acc",
          "flash_bytes", "ram_bytes")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    store = tmp_path_factory.mktemp("da") / "digits.db"
    return run_data_aware([450, 1000], 1024, n_samples=14, epochs=2, top_k=2, seed=0,
                          store=store, progress=False)


def _rows(run):
    return {(r["flash_budget"], r["mode"]): r for r in run.rows}


def test_architecture_only_is_infeasible_below_its_smallest_flash(run):
    row = _rows(run)[(450.0, "architecture-only")]
    assert row["status"] == "infeasible" and row["key"] is None
    assert row["smallest_flash"] == 690.0          # k3-4 at 8x8: 3*3*4+4 + 4*4*4*10+10


def test_answers_are_feasible_on_the_exported_network(run):
    rows = _rows(run)
    for (budget, mode), row in rows.items():
        assert set(PINNED) <= set(row) and row["mode"] in MODES
        if row["key"] is None:
            continue
        assert row["flash_bytes"] <= budget and row["ram_bytes"] <= 1024
        assert row["within_budget"]
        if mode == "architecture-only":
            assert row["data_choices"] == FIXED_INPUT
    small = rows[(450.0, "data-aware")]
    assert small["status"] == "optimal" and small["data_choices"]["resolution"] != "8"
    both = rows[(1000.0, "data-aware")], rows[(1000.0, "architecture-only")]
    assert both[0]["val_acc"] >= both[1]["val_acc"]   # data-aware saw every network of the other


def test_iqp_answers_are_the_enumerated_optimum(run):
    space = run.model.space
    C = space.enumerate_choices()
    for (budget, mode), problem in run.problems.items():
        ok = problem.feasible(C)
        row = _rows(run)[(budget, mode)]
        if not ok.any():
            assert row["key"] is None
            continue
        best = problem.objective_values(C)[ok].max()
        assert problem.objective(space.parse_key(row["iqp_key"])) == pytest.approx(best)
        assert row["predicted_acc"] == pytest.approx(problem.objective(space.parse_key(
            row["key"])))


def test_explain_shows_data_groups_and_their_interactions(run):
    df = run.explain(tables=["main", "interactions", "resources"])
    assert df.attrs["data_groups"] == ["resolution", "bits"]
    main_groups = set(df.loc[df["table"] == "main", "group"])
    assert {"resolution", "bits", "conv"} <= main_groups
    inter = df[df["table"] == "interactions"]
    pairs = set(zip(inter["group"], inter["group2"]))
    assert {("resolution", "conv"), ("bits", "conv"), ("resolution", "bits")} <= pairs
    flash = df[(df["table"] == "resources") & (df["metric"] == "flash_bytes")
               & (df["group"] == "resolution")].set_index("option")["value"]
    assert flash["4"] < flash["6"] < flash["8"] == 0
    from iqnas.interpret import rich_tables

    titles = [t.title for t in rich_tables(df)]
    assert any(t.endswith("- data groups") for t in titles)
    assert any(t.endswith("- involving data groups") for t in titles)
    data_main = next(t for t in rich_tables(df) if t.title.startswith("main")
                     and t.title.endswith("- data groups"))
    assert set(data_main.columns[0]._cells) == {"resolution", "bits"}


def test_demo_json_contract(tmp_path, capsys):
    args = ["demo", "--data-aware", "--format", "json", "--quiet", "--samples", "10",
            "--epochs", "1", "--top-k", "1", "--workers", "1", "--flash-budgets", "450,1000",
            "--ram-budget", "900", "--store", str(tmp_path / "d.db")]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(r["flash_budget"], r["mode"]) for r in out["rows"]] == [
        (450.0, "architecture-only"), (450.0, "data-aware"),
        (1000.0, "architecture-only"), (1000.0, "data-aware")]
    for r in out["rows"]:
        assert set(PINNED) <= set(r) and r["ram_budget"] == 900
        if r["key"] is not None:
            assert r["flash_bytes"] <= r["flash_budget"] and r["ram_bytes"] <= 900
    assert out["n_trained"] >= 10 and np.isfinite(out["elapsed_s"])


@pytest.mark.parametrize("bad", [["--flash-budgets", "450,x"], ["--flash-budgets", "-3"],
                                 ["--ram-budget", "0"], ["--epochs", "0"], ["--top-k", "0"]])
def test_demo_bad_budgets_exit_2(bad, capsys, tmp_path):
    store = tmp_path / "never.db"
    assert main(["demo", "--data-aware", "--quiet", "--store", str(store), *bad]) == 2
    assert not store.exists()


def test_bad_settings_are_input_errors(tmp_path):
    from iqnas.errors import InputError

    for kw in ({"n_samples": 0}, {"epochs": 1.5}, {"top_k": True}):
        with pytest.raises(InputError, match="must be an integer >= 1"):
            run_data_aware([450], 1024, store=tmp_path / "x.db", **kw)
    with pytest.raises(InputError, match="at least one flash budget"):
        run_data_aware([], 1024, store=tmp_path / "x.db")
    assert not (tmp_path / "x.db").exists()


def test_demo_without_store_leaves_nothing_behind(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--data-aware", "--samples", "6", "--epochs", "1", "--top-k", "1",
                 "--workers", "1", "--flash-budgets", "1000"]) == 0
    text = capsys.readouterr().out
    assert "data-aware" in text and "architecture-only" in text and "data groups" in text
    assert list(tmp_path.iterdir()) == []


def test_results_list_data_and_architecture_choices_apart(run):
    import iqnas

    problem = run.problems[(1000.0, "data-aware")]
    d = iqnas.solve(problem).to_dict()
    assert set(d["data_choices"]) == {"resolution", "bits"}
    assert set(d["architecture_choices"]) == {"conv"}
    assert {**d["data_choices"], **d["architecture_choices"]} == d["choices"]
    plain = iqnas.spaces.get("nb201").sample(0).to_dict()
    assert "data_choices" not in plain                 # spaces without data groups unchanged
