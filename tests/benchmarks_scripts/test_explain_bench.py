"""benchmarks/explain_bench.py with tiny settings: real fits and explain tables, the stability
figures recomputed from the raw rows, its own BENCHMARKS.md section only."""

from __future__ import annotations

import numpy as np
import pytest

import iqnas
from benchmarks import explain_bench as eb
from iqnas.interpret import stability


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("explain_bench")
    md, jsonl = d / "B.md", d / "r.jsonl"
    md.write_text("# iqnas benchmarks\n\n## Other (issue 9)\n\nkeep me\n")
    argv = ["--seeds", "2", "--ofa-sizes", "300", "--nb201-sizes", "100", "--ofa-terms",
            "linear", "--out", str(md), "--jsonl", str(jsonl)]
    assert eb.main(argv) == 0
    return md, jsonl


def test_records_are_real_fits_and_their_stability(bench_run):
    _, jsonl = bench_run
    runs, info, command = eb.load_jsonl(jsonl)
    assert info["nproc"] and "--seeds 2" in command
    assert sorted((r["space"], r["terms"], r["n"], r["seed"]) for r in runs) == [
        ("nb201", "pairwise", 100, 0), ("nb201", "pairwise", 100, 1),
        ("ofa", "linear", 300, 0), ("ofa", "linear", 300, 1)]
    # a record's rows are the explain table of the same fit, recomputed here
    rec = next(r for r in runs if r["space"] == "ofa" and r["seed"] == 1)
    df, _ = eb.fit_and_explain(iqnas.oracles.ofa(), "acc_ofa_pred", "linear", 300, 1)
    np.testing.assert_allclose(rec["values"], df["value"], rtol=1e-7, atol=1e-12)
    assert rec["keys"] == eb.rows_of(df)[0]
    rows = eb.stability_rows(runs)
    ofa = [r for r in rows if r["space"] == "ofa"]
    assert {r["table"] for r in ofa} == {"main", "depth", "width"}  # linear: no interactions
    tables = [eb.frame_of(r["keys"], r["values"], r["metric"]) for r in runs
              if r["space"] == "ofa"]
    want = stability(tables).set_index("table")
    for r in ofa:
        assert r["spearman_mean"] == pytest.approx(want.loc[r["table"], "spearman_mean"])
        assert r["seeds"] == 2 and r["n_rows"] == want.loc[r["table"], "n_rows"]
    # other samples, the same space: contributions keep much of their order
    assert all(r["spearman_mean"] > 0.5 for r in ofa)
    stages = eb.stage_rows(runs)
    assert [r["stage"] for r in stages] == [1, 2, 3, 4, 5]


def test_writes_only_its_own_section(bench_run):
    md, jsonl = bench_run
    text = md.read_text()
    assert text.count(eb.SECTION) == 1 and "keep me" in text
    assert "BINAS" in text and "| ofa | linear | 300 | 2 | depth |" in text
    assert eb.main(["--report-only", str(jsonl), "--out", str(md)]) == 0
    assert md.read_text() == text  # rebuilt identically from the raw results
