"""Regression tests of issue 16's defects 2-9 (defect 1, Ctrl-C, is test_interrupts.py)."""

from __future__ import annotations

import errno
import json
import sqlite3
import warnings
from collections.abc import Mapping

import numpy as np
import pytest

import iqnas
from iqnas.calibration.training_free import calibrate_training_free
from iqnas.cli import main
from iqnas.errors import InputError, NotOneHotWarning, UnknownNameError
from iqnas.oracles.oracle import Oracle

SPACE = iqnas.spaces.get("nb201")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("files")
    rng = np.random.default_rng(0)
    acc = iqnas.QuadraticForm(SPACE, 1.0, rng.normal(size=SPACE.n_vars), name="acc")
    lat = iqnas.QuadraticForm(SPACE, 0.0, rng.uniform(size=SPACE.n_vars), name="lat",
                              units="ms")
    table = iqnas.oracles.nb201("cifar100").table()
    sub = table[["test_acc_c100", "help_lat_fpga"]].head(20)
    sub.index.name = "arch"
    csv = d / "twenty.csv"
    sub.rename(columns={"test_acc_c100": "acc", "help_lat_fpga": "latency"}).to_csv(csv)
    a_file = d / "a_file.txt"
    a_file.write_text("not a folder")
    return {"dir": d, "acc": acc.save(d / "acc.json"), "lat": lat.save(d / "lat.json"),
            "csv": csv, "a_file": a_file}


def _cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# ---- 2: training-free mode stores and resumes ----------------------------------------------------
class _Table(Oracle):
    """The NB201 table's live metrics (no candidate pool), counting calls; raises
    KeyboardInterrupt at call ``stop_at``."""

    def __init__(self, stop_at: int | None = None) -> None:
        self.inner = iqnas.oracles.nb201("cifar100")
        self.space, self.name = self.inner.space, "table"
        self.dataset = self.inner.dataset
        self.calls, self.stop_at = 0, stop_at

    @property
    def metrics(self):
        return self.inner.metrics

    @property
    def units(self):
        return self.inner.units

    def measure(self, arch) -> Mapping[str, float]:
        self.calls += 1
        if self.calls == self.stop_at:
            raise KeyboardInterrupt
        return self.inner.measure(arch)


def test_training_free_store_keeps_measurements_and_resumes(tmp_path):
    kw = dict(n_samples=40, top_k=5, seed=3, progress=False,
              constraints={"params_M_c100": 0.4})
    reference = calibrate_training_free("nb201", _Table(), **kw)
    store = tmp_path / "tf.db"
    with pytest.raises(KeyboardInterrupt):
        calibrate_training_free("nb201", _Table(stop_at=25), store=store, **kw)
    with iqnas.calibration.SampleStore(store, SPACE) as st:
        kept = len(st)
    assert 20 <= kept <= 24  # every finite measurement before the interrupt (NASWOT -inf: not)
    oracle = _Table()
    run = calibrate_training_free("nb201", oracle, store=store, **kw)
    assert oracle.calls == run.n_evaluations == reference.n_evaluations - kept
    assert run.best.key == reference.best.key
    assert run.samples["key"].tolist() == reference.samples["key"].tolist()
    np.testing.assert_allclose(run.samples["score"], reference.samples["score"])
    # settings are checked: another seed is another run
    with pytest.raises(InputError, match="different settings"):
        calibrate_training_free("nb201", _Table(), store=store, **{**kw, "seed": 4})


