"""benchmarks/ofa_bench.py with tiny settings: real fits, its own BENCHMARKS.md section only."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas
from benchmarks import ofa_bench as ob
from iqnas.calibration import QuadraticRegressor, quality_report


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("ofa_bench")
    md, jsonl = d / "B.md", d / "r.jsonl"
    md.write_text("# iqnas benchmarks\n\n## Other (issue 9)\n\nkeep me\n")
    argv = ["--n-train", "150", "--n-test", "60", "--seeds", "2", "--models", "linear",
            "linear-lsq", "--out", str(md), "--jsonl", str(jsonl)]
    assert ob.main(argv) == 0
    return md, jsonl


def test_records_are_held_out_scores_of_real_fits(bench_run):
    _, jsonl = bench_run
    runs, info, command = ob.load_jsonl(jsonl)
    assert info["nproc"] and "--n-train 150" in command
    assert sorted((r["seed"], r["metric"], r["model"]) for r in runs) == sorted(
        [(s, ob.ACC, "linear") for s in (0, 1)] + [(s, ob.LAT, m) for s in (0, 1)
                                                  for m in ("linear", "linear-lsq")])
    oracle = iqnas.oracles.ofa()
    train, test = ob.draw(oracle.space, 150, 60, seed=1)
    assert not {tuple(r) for r in train} & {tuple(r) for r in test}
    y = oracle.measure_choices(test)[ob.ACC]
    # the recorded figures are the held-out quality of the same fit, recomputed here
    est = QuadraticRegressor(oracle.space, terms="linear").fit(
        train, oracle.measure_choices(train)[ob.ACC])
    rep = quality_report(y, est.predict(test))
    rec = next(r for r in runs if (r["seed"], r["metric"], r["model"]) == (1, ob.ACC, "linear"))
    assert rec["kendall_tau"] == pytest.approx(rep["kendall_tau"], abs=1e-12)
    assert rec["rmse"] == pytest.approx(rep["rmse"], abs=1e-12)
    assert (rec["test_min"], rec["test_max"]) == pytest.approx((y.min(), y.max()))
    # even 150 samples rank held-out architectures far better than chance
    assert all(r["kendall_tau"] > 0.5 and r["n_test"] == 60 for r in runs)
    assert all(np.isfinite(r["fit_time"]) and r["fit_time"] >= 0 for r in runs)


def test_writes_only_its_own_section(bench_run):
    md, jsonl = bench_run
    text = md.read_text()
    assert text.count(ob.SECTION) == 1 and "keep me" in text
    assert "| linear-lsq | 140 |" in text and f"### `{ob.ACC}`" in text
    # rewriting from the JSON lines replaces the section in place, same text
    assert ob.main(["--report-only", str(jsonl), "--out", str(md)]) == 0
    again = md.read_text()
    assert again == text
    assert again.index("## Other (issue 9)") < again.index(ob.SECTION)
