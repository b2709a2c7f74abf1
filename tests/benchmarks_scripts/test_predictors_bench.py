"""Smoke test of the issue-15 predictor benchmark: tiny GCNs, its own section only."""

from __future__ import annotations

import json

import numpy as np
import pytest

import iqnas
from benchmarks.report import read_results

pytestmark = pytest.mark.usefixtures("one_torch_thread")

KRYO = "latbench_ms_mobile-cpu-snapdragon-855-kryo-485-int8"
TINY = ["--gcn-epochs", "2", "--gcn-hidden", "8", "--mlp-epochs", "3"]


def test_predictors_bench_tiny_run_and_report(tmp_path):
    from benchmarks import predictors_bench as pb

    md = tmp_path / "B.md"
    md.write_text("# iqnas benchmarks\n\n## Other (issue 9)\n\nkeep me\n")
    jsonl = tmp_path / "p.jsonl"
    argv = ["--columns", KRYO, "help_lat_fpga", "--seeds", "2", "--gcn-columns", KRYO,
            "--acc-datasets", "cifar100", "--acc-sizes", "20", "--acc-seeds", "1",
            "--rerank-devices", KRYO, "--rerank-seeds", "1", "--rerank-samples", "20",
            "--rerank-rounds", "2", *TINY, "--out", str(md), "--jsonl", str(jsonl)]
    assert pb.main(argv) == 0
    header, recs = read_results(jsonl)
    assert header["info"]["nproc"] and "--seeds 2" in header["command"]
    lat = [r for r in recs if r["part"] == "latency"]
    # the GCN runs every seed on --gcn-columns and one seed elsewhere
    assert len(lat) == 2 * 2 * 2 + 2 + 1
    table = iqnas.oracles.nb201("cifar100").table()
    for r in lat:
        assert r["n_train"] == 900 and 0 <= r["within_10pct"] <= 1
        n_valid = int(table[r["column"]].notna().sum())
        assert r["n_test"] == n_valid - 1000 and r["n_missing"] == len(table) - n_valid
    kryo_missing = {r["n_missing"] for r in lat if r["column"] == KRYO}
    assert kryo_missing == {341}
    ceil = {r["column"]: r for r in recs if r["part"] == "ceiling"}
    assert set(ceil) == {KRYO, "help_lat_fpga"}
    assert ceil[KRYO]["n_graphs"] == 8686 and 0.9 < ceil[KRYO]["graph_ceiling"] < 1
    acc = [r for r in recs if r["part"] == "accuracy"]
    assert {r["model"] for r in acc} == set(pb.ACC_MODELS)
    assert all(r["search_best"] <= r["optimum"] == table["test_acc_c100"].max() for r in acc)
    rr = [r for r in recs if r["part"] == "rerank"]
    assert [r["variant"] for r in rr] == list(pb.RERANK_VARIANTS)
    for r in rr:
        assert r["truly_feasible"] and r["best"] <= r["optimum"] and r["n_samples"] == 20
        assert r["budget"] == pytest.approx(float(np.nanquantile(table[KRYO], 0.5)))
    text = md.read_text()
    assert text.count(pb.SECTION) == 1 and "keep me" in text and "Acceptance" in text
    row = next(line for line in text.splitlines() if line.startswith("| [Predictors"))
    assert "Kryo-485 quadratic" in row and "--rerank gcn" in row and "(1 seeds)" in row
    assert pb.main(["--report-only", str(jsonl), "--out", str(md)]) == 0
    assert md.read_text() == text  # rebuilt identically from the raw results
    # records of another run join the report (a case found again replaces the earlier one)
    other = tmp_path / "acc.jsonl"
    redo = {**next(r for r in acc if r["model"] == "ridge"), "kendall_tau": 0.123456}
    other.write_text(json.dumps({"type": "header", "info": {"date": "x"}, "command": "again",
                                 "settings": {"GCN epochs": 7}}) + "\n" + json.dumps(redo) + "\n")
    both = tmp_path / "both.jsonl"
    assert pb.main(["--report-only", str(jsonl), "--merge", str(other), "--out", str(md),
                    "--jsonl", str(both)]) == 0
    merged = md.read_text()
    assert "The accuracy records come from another run (first written to `acc.jsonl`" in merged
    assert "GCN epochs 7" in merged and "| cifar100 | 20 | 1 | 0.123 (0.000) |" in merged
    head, folded = read_results(both)
    assert len(folded) == len(recs) and head["merged"][0]["command"] == "again"
    assert pb.main(["--report-only", str(both), "--out", str(md)]) == 0
    assert md.read_text() == merged  # the folded file alone rebuilds the same section
    # --resume keeps every record and runs nothing new
    assert pb.main([*argv, "--resume"]) == 0
    assert read_results(jsonl)[1] == recs


def test_latency_split_is_brp_nas_protocol():
    from benchmarks.predictors_bench import latency_split

    y = np.arange(2000, dtype=float)
    y[::7] = np.nan
    train, test = latency_split(y, 3)
    assert len(train) == 900 and len(set(train) | set(test)) == len(train) + len(test)
    assert len(test) == np.isfinite(y).sum() - 1000 and np.isfinite(y[test]).all()


