"""`iqnas calibrate` with a user's CSV of measurements that covers part of the space."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

import iqnas
from iqnas.calibration.selection import plan_round, pool_top_k
from iqnas.cli import main

N_ROWS = 3000


@pytest.fixture(scope="module")
def measured_csv(tmp_path_factory):
    """The first 3,000 NB201 cells with cifar100 accuracy and fpga latency, renamed, keyed by
    a 'cell' column: a user's own partial measurements."""
    table = iqnas.oracles.nb201("cifar100").table()
    sub = table[["test_acc_c100", "help_lat_fpga"]].head(N_ROWS)
    sub = sub.rename(columns={"test_acc_c100": "acc", "help_lat_fpga": "latency"})
    sub.index.name = "cell"
    path = tmp_path_factory.mktemp("csv") / "measured.csv"
    sub.to_csv(path)
    return path, sub


def _stored_keys(db, trained_only: bool = True) -> list[str]:
    """The store's sample keys: the trained networks (every metric measured), or also the
    resource-only look-ups."""
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT key, metrics FROM samples").fetchall()
    names = json.loads(sqlite3.connect(db).execute(
        "SELECT value FROM meta WHERE name = 'metrics'").fetchone()[0])
    return [k for k, m in rows if not trained_only or set(json.loads(m)) == set(names)]


def test_calibrate_on_a_partial_csv_measures_only_its_rows(measured_csv, tmp_path, capsys):
    path, sub = measured_csv
    db = tmp_path / "run.db"
    code = main(["calibrate", "--space", "nb201", "--oracle", str(path), "--key-column", "cell",
                 "--units", "latency=ms", "--units", "acc=%", "--objective", "acc",
                 "--constraint", "latency=3.0", "--samples", "40", "--store", str(db),
                 "--format", "json", "--quiet"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    keys = _stored_keys(db)
    assert len(keys) == len(set(keys)) == out["n_samples"] == 40
    assert set(_stored_keys(db, trained_only=False)) <= set(sub.index)  # nothing outside it
    measured = sub.loc[keys]
    ok = measured[measured["latency"] <= 3.0]
    best = out["best"]
    assert best["key"] == ok["acc"].idxmax()  # the best truly feasible measured cell
    assert out["true"]["acc"] == pytest.approx(ok["acc"].max())
    assert best["resources"]["latency"]["units"] == "ms"
    assert best["resources"]["latency"]["value"] <= 3.0


def test_random_selection_on_a_partial_csv_draws_from_its_rows(measured_csv, tmp_path):
    path, sub = measured_csv
    oracle = iqnas.oracles.csv_oracle(path, "nb201", key_column="cell")
    run = iqnas.calibrate("nb201", oracle, "acc", {"latency": 3.0}, 25, selection="random",
                          seed=3, store=tmp_path / "r.db", progress=False)
    assert len(run.samples) == 25 and set(run.samples["key"]) <= set(sub.index)


@pytest.mark.parametrize("argv, needle", [
    (["--oracle", "nb201", "--units", "help_lat_fpga=ms"], "apply to a CSV oracle"),
    (["--oracle", "{csv}", "--units", "latencyms"], "use METRIC=UNIT"),
    (["--oracle", "{csv}", "--key-column", "cell", "--units", "lat=ms"], "'lat'"),
    (["--oracle", "{csv}"], "line 1"),  # no 'arch' column: the key column must be named
])
def test_bad_csv_oracle_options_exit_2_with_one_line(measured_csv, tmp_path, capsys, argv,
                                                     needle):
    path, _ = measured_csv
    argv = [a.replace("{csv}", str(path)) for a in argv]
    db = tmp_path / "bad.db"
    code = main(["calibrate", "--space", "nb201", "--objective", "acc", "--samples", "20",
                 "--store", str(db), *argv])
    err = capsys.readouterr().err.strip()
    assert code == 2 and needle in err and len(err.splitlines()) == 1
    assert not db.exists()


def test_pool_top_k_is_the_exact_optimum_over_the_pool():
    """Ground truth by brute force: the best pool members within the predicted budget."""
    space = iqnas.spaces.get("nb201")
    rng = np.random.default_rng(0)
    pool = space.sample_choices(rng, 400)
    pool = np.unique(pool, axis=0)
    obj = iqnas.QuadraticForm(space, linear=rng.normal(size=space.n_vars))
    lat = iqnas.QuadraticForm(space, linear=rng.uniform(0, 1, size=space.n_vars))
    budget = float(np.median(lat.evaluate(choices=pool)))
    taken = {space.arch(pool[0])}
    top = pool_top_k(space, pool, obj, [{"lat": (lat, budget)}], 7, taken)
    ok = [space.arch(r) for r in pool if lat.evaluate(choices=r[None])[0] <= budget]
    ok = [a for a in ok if a not in taken]
    expect = sorted(ok, key=lambda a: -obj(a))[:7]
    assert [obj(a) for a in top] == pytest.approx([obj(a) for a in expect])
    assert len(set(top)) == 7


def test_plan_round_with_a_pool_never_leaves_it():
    space = iqnas.spaces.get("nb201")
    rng = np.random.default_rng(1)
    pool = np.unique(space.sample_choices(rng, 200), axis=0)
    members = {space.arch(r) for r in pool}
    obj = iqnas.QuadraticForm(space, linear=rng.normal(size=space.n_vars))
    lat = iqnas.QuadraticForm(space, linear=rng.uniform(0, 1, size=space.n_vars))

    def fit():
        return obj, [{"lat": (lat, 2.0)}], {"lat": 0.3}

    first = plan_round(0, 30, space, 0, fit, set(), pool=pool)
    assert len(first) == 30 and {a for a, _ in first} <= members
    taken = {a for a, _ in first}
    later = plan_round(3, 60, space, 0, fit, taken, pool=pool)
    chosen = [a for a, _ in later]
    assert len(chosen) == len(set(chosen)) == 60 and set(chosen) <= members - taken
    assert {src for _, src in later} <= {"iqp", "top-fraction"}


def test_training_free_mode_refuses_a_partial_csv(measured_csv, tmp_path, capsys):
    path, _ = measured_csv
    code = main(["calibrate", "--mode", "training-free", "--space", "nb201", "--oracle",
                 str(path), "--key-column", "cell", "--metrics", "acc", "--samples", "20"])
    err = capsys.readouterr().err
    assert code == 2 and f"covers only {N_ROWS} of the 15625" in err


def test_resource_samples_flag_caps_the_look_ups(tmp_path, capsys):
    """--resource-samples N: at most N resource-only look-ups (0: none), reported with each
    metric's chosen model in the JSON output; --samples counts trained networks only."""
    outs = {}
    for n in (0, 60):
        db = tmp_path / f"r{n}.db"
        code = main(["calibrate", "--space", "nb201", "--oracle", "nb201", "--objective",
                     "test_acc_c100", "--constraint", "help_lat_fpga=3.0", "--samples", "20",
                     "--rounds", "2", "--resource-samples", str(n), "--store", str(db),
                     "--format", "json", "--quiet"])
        assert code == 0
        outs[n] = json.loads(capsys.readouterr().out)
        assert outs[n]["n_samples"] == 20 == len(_stored_keys(db))
        assert len(_stored_keys(db, trained_only=False)) == 20 + outs[n]["resource_samples"]
    assert outs[0]["resource_samples"] == 0 < outs[60]["resource_samples"] <= 60
    assert outs[60]["model_choice"]["help_lat_fpga"] == "LinearResourceModel(linear)"
    assert outs[60]["history"][-1]["lookups"] <= 60