# ---- 3: output paths are checked before any work -------------------------------------------------
def _bad_outputs(files):
    d, f = files["dir"], files["a_file"]
    solve = ["solve", "--space", "nb201", "--objective", files["acc"]]
    sweep = ["sweep", "--space", "nb201", "--objective", files["acc"], "--constraint",
             f"lat={files['lat']}", "--resource", "lat", "--budgets", "5,10"]
    cal = ["calibrate", "--space", "nb201", "--oracle", "nb201", "--objective", "test_acc_c100",
           "--samples", "20"]
    return [
        (solve + ["--solver-log", d / "nodir" / "x.log"], "--solver-log", "does not exist"),
        (solve + ["--solver-log", f / "x.log"], "--solver-log", "is a file, not a folder"),
        (solve + ["--solver-log", "/proc/iqnas.log"], "--solver-log", "is not writable"),
        (sweep + ["--out", d / "nodir" / "s.jsonl"], "--out", "does not exist"),
        (sweep + ["--out", d], "--out", "is a folder"),
        (sweep + ["--plot", f / "p.png"], "--plot", "is a file, not a folder"),
        (cal + ["--store", f / "x.db"], "--store", "is a file, not a folder"),
        (cal + ["--store", "/proc/iqnas/x.db"], "--store", "not writable"),
        (cal + ["--save-models", f], "--save-models", "is a file, not a folder"),
        (cal + ["--save-models", f / "models"], "--save-models", "is a file, not a folder"),
        (["explain", files["acc"], "--out", d / "nodir" / "x.csv"], "--out", "does not exist"),
    ]


