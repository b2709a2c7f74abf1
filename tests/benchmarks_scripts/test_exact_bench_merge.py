"""exact_bench: the absolute-gap column and ``--merge`` of results files."""

from __future__ import annotations

import json


def _solve(family, seed, status, objective, dual, peer="scip"):
    return {"part": "solve", "family": family, "seed": seed, "peer": peer, "status": status,
            "objective": objective, "gap": abs(dual - objective) / abs(objective),
            "dual_bound": dual, "build_time": 1.0, "solve_time": 2.0, "total_time": 3.0,
            "nodes": 1, "formulation": "linearize", "key": "k"}


def _write(path, command, records):
    head = {"type": "header", "info": {"date": "2026-12-02", "loadavg": [1.0, 1.0, 1.0]},
            "command": command}
    path.write_text("".join(json.dumps(r) + "\n" for r in [head, *records]))


def test_abs_gap_is_dual_minus_objective_and_zero_when_proven():
    from benchmarks import exact_bench as eb

    runs = [_solve("f", 0, "feasible", 10.0, 10.25), _solve("f", 1, "feasible", 10.0, 10.75),
            _solve("f", 2, "optimal", 10.0, 10.0)]
    assert eb.abs_gap(runs[0]) == 0.25 and eb.abs_gap(runs[2]) == 0.0
    assert eb.abs_gap({**runs[0], "dual_bound": None}) is None
    table = eb.solve_table(runs)
    assert "| f | scip | 3 | 1/3 | **3.00** | 3.00 | 2.50 % | 0.2500 |  |" in table
    old = [{k: v for k, v in r.items() if k != "dual_bound"} for r in runs[:2]]
    assert "| 5.00 % | - |" in eb.solve_table(old)


def test_merge_replaces_records_of_the_same_family_seed_and_peer(tmp_path, capsys):
    from benchmarks import exact_bench as eb

    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _write(a, "python -m benchmarks.exact_bench --seeds 2",
           [_solve("f", 0, "feasible", 10.0, 11.0), _solve("f", 1, "feasible", 10.0, 11.0),
            _solve("f", 0, "feasible", 9.0, 11.0, peer="highs")])
    _write(b, "python -m benchmarks.exact_bench --seeds 1", [_solve("f", 0, "optimal", 10.5, 10.5)])
    runs, info, command = eb.merged_runs([a, b])
    assert [(r["seed"], r["peer"], r["status"]) for r in runs] == [
        (0, "scip", "optimal"), (1, "scip", "feasible"), (0, "highs", "feasible")]
    assert command == ("python -m benchmarks.exact_bench --seeds 2 && "
                       "python -m benchmarks.exact_bench --seeds 1")
    assert info["date"] == "2026-12-02"
    md = tmp_path / "B.md"
    assert eb.main(["--report-only", str(a), "--merge", str(b), "--out", str(md)]) == 0
    text = md.read_text()
    assert "--seeds 2 && python -m benchmarks.exact_bench --seeds 1" in text
    assert "| f | scip | 2 | 1/2 |" in text
