"""Sample efficiency under hard budgets (issue 12): resource-only measurements, the model of each
metric chosen by out-of-fold quality, split-conformal margins and a feasible first round,
checked against the NB201 tables."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

import iqnas
from iqnas.calibration import calibrate
from iqnas.calibration.conformal import Margin, conformal_margin, loosened, tightened
from iqnas.calibration.model_choice import choose, resource_candidates
from iqnas.calibration.store import SampleStore
from iqnas.oracles.oracle import Oracle

ACC, FPGA, RASPI = "test_acc_c100", "help_lat_fpga", "help_lat_raspi4"


@pytest.fixture(scope="module")
def nb():
    return iqnas.oracles.nb201("cifar100")


@pytest.fixture(scope="module")
def table(nb):
    return nb.table()


class Counting(Oracle):
    """The NB201 table, recording the metrics each measurement asked for."""

    def __init__(self, inner):
        self.inner, self.space, self.name = inner, inner.space, "counting"
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    @property
    def metrics(self):
        return self.inner.metrics

    @property
    def units(self):
        return self.inner.units

    def measure(self, arch, metrics=None):
        out = self.inner.measure(arch, metrics=metrics)
        self.calls.append((self.space.to_arch(arch).key, tuple(out)))
        return out


def _onehot(space, keys):
    return space.choices_to_onehot(np.array([space.parse_key(k).choices for k in keys]))


# ---- 1. resource-only measurements ---------------------------------------------------------
def test_table_oracles_measure_only_the_metrics_asked_for(nb, table):
    key = table.index[17]
    assert nb.measure(key, metrics=[FPGA]) == {FPGA: table.at[key, FPGA]}
    frame = nb.measure_many(list(table.index[:3]), metrics=[RASPI, FPGA])
    assert list(frame.columns) == [RASPI, FPGA]
    assert frame[FPGA].tolist() == table[FPGA].iloc[:3].tolist()
    ofa = iqnas.oracles.ofa()
    arch = ofa.space.sample(np.random.default_rng(0), 1)[0]
    lat = ofa.measure(arch, metrics=[ofa.metrics[1]])
    assert list(lat) == [ofa.metrics[1]] and lat[ofa.metrics[1]] == ofa.measure(arch)[
        ofa.metrics[1]]
    with pytest.raises(iqnas.InputError):
        nb.measure(key, metrics=["latency"])


def test_a_store_extends_a_looked_up_sample_when_the_network_is_trained(nb, table, tmp_path):
    a, b = table.index[:2]
    with SampleStore(tmp_path / "s.db", nb.space) as st:
        st.declare_metrics([ACC, FPGA])
        st.add(a, {FPGA: table.at[a, FPGA]}, round=0, source="lookup", partial=True)
        st.add(b, {ACC: table.at[b, ACC], FPGA: table.at[b, FPGA]}, round=0, source="initial")
        assert np.isnan(st.samples().set_index("key").at[a, ACC])
        st.add(a, {ACC: table.at[a, ACC], FPGA: table.at[a, FPGA]}, round=2, source="iqp")
        assert st.measurements(a) == [{"round": 0, "source": "lookup", "metrics": [FPGA]},
                                      {"round": 2, "source": "iqp", "metrics": [ACC]}]
        frame = st.samples()
        assert list(frame["key"]) == [b, a]          # fitted in the order of the measurements
        assert st.keys() == [a, b]                   # but the sample kept its place
        assert frame.set_index("key").at[a, ACC] == table.at[a, ACC]
        assert frame.set_index("key").at[a, "round"] == 2
        before = st.samples(before_round=1)
        assert list(before["key"]) == [a, b] and before["round"].tolist() == [0, 0]
        before = before.set_index("key")
        assert np.isnan(before.at[a, ACC]) and before.at[a, FPGA] == table.at[a, FPGA]
        with pytest.raises(iqnas.InputError):      # a partial sample must not break the store
            st.add(a, {FPGA: table.at[a, FPGA] + 1.0}, partial=True)


def test_an_extended_sample_keeps_its_place_and_later_samples_follow_it(nb, table, tmp_path):
    a, b, c, d = table.index[:4]
    full = {k: {ACC: table.at[k, ACC], FPGA: table.at[k, FPGA]} for k in (a, b, c, d)}
    path = tmp_path / "s.db"
    with SampleStore(path, nb.space) as st:
        st.declare_metrics([ACC, FPGA])
        st.add(a, {FPGA: full[a][FPGA]}, round=0, source="lookup", partial=True)
        st.add(b, {FPGA: full[b][FPGA]}, round=0, source="lookup", partial=True)
        st.add(c, full[c], round=0, source="initial")
        st.add(b, full[b], round=1, source="iqp")    # b trained: after c
        st.add(d, full[d], round=1, source="iqp")    # d: after b
        st.add(a, full[a], round=2, source="iqp")    # a trained last
        assert st.keys() == [a, b, c, d] and len(st) == 4
        assert list(st.samples()["key"]) == [c, b, d, a]
        assert list(st.samples(before_round=1)["key"]) == [a, b, c]
        assert list(st.samples(before_round=2)["key"]) == [a, c, b, d]
        assert [k for k, _ in st.all_measurements()] == [a, a, b, b, c, d]
        with sqlite3.connect(path) as con:               # no row was written twice
            assert con.execute("SELECT seq FROM samples ORDER BY seq").fetchall() == [
                (1,), (2,), (3,), (5,)]


def test_a_store_whose_extended_samples_were_moved_reads_as_before(nb, table, tmp_path):
    """Stores of earlier iqnas moved an extended sample to the end (a new seq, no place in its
    measurements): their order is kept."""
    a, b = table.index[:2]
    path = tmp_path / "old.db"
    with SampleStore(path, nb.space) as st:
        st.declare_metrics([ACC, FPGA])
        st.add(a, {FPGA: table.at[a, FPGA]}, round=0, source="lookup", partial=True)
        st.add(b, {ACC: table.at[b, ACC], FPGA: table.at[b, FPGA]}, round=0, source="initial")
    events = [{"round": 0, "source": "lookup", "metrics": [FPGA]},
              {"round": 1, "source": "iqp", "metrics": [ACC]}]
    with sqlite3.connect(path) as con:                   # what the earlier DELETE + INSERT left
        con.execute("DELETE FROM samples WHERE key = ?", (a,))
        con.execute("INSERT INTO samples (key, metrics, round, source, created, measured) "
                    "VALUES (?, ?, 1, 'iqp', 0, ?)",
                    (a, json.dumps({ACC: table.at[a, ACC], FPGA: table.at[a, FPGA]}),
                     json.dumps(events)))
    with SampleStore(path, nb.space) as st:
        assert st.keys() == [b, a] and list(st.samples()["key"]) == [b, a]
        assert list(st.samples(before_round=1)["key"]) == [b, a]
        assert st.measurements(a) == events
        c = table.index[2]
        st.add(c, {FPGA: table.at[c, FPGA]}, round=1, source="lookup", partial=True)
    with sqlite3.connect(path) as con:                   # a store without its sequence row
        con.execute("DELETE FROM sqlite_sequence")
    with SampleStore(path, nb.space) as st:
        st.add(b, {FPGA: table.at[b, FPGA]}, partial=True)  # nothing new: no place taken
        st.add(c, {ACC: table.at[c, ACC], FPGA: table.at[c, FPGA]}, round=2, source="iqp")
        assert st.keys() == [b, a, c] and list(st.samples()["key"]) == [b, a, c]
        st.add(table.index[3], {FPGA: table.at[table.index[3], FPGA]}, partial=True)
        assert st.keys()[-1] == table.index[3]
        assert list(st.samples()["key"]) == [b, a, c, table.index[3]]


def test_calibrate_counts_trained_networks_and_looks_up_resources_only(nb, table, tmp_path):
    budget = float(np.quantile(table[FPGA], 0.1))
    oracle = Counting(nb)
    run = calibrate("nb201", oracle, ACC, {FPGA: budget}, 30, seed=1, rounds=3,
                    resource_samples=120, store=tmp_path / "r.db", progress=False)
    trained = [k for k, m in oracle.calls if ACC in m]
    looked = [k for k, m in oracle.calls if ACC not in m]
    assert len(run.samples) == 30 and run.samples[ACC].notna().all()
    assert sorted(trained) == sorted(run.samples["key"])        # n_samples = trained networks
    assert 0 < len(looked) <= 120
    assert all(m == (FPGA,) for k, m in oracle.calls if ACC not in m)  # accuracy never revealed
    assert set(run.lookups["key"]) == set(looked) - set(trained)
    assert run.lookups[ACC].isna().all()
    assert run.history[-1]["lookups"] == len(looked)
    oracle0 = Counting(nb)
    run0 = calibrate("nb201", oracle0, ACC, {FPGA: budget}, 30, seed=1, rounds=3,
                     resource_samples=0, store=tmp_path / "r0.db", progress=False)
    assert len(oracle0.calls) == 30 and len(run0.lookups) == 0


# ---- 2. the model of each metric ------------------------------------------------------------
def _held_out_choice(nb, table, metric, n):
    """(the model chosen from n random samples, the held-out RMSE of each candidate on the rest
    of the table)."""
    rng = np.random.default_rng(0)
    idx = rng.choice(len(table), n, replace=False)
    rest = np.setdiff1d(np.arange(len(table)), idx)
    X = _onehot(nb.space, table.index[idx])
    Xr = _onehot(nb.space, table.index[rest])
    y = table[metric].to_numpy()
    cands = resource_candidates(nb.space, "auto", metric)
    choice = choose(metric, cands, X, y[idx], "rmse")
    held = {}
    for est in cands:
        pred = type(est)(**est.get_params()).fit(X, y[idx]).predict(Xr)
        held[type(est).__name__] = float(np.sqrt(np.mean((pred - y[rest]) ** 2)))
    return choice, held


def test_model_choice_follows_held_out_quality(nb, table):
    """fpga latency is additive (a linear model explains it exactly); raspi4's is not, but from
    150 samples the pairwise model predicts the rest of the table worse: linear is chosen for
    both, and it is the better model on the 15,475 held-out networks."""
    for metric in (FPGA, RASPI):
        choice, held = _held_out_choice(nb, table, metric, 150)
        assert choice.name == "LinearResourceModel(linear)", (metric, choice.scores)
        assert held["LinearResourceModel"] <= held["QuadraticRegressor"], (metric, held)


@pytest.mark.slow
def test_with_more_samples_the_pairwise_latency_model_is_chosen(nb, table):
    """From 1,000 samples the pairwise raspi4 model is better held out, and chosen."""
    choice, held = _held_out_choice(nb, table, RASPI, 1000)
    assert choice.name == "QuadraticRegressor(pairwise)", choice.scores
    assert held["QuadraticRegressor"] < 0.9 * held["LinearResourceModel"], held


def test_the_quality_table_names_each_metrics_model(nb, table, tmp_path):
    budget = float(np.quantile(table[RASPI], 0.3))
    run = calibrate("nb201", nb, ACC, {RASPI: budget}, 60, seed=0, rounds=3,
                    store=tmp_path / "q.db", progress=False)
    q = run.quality()
    assert set(q["model_choice"]) <= {"LinearResourceModel(linear)",
                                      "QuadraticRegressor(pairwise)", "PairwiseRanker(pairwise)",
                                      "PairwiseRanker(linear)"}
    assert q.at[RASPI, "model_choice"] == run.model_choice[RASPI]
    assert q.at[RASPI, "n"] == len(run.samples) + len(run.lookups)  # look-ups fit it too
    assert q.at[ACC, "n"] == len(run.samples)
    reloaded = iqnas.calibration.load_run(run.store_path)
    assert reloaded.model_choice == run.model_choice
    assert len(reloaded.samples) == len(run.samples)


# ---- 3. split-conformal margins ----------------------------------------------------------------
def test_conformal_margin_by_hand():
    y = np.arange(10.0)
    pred = y - np.array([-3, -2, -1, 0, 0, 0, 1, 2, 3, 4.0])   # residuals -3..4
    m = conformal_margin(y, pred, coverage=0.8)
    # n = 10: upper = ceil(11 * 0.8) = 9th smallest residual, lower = floor(11 * 0.2) = 2nd
    assert (m.upper, m.lower, m.n) == (3.0, -2.0, 10)
    assert tightened({"lat": 10.0}, {"lat": m}) == {"lat": 7.0}
    assert loosened({"lat": 10.0}, {"lat": m}) == {"lat": 12.0}
    assert tightened({"lat": 1.0}, {"lat": m}) == {"lat": 0.0}
    assert Margin(-1, 1, 5, 0.9).safe([3.0, 4.5], 4.0).tolist() == [True, False]


def test_conformal_margin_covers_the_rest_of_the_table(nb, table):
    """Margins from the out-of-fold residuals of 100 samples bound the true raspi4 latency of
    the other 15,525 networks at least as often as the coverage asks (minus sampling slack)."""
    from iqnas.calibration.estimators import out_of_fold
    from iqnas.calibration.resource_models import LinearResourceModel

    y = table[RASPI].to_numpy()
    for seed in range(3):
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(table), 100, replace=False)
        rest = np.setdiff1d(np.arange(len(table)), idx)
        X = _onehot(nb.space, table.index[idx])
        est = LinearResourceModel(nb.space)
        margin = conformal_margin(y[idx], out_of_fold(est, X, y[idx], 5, seed), 0.9)
        pred = est.fit(X, y[idx]).predict(_onehot(nb.space, table.index[rest]))
        assert np.mean(y[rest] <= pred + margin.upper) >= 0.85
        assert np.mean(y[rest] >= pred + margin.lower) >= 0.85


# ---- 3 and 4: screening and the first round ----------------------------------------------------
def test_trained_networks_are_feasible_from_the_first_round(nb, table, tmp_path):
    """Under the tight fpga budget (10 % of the table within it), 25 trained networks in two
    rounds (10 + 15): at least half of the first round is truly feasible (looked up), most of
    the second (a look-up decides near the budget); without look-ups far fewer are."""
    budget = float(np.quantile(table[FPGA], 0.1))
    shares = {}
    for lookups in (250, 0):
        run = calibrate("nb201", nb, ACC, {FPGA: budget}, 25, seed=3, rounds=2,
                        resource_samples=lookups, store=tmp_path / f"f{lookups}.db",
                        progress=False)
        assert [h["planned"] for h in run.history] == [10, 15]
        ok = run.samples[FPGA].to_numpy() <= budget * (1 + iqnas.problem.BUDGET_RTOL)
        first = run.samples["round"].to_numpy() == 0
        shares[lookups] = (float(ok[first].mean()), float(ok[~first].mean()))
    assert shares[250][0] >= 0.5, shares
    assert shares[250][1] >= 0.9, shares
    assert shares[0][0] < 0.5 and shares[0][1] < shares[250][1], shares


def test_short_runs_train_a_first_round_of_ten_then_rounds_of_three():
    """Runs of fewer than SHORT_RUN (40) networks: 10 first, then at most rounds - 1 nearly
    equal rounds of at least 3; from 40 networks on (and with rounds=1) the equal split of
    at least 10 per round, as before."""
    from iqnas.calibration.selection import SHORT_RUN, round_sizes, schedule

    assert schedule(25, 10) == [10, 3, 3, 3, 3, 3]
    assert schedule(20, 10) == [10, 4, 3, 3]
    assert schedule(15, 10) == [10, 5]
    assert schedule(35, 10) == [10, 4, 3, 3, 3, 3, 3, 3, 3]
    assert schedule(39, 10) == [10, 4, 4, 3, 3, 3, 3, 3, 3, 3]
    assert schedule(25, 3) == [10, 8, 7] and schedule(25, 2) == [10, 15]
    assert schedule(12, 10) == [12] and schedule(25, 1) == [25]
    assert SHORT_RUN == 40 and schedule(40, 10) == [10] * 4
    assert schedule(50, 10) == [10] * 5 and schedule(100, 10) == [10] * 10
    assert schedule(200, 10) == [20] * 10
    for n in range(2, 120):
        for rounds in (1, 2, 3, 5, 10, 12):
            sizes = schedule(n, rounds)
            assert sum(sizes) == n and len(sizes) <= rounds and min(sizes) >= 1
            if n >= SHORT_RUN:
                assert sizes == round_sizes(n, rounds)


def test_a_run_of_25_trains_six_rounds_the_last_from_the_iqp(nb, table, tmp_path):
    """25 networks under the fpga 30 % budget: rounds of 10, 3, 3, 3, 3, 3, each full; the
    first is the stratified draw (not screened), the last the IQP's best screened answers only,
    every one truly feasible; the run reports a truly feasible network."""
    budget = float(np.quantile(table[FPGA], 0.3))
    run = calibrate("nb201", nb, ACC, {FPGA: budget}, 25, seed=1, store=tmp_path / "s.db",
                    progress=False)
    assert [h["planned"] for h in run.history] == [10, 3, 3, 3, 3, 3]
    rounds = run.samples["round"].to_numpy()
    assert np.bincount(rounds).tolist() == [10, 3, 3, 3, 3, 3]
    assert set(run.samples.loc[rounds == 0, "source"]) == {"initial"}
    last = run.samples[rounds == 5]
    assert set(last["source"]) == {"iqp"}
    assert (last[FPGA] <= budget * (1 + iqnas.problem.BUDGET_RTOL)).all()
    assert run.best is not None and run.best.truly_feasible


def test_a_store_of_the_old_two_round_schedule_resumes_without_training_more(nb, table,
                                                                             tmp_path,
                                                                             monkeypatch):
    """A store of 25 networks in 13 + 12 (the schedule before short runs had their own)
    resumed by the current code trains nothing more: its rounds 2-5 would otherwise add 12
    networks past n_samples."""
    import iqnas.calibration.run as run_module

    budget = float(np.quantile(table[FPGA], 0.3))
    args = dict(seed=2, store=tmp_path / "old.db", progress=False)
    monkeypatch.setattr(run_module, "schedule", lambda n, rounds: [13, 12])
    old = calibrate("nb201", nb, ACC, {FPGA: budget}, 25, **args)
    assert np.bincount(old.samples["round"].to_numpy()).tolist() == [13, 12]
    monkeypatch.undo()
    again = calibrate("nb201", nb, ACC, {FPGA: budget}, 25, **args)
    assert len(again.samples) == 25
    assert set(again.samples["key"]) == set(old.samples["key"])
    assert sum(h["measured"] for h in again.history) == 0


def test_rounds_stay_full_when_the_resource_model_rules_everything_out(nb, table, tmp_path):
    """raspi4's 10 % budget, seed 8: the latency model fitted on the first 10 networks (none
    within the budget) predicts every network over it (its minimum 26 ms against 8.0 ms), so
    the screen passed every candidate over and the run stopped at 10 trained networks, none
    feasible (before the fallback: rounds of 10, 0 and 0 networks). The round is planned again with look-ups deciding: every round is full and the
    run reports a truly feasible network."""
    budget = float(np.quantile(table[RASPI], 0.1))
    run = calibrate("nb201", nb, ACC, {RASPI: budget}, 30, seed=8, rounds=3,
                    store=tmp_path / "r.db", progress=False)
    assert [h["planned"] for h in run.history] == [10, 10, 10]
    assert len(run.samples) == 30 and len(run.lookups) > 0
    ok = run.samples[RASPI].to_numpy() <= budget * (1 + iqnas.problem.BUDGET_RTOL)
    assert not ok[run.samples["round"].to_numpy() == 0].any() and ok.sum() >= 10
    assert run.best is not None and run.best.truly_feasible


def test_the_last_round_trains_the_iqps_answers_only(nb, table, tmp_path, monkeypatch):
    """In a run of 4 rounds the last trains the IQP's best screened answers only, every one
    truly feasible; the earlier rounds (random draws from the predicted top included) are those
    of a run without the rule. Runs of 2 rounds keep their random draws in the last round."""
    import iqnas.calibration.run as run_module

    budget = float(np.quantile(table[FPGA], 0.3))
    ok = float(budget * (1 + iqnas.problem.BUDGET_RTOL))

    def sources(run, r):
        return set(run.samples.loc[run.samples["round"] == r, "source"])

    runs = {}
    for rule in (True, False):
        monkeypatch.setattr(run_module, "EXPLOIT_LAST_ROUND", rule)
        runs[rule] = calibrate("nb201", nb, ACC, {FPGA: budget}, 40, seed=0, rounds=4,
                               store=tmp_path / f"x{rule}.db", progress=False)
    last = runs[True].samples[runs[True].samples["round"] == 3]
    assert sources(runs[True], 3) == {"iqp"} and len(last) == 10
    assert (last[FPGA] <= ok).all()
    assert sources(runs[False], 3) == {"iqp", "top-fraction"}
    assert all("top-fraction" in sources(runs[True], r) for r in (1, 2))
    early = [list(runs[rule].samples.loc[runs[rule].samples["round"] < 3, "key"])
             for rule in (True, False)]
    assert early[0] == early[1]
    assert set(last["key"]) != set(runs[False].samples.loc[runs[False].samples["round"] == 3,
                                                                 "key"])
    monkeypatch.setattr(run_module, "EXPLOIT_LAST_ROUND", True)
    two = calibrate("nb201", nb, ACC, {FPGA: budget}, 20, seed=0, rounds=2,
                    store=tmp_path / "two.db", progress=False)
    assert "top-fraction" in sources(two, 1)


@pytest.mark.slow
def test_at_25_networks_iqnas_is_not_behind_random_under_a_tight_budget(nb, table, tmp_path):
    budget = float(np.quantile(table[FPGA], 0.1))
    best = {"iterative": [], "random": []}
    for seed in range(10):
        for selection in best:
            run = calibrate("nb201", nb, ACC, {FPGA: budget}, 25, seed=seed,
                            selection=selection, store=tmp_path / f"{selection}{seed}.db",
                            progress=False)
            assert run.best.truly_feasible
            best[selection].append(run.best.measured[ACC])
    assert np.mean(best["iterative"]) >= np.mean(best["random"]), best


# ---- 6. SCIP and enumeration agree ------------------------------------------------------------
@pytest.mark.slow
def test_scip_and_enumeration_select_the_same_networks_with_look_ups(nb, table, tmp_path):
    """Every selection IQP (screened answers included) has the same answers whichever exact
    solver runs it, so the runs train the same networks and report the same one."""
    for device, q, seed in ((FPGA, 0.1, 0), (FPGA, 0.5, 1), (RASPI, 0.3, 2)):
        budget = float(np.quantile(table[device], q))
        runs = [calibrate("nb201", nb, ACC, {device: budget}, 40, seed=seed, rounds=4,
                          solver=solver, store=tmp_path / f"{solver}{seed}.db", progress=False)
                for solver in ("scip", "exhaustive")]
        assert list(runs[0].samples["key"]) == list(runs[1].samples["key"]), (device, q)
        assert runs[0].best.architecture == runs[1].best.architecture