def test_every_output_path_is_checked_before_any_work(files, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for argv, flag, fragment in _bad_outputs(files):
        code, out, err = _cli(capsys, *argv)
        assert code == 2, (argv, err)
        assert _one_line(err).startswith(f"error: {flag} ") and fragment in err, (argv, err)
        assert out == ""
    assert not (tmp_path / "runs").exists()  # no calibration started


def test_a_failure_while_writing_models_keeps_the_results(files, capsys, tmp_path,
                                                          monkeypatch):
    def full_disk(self, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(iqnas.QuadraticForm, "save", full_disk)
    store = tmp_path / "s.db"
    code, out, err = _cli(capsys, "calibrate", "--space", "nb201", "--oracle", "nb201",
                          "--objective", "test_acc_c100", "--samples", "20", "--store", store,
                          "--save-models", tmp_path / "models")
    assert code == 2
    assert "best truly feasible measured network" in out  # the results were printed
    assert _one_line(err) == (f"error: --save-models {tmp_path / 'models'}: writing failed (No "
                              f"space left on device); the results above are complete and every "
                              f"sample is in {store}\n")
    with iqnas.calibration.SampleStore(store, SPACE) as st:
        assert len(st) == 20


# ---- 4: damaged input files ----------------------------------------------------------------------
def test_damaged_files_are_one_line_errors_naming_the_file(files, capsys, tmp_path):
    good = files["acc"].with_suffix(".npz")
    iqnas.QuadraticForm.load(files["acc"]).save(good)
    empty, cut = tmp_path / "empty.npz", tmp_path / "cut.npz"
    empty.write_bytes(b"")
    cut.write_bytes(good.read_bytes()[:200])
    for path, what in ((empty, "it is empty"), (cut, "truncated")):
        code, _, err = _cli(capsys, "solve", "--space", "nb201", "--objective", path)
        assert code == 2 and str(path) in _one_line(err) and what in err
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(b"arch,acc\n\xe9t\xe9,1\n")
    code, _, err = _cli(capsys, "calibrate", "--space", "nb201", "--oracle", latin,
                        "--objective", "acc", "--samples", "2")
    assert code == 2 and _one_line(err).startswith(f"error: {latin}: not UTF-8 text")


def test_a_store_with_corrupted_pages_is_one_line(files, capsys, tmp_path):
    store = tmp_path / "s.db"
    argv = ["calibrate", "--space", "nb201", "--oracle", "nb201", "--objective",
            "test_acc_c100", "--samples", "20", "--store", store]
    assert _cli(capsys, *argv, "-q")[0] == 0
    data = bytearray(store.read_bytes())
    data[4096:8192] = b"\x5a" * 4096  # the second page
    store.write_bytes(bytes(data))
    code, _, err = _cli(capsys, *argv, "-q")
    assert code == 2 and str(store) in _one_line(err), err
    code, out, _ = _cli(capsys, "doctor", "--store", store, "--format", "json")
    assert code == 1 and json.loads(out)["store"]["ok"] is False


def _damage_samples(path) -> None:
    """Overwrite every page but the schema's and the meta table's: the samples, failures and
    their indexes (a store open elsewhere notices only when it reads them)."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = con.execute("PRAGMA page_size").fetchone()[0]
    pages = [r[0] for r in con.execute(
        "SELECT pageno FROM dbstat WHERE name NOT IN ('sqlite_schema', 'meta', "
        "'sqlite_autoindex_meta_1')")]
    con.close()
    data = bytearray(path.read_bytes())
    for page in pages:
        data[(page - 1) * size: page * size] = b"\x5a" * size
    path.write_bytes(bytes(data))


def test_a_store_damaged_after_it_was_opened_is_one_line_on_every_read(tmp_path):
    from iqnas.calibration.store import SampleStore

    path = tmp_path / "s.db"
    keys = list(dict.fromkeys(a.key for a in SPACE.sample(0, n=300)))
    with SampleStore(path, SPACE) as st:
        st.add_many([(k, {"acc": float(i), "lat": 1.0}) for i, k in enumerate(keys)])
        st.add_failure(SPACE.sample(1), "boom")
    store = SampleStore(path, SPACE)
    _damage_samples(path)
    reads = {"len": lambda: len(store), "keys": store.keys, "samples": store.samples,
             "samples(before_round=1)": lambda: store.samples(before_round=1),
             "all_measurements": store.all_measurements, "get": lambda: store.get(keys[-1]),
             "measurements": lambda: store.measurements(keys[-1]),
             "contains": lambda: keys[-1] in store, "failures": store.failures,
             "failed_keys": store.failed_keys, "failure": lambda: store.failure(keys[0]),
             "export_csv": lambda: store.export_csv(tmp_path / "out.csv"),
             "add": lambda: store.add(keys[0], {"acc": 0.0, "lat": 1.0})}
    for name, read in reads.items():
        with pytest.raises(InputError, match="is damaged") as info:
            read()
        text = str(info.value)
        assert str(path) in text and "iqnas doctor --store" in text and "\n" not in text, name
    assert "damaged" in repr(store) and not (tmp_path / "out.csv").exists()
    store.close()


def test_a_store_with_a_damaged_stored_value_is_one_line(tmp_path):
    from iqnas.calibration.store import SampleStore

    path = tmp_path / "s.db"
    a, b = list(dict.fromkeys(SPACE.sample(0, n=3)))[:2]
    with SampleStore(path, SPACE) as st:
        st.add(a, {"acc": 1.0})
        st.add(b, {"acc": 2.0})
    with sqlite3.connect(path) as con:
        con.execute("UPDATE samples SET metrics = '{oops' WHERE key = ?", (b.key,))
    with SampleStore(path, SPACE) as st:
        assert st.get(a) == {"acc": 1.0}
        for read in (st.samples, lambda: st.get(b), lambda: st.add(b, {"acc": 2.0})):
            with pytest.raises(InputError, match=f"the store {path} is damaged"):
                read()


@pytest.mark.parametrize("command", ["calibrate", "report"])
def test_cli_on_a_store_whose_sample_pages_are_damaged_exits_2(command, capsys, tmp_path):
    store = tmp_path / "s.db"
    calibrate = ["calibrate", "--space", "nb201", "--oracle", "nb201", "--objective",
                 "test_acc_c100", "--samples", "60", "--store", store]
    assert _cli(capsys, *calibrate, "-q")[0] == 0
    _damage_samples(store)
    argv = calibrate if command == "calibrate" else ["report", "--store", store, "--out",
                                                     tmp_path / "r.html"]
    code, _, err = _cli(capsys, *argv, "-q")
    assert code == 2 and _one_line(err).startswith(f"error: the store {store} is damaged")
    assert f"iqnas doctor --store {store}" in err
    assert not (tmp_path / "r.html").exists()


# ---- 5: validation before side effects -----------------------------------------------------------
def test_a_bad_solver_leaves_no_store(capsys, tmp_path):
    store = tmp_path / "t.db"
    for mode in ("trained", "training-free"):
        code, _, err = _cli(capsys, "calibrate", "--mode", mode, "--space", "nb201", "--oracle",
                            "nb201", "--objective", "test_acc_c100", "--solver", "foo",
                            "--store", store)
        assert code == 2 and "unknown solver 'foo'" in _one_line(err)
        assert not store.exists()


def test_a_foreign_sqlite_file_is_refused_unchanged(capsys, tmp_path):
    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as con:
        con.execute("CREATE TABLE x (a)")
        con.execute("INSERT INTO x VALUES (1)")
    before = foreign.read_bytes()
    code, _, err = _cli(capsys, "calibrate", "--space", "nb201", "--oracle", "nb201",
                        "--objective", "test_acc_c100", "--samples", "20", "--store", foreign)
    assert code == 2 and "not an iqnas sample store" in _one_line(err)
    assert foreign.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]  # no -wal, no -shm


# ---- 6: error text is printed literally ----------------------------------------------------------
def test_error_text_is_printed_literally(capsys, tmp_path):
    bad = tmp_path / "pw.json"
    bad.write_text('{"space": "nb201", "pairwise": [[0, 1]]}')
    code, _, err = _cli(capsys, "solve", "--space", "nb201", "--objective", bad)
    assert code == 2
    assert _one_line(err) == f"error: {bad}: QuadraticForm JSON: pairwise[0] must be [i, j, coef]\n"
    code, _, err = _cli(capsys, "solve", "--space", "nb201", "--objective", bad, "--format",
                        "json")
    assert json.loads(err) == {"error": {"type": "InputError", "exit_code": 2, "message":
                               f"{bad}: QuadraticForm JSON: pairwise[0] must be [i, j, coef]"}}


# ---- 7: what was silently accepted ---------------------------------------------------------------
def test_top_k_below_one_is_refused(files, capsys):
    for k in ("0", "-3"):
        code, out, err = _cli(capsys, "solve", "--space", "nb201", "--objective", files["acc"],
                              "--top-k", k)
        assert code == 2 and out == ""
        assert _one_line(err) == f"error: --top-k must be at least 1 (the number of " \
                                 f"architectures to return), got {k}\n"


def test_a_csv_with_fewer_rows_than_samples_says_so(files, capsys, tmp_path):
    code, _, err = _cli(capsys, "calibrate", "--space", "nb201", "--oracle", files["csv"],
                        "--objective", "acc", "--samples", "30", "--store", tmp_path / "s.db")
    assert code in (0, 1)
    assert f"warning: --oracle {files['csv']} has 20 architectures, fewer than --samples 30; " \
           "all 20 are measured" in err


def test_negative_costs_in_a_csv_are_refused(files, tmp_path):
    text = files["csv"].read_text().splitlines()
    key, acc, lat = text[3].split(",")
    text[3] = f"{key},{acc},-{lat}"
    bad = tmp_path / "neg.csv"
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(InputError, match=r"line 4, column 'latency': -[0-9.]+ is negative"):
        iqnas.oracles.csv_oracle(bad, SPACE)
    ok = tmp_path / "neg_acc.csv"  # a negative accuracy (a score) is no cost: accepted
    text[3] = f"{key},-{acc},{lat}"
    ok.write_text("\n".join(text) + "\n")
    assert iqnas.oracles.csv_oracle(ok, SPACE).measure(key)["acc"] < 0


def test_a_pairwise_term_inside_one_group_is_refused_in_files(tmp_path):
    text = json.dumps({"space": "nb201", "pairwise": [["e01=none", "e01=skip_connect", 1.0]]})
    with pytest.raises(InputError, match=r"pairwise\[0\] multiplies two options of one group "
                                         r"\(e01=none, e01=skip_connect\)"):
        iqnas.QuadraticForm.from_json(text)
    form = iqnas.QuadraticForm.from_json(json.dumps(
        {"space": "nb201", "pairwise": [["e01=none", "e12=none", 1.0]]}))
    path = form.save(tmp_path / "f.npz")
    z = dict(np.load(path))
    z["cols"] = np.array([1])  # e01=skip_connect
    np.savez(path, **z)
    with pytest.raises(InputError, match="pairwise term 0 multiplies two options of one group"):
        iqnas.QuadraticForm.load(path)


def test_explain_out_with_an_unknown_extension(files, capsys, tmp_path):
    code, _, err = _cli(capsys, "explain", files["acc"], "--out", tmp_path / "x.xyz")
    assert code == 2 and "unknown file type '.xyz'" in _one_line(err)
    assert not (tmp_path / "x.xyz").exists()


def test_explain_shows_the_top_rows_by_default(files, capsys):
    code, out_top, err = _cli(capsys, "explain", files["acc"])
    assert code == 0 and "--all for every row" in err
    code, out_all, err = _cli(capsys, "explain", files["acc"], "--all")
    assert code == 0 and err == ""
    assert len(out_top.splitlines()) < len(out_all.splitlines())


def test_a_binary_vector_that_is_not_one_hot_warns():
    form = iqnas.QuadraticForm.load
    x = np.zeros(SPACE.n_vars)
    x[:2] = 1.0
    f = iqnas.QuadraticForm(SPACE, 0.0, np.arange(SPACE.n_vars, dtype=float))
    with pytest.warns(NotOneHotWarning, match="group 'e01' has 2 options set"):
        assert f(x) == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f(np.full(SPACE.n_vars, 0.2))  # a relaxation: evaluated silently
        f(SPACE.encode(SPACE.arch([0] * SPACE.n_groups)))
    assert form is not None


@pytest.mark.parametrize("kwargs, match", [
    ({"linear": np.ones((5, 6))}, r"linear has shape \(5, 6\)"),
    ({"linear": {"e01=none": 1.0}}, "linear must be an array of 30 numbers, got a dict"),
    ({"linear": ["a"] * 30}, "linear must be an array of 30 numbers"),
    ({"intercept": "70"}, "intercept must be a number, got '70'"),
])
def test_bad_form_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        iqnas.QuadraticForm(SPACE, **kwargs)


def test_an_unknown_unit_warns(files):
    with pytest.warns(UserWarning, match="unit 'msec' of 'latency'"):
        iqnas.oracles.csv_oracle(files["csv"], SPACE, units={"latency": "msec"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        iqnas.oracles.csv_oracle(files["csv"], SPACE, units={"latency": "ms", "acc": "%"})


# ---- 8: raw Python errors from the API -----------------------------------------------------------
def test_api_misuse_is_an_input_error_naming_the_field(files, tmp_path):
    with pytest.raises(InputError, match=r"space must be a SearchSpace, got str 'nb201' \(use "
                                         r"iqnas.spaces.get\('nb201'\)\)"):
        iqnas.QuadraticForm("nb201", 0.0)
    with pytest.raises(InputError, match="The 'oracle' parameter of calibrate"):
        iqnas.calibrate("nb201", None, "acc")
    form = iqnas.QuadraticForm.load(files["acc"])
    with pytest.raises(InputError, match="batch has 7 columns, space 'nb201' has 30 variables"):
        form.evaluate(np.ones((3, 7)))
    with pytest.raises(InputError, match="cannot save .*x.json: the folder .*nodir does not exist"):
        form.save(tmp_path / "nodir" / "x.json")
    assert not (tmp_path / "nodir").exists()
    lat = iqnas.QuadraticForm.load(files["lat"])
    res = iqnas.solve(iqnas.Problem(SPACE, form, {"latency": (lat, 20.0)}))
    with pytest.raises(UnknownNameError, match=r"unknown resource 'latncy'; did you mean "
                                               r"'latency'\?; known: latency") as info:
        res.resources["latncy"]
    assert isinstance(info.value, KeyError) and isinstance(info.value, InputError)
    with pytest.raises(InputError, match="unknown resource 'x'"):
        res.resource_details["x"]
    assert res.resources.get("x") is None and "latency" in res.resources


# ---- 9: vague messages ---------------------------------------------------------------------------
def test_the_truncated_file_is_named(files, capsys, tmp_path):
    cut = tmp_path / "lat_cut.json"
    cut.write_text(files["lat"].read_text()[:50])
    code, _, err = _cli(capsys, "solve", "--space", "nb201", "--objective", files["acc"],
                        "--constraint", f"lat={cut}:3")
    assert code == 2 and _one_line(err).startswith(f"error: {cut}: QuadraticForm JSON is "
                                                   "malformed")


def test_an_unknown_metric_suggests_the_close_one(capsys, tmp_path):
    code, _, err = _cli(capsys, "calibrate", "--space", "nb201", "--oracle", "nb201",
                        "--objective", "test_acc_c10O", "--store", tmp_path / "s.db")
    assert code == 2
    assert "did you mean test_acc_c10, test_acc_c100" in _one_line(err)
    assert len(err) < 300  # not the 74 names
    assert not (tmp_path / "s.db").exists()


def test_a_mistyped_flag_shows_the_subcommand_usage_with_a_suggestion(files, capsys):
    with pytest.raises(SystemExit) as info:
        main(["solve", "--space", "nb201", "--objective", str(files["acc"]), "--top-kk", "3"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: iqnas solve ")
    assert "unrecognized arguments: --top-kk; did you mean '--top-k'? 3" in err
    with pytest.raises(SystemExit):
        main(["solve", "--space", "nb201", "--objectve", str(files["acc"])])
    err = capsys.readouterr().err
    assert err.startswith("usage: iqnas solve ")
    assert "unknown option --objectve; did you mean '--objective'?" in err


def test_name_equals_file_without_a_budget(files, capsys):
    code, _, err = _cli(capsys, "solve", "--space", "nb201", "--objective", files["acc"],
                        "--constraint", f"lat={files['lat']}")
    assert code == 2
    assert _one_line(err) == f"error: --constraint 'lat={files['lat']}': no budget; give it " \
                             f"after the file, e.g. lat={files['lat']}:3.0\n"


def test_verbose_and_quiet_together_are_refused(files, capsys):
    code, _, err = _cli(capsys, "solve", "--space", "nb201", "--objective", files["acc"], "-v",
                        "-q")
    assert code == 2 and "contradict" in _one_line(err)


def test_a_failure_while_writing_the_plot_keeps_the_points(files, capsys, tmp_path,
                                                           monkeypatch):
    import iqnas.plots.pareto as pareto

    def full_disk(*args, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pareto, "plot_pareto", full_disk)
    out = tmp_path / "s.jsonl"
    code, stdout, err = _cli(capsys, "sweep", "--space", "nb201", "--objective", files["acc"],
                             "--constraint", f"lat={files['lat']}", "--resource", "lat",
                             "--budgets", "5,10", "--out", out, "--plot", tmp_path / "p.png")
    assert code == 2 and "Pareto front" in stdout
    assert _one_line(err) == (f"error: --plot {tmp_path / 'p.png'}: writing failed (No space "
                              f"left on device); the points above are complete and kept in "
                              f"{out}\n")
    assert len(out.read_text().splitlines()) == 3