def test_graph_ceiling_by_hand():
    from benchmarks.predictors_bench import graph_ceiling

    # graph 0 holds 1.0, 1.05, 1.3: one prediction covers at most two (1.3 / 1.0 > 1.1 / 0.9);
    # graph 1 holds 2.0, 2.1: both; the NaN is left out
    y = np.array([1.0, 2.0, 1.05, np.nan, 1.3, 2.1])
    groups = np.array([0, 1, 0, 0, 0, 1])
    assert graph_ceiling(y, groups) == pytest.approx(4 / 5)
    assert graph_ceiling(y, np.arange(6)) == 1.0  # one cell per graph: any value is reachable


def test_rerank_lines_paired_change_by_hand():
    from benchmarks.predictors_bench import rerank_lines

    def rec(dev, seed, variant, best):
        return {"part": "rerank", "device": dev, "seed": seed, "variant": variant, "best": best,
                "budget": 1.0, "optimum": 72.0, "samples": 100, "rounds": 5, "quantile": 0.5,
                "chosen": "given", "truly_feasible": True, "time": 1.0,
                **({} if variant == "iqp" else {"loosen": 3.0})}

    # device a: changes +1.0, 0.0, -0.5 (win, tie, loss); device b: +0.5
    recs = [rec("help_lat_a", s, "iqp", b) for s, b in enumerate([70.0, 71.0, 70.5])]
    recs += [rec("help_lat_a", s, "iqp + gcn rerank", b) for s, b in enumerate([71.0, 71.0, 70.0])]
    recs += [rec("help_lat_b", 0, "iqp", 69.0), rec("help_lat_b", 0, "iqp + gcn rerank", 69.5)]
    text = "\n".join(rerank_lines(recs))
    diffs = np.array([1.0, 0.0, -0.5])
    row = next(line for line in text.splitlines()
               if line.startswith("| HELP a |") and "gcn rerank" in line)
    assert f"| +{diffs.mean():.2f} ({diffs.std():.2f}) | 1/1/1 |" in row
    assert row.endswith("| 3/3 | - | 1 |")  # no look-ups recorded
    counted = [{**r, "lookups": 100 + 10 * r["seed"]} for r in recs]
    row = next(line for line in rerank_lines(counted)
               if line.startswith("| HELP a |") and "gcn rerank" in line)
    assert row.endswith("| 3/3 | 110 | 1 |")  # mean of 100, 110, 120
    pooled = np.array([1.0, 0.0, -0.5, 0.5])
    assert (f"over all 4 device-seed pairs: +{pooled.mean():.2f} points (std "
            f"{pooled.std():.2f}), wins/ties/losses 2/1/1") in text
    se = diffs.std(ddof=1) / np.sqrt(3)  # 0.44: the +0.17 is within the noise
    assert (f"HELP a: +0.17 points over 3 seeds (within seed noise, 2 standard errors "
            f"{2 * se:.2f}, fewer than 10 seeds)") in text
    assert "HELP b: +0.50 points over 1 seeds (within seed noise" in text  # no spread known
    steady = [rec("help_lat_c", s, v, 70.0 + s + (0.3 + 0.02 * s) * (v != "iqp"))
              for s in range(10) for v in ("iqp", "iqp + gcn rerank")]
    assert "HELP c: +0.39 points over 10 seeds (improves)" in "\n".join(rerank_lines(steady))
    from benchmarks.predictors_bench import headline

    figure = headline(recs).figure
    assert "--rerank gcn +0.17 points on HELP a (3 seeds)" in figure
    assert "--rerank gcn over all 4 device-seeds +0.25 points (wins/ties/losses 2/1/1)" in figure
    # another rule's runs: their own rows and pooled line, never in the default's figures
    hedge = [{**rec("help_lat_a", s, "iqp + gcn rerank", b), "rule": "hedge"}
             for s, b in enumerate([70.0, 72.0, 70.5])]
    text = "\n".join(rerank_lines(recs + hedge))
    assert "| HELP a | 1.000 | 72.00 | iqp + gcn rerank (rule hedge) | 70.83 (0.85) | 3 |" in text
    assert ("`iqp + gcn rerank (rule hedge)` over all 3 device-seed pairs: +0.33 points "
            "(std 0.47), wins/ties/losses 1/2/0") in text
    assert (f"over all 4 device-seed pairs: +{pooled.mean():.2f} points (std "
            f"{pooled.std():.2f}), wins/ties/losses 2/1/1") in text
    assert ("The same with `iqp + gcn rerank (rule hedge)`: HELP a: +0.33 points over 3 seeds "
            "(within seed noise") in text
    assert ("`(rule hedge)`: `rerank_params={\"rule\": \"hedge\", \"loosen\": 3.0}` (the IQP's "
            "best k/2") in text
    assert headline(recs + hedge).figure == figure
    # records made before loosen (1: the IQP within the budget) are another configuration
    flat = [{k: v for k, v in r.items() if k != "loosen"} for r in recs
            if r["variant"] != "iqp"]
    text = "\n".join(rerank_lines(recs + flat))
    assert "| HELP a | 1.000 | 72.00 | iqp + gcn rerank (loosen 1) |" in text
    assert "the IQP plans within the budget)" in text
    assert headline(recs + flat).figure == figure
