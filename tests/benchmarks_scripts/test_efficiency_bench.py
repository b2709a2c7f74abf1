"""The issue-12 efficiency benchmark: runs of other seeds made apart (``--seed-start``) and merged
into one section (``--report-only A --merge B``)."""

from __future__ import annotations

import json

import numpy as np


def test_seed_start_and_merged_results_files(tmp_path):
    from benchmarks import efficiency_bench as eb

    first, second, md = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "B.md"
    md.write_text("# iqnas benchmarks\n\n## Other (issue 9)\n\nkeep me\n")
    common = ["--n", "10", "--scenarios", "c100-fpga-0.1", "--out", "-"]
    assert eb.main(["--seeds", "2", "--methods", "random", "REA", "--jsonl", str(first),
                    *common]) == 0
    assert eb.main(["--seeds", "1", "--seed-start", "2", "--methods", "random",
                    "--jsonl", str(second), *common]) == 0
    lines = second.read_text().splitlines()
    run = json.loads(lines[1])
    assert run["seed"] == 2 and run["method"] == "random" and run["trained"] == 10
    sc = eb.Scenario("c100-fpga-0.1")
    assert run["regret"] == sc.optimum - run["acc"] >= 0    # the reported network is feasible
    # a later file's run of the same cell replaces the earlier one
    again = dict(json.loads(first.read_text().splitlines()[1]), regret=-1.0)
    second.write_text("\n".join([*lines, json.dumps(again)]) + "\n")
    info, command, runs = eb.merged_results([first, second])
    assert sorted((r["method"], r["seed"]) for r in runs) == \
        [("REA", 0), ("REA", 1), ("random", 0), ("random", 1), ("random", 2)]
    assert [r["regret"] for r in runs if (r["method"], r["seed"]) == (again["method"],
                                                                        again["seed"])] == [-1.0]
    assert info["nproc"] and command.count(" && ") == 1 and "--seed-start 2" in command
    assert eb.main(["--report-only", str(first), "--merge", str(second), "--out", str(md)]) == 0
    text = md.read_text()
    assert "keep me" in text and text.count(eb.SECTION) == 1 and "seeds 0..2" in text
    means = {m: np.mean([r["regret"] for r in runs if r["method"] == m]) for m in ("REA",)}
    assert f"| c100-fpga-0.1 | {means['REA']:.2f} |" in text
