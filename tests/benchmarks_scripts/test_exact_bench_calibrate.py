"""The calibrate part of the exact-at-scale benchmark: every IQP solve is recorded and capped."""

from __future__ import annotations

import iqnas
from tests.solvers.random_problems import brute_force, random_problem


def test_recording_scip_records_each_solve_and_the_table_shows_them():
    from benchmarks import exact_bench as eb

    p = random_problem(0, density=0.2, n_constraints=1)
    best, _ = brute_force(p)
    eb.RecordingScip.cap, eb.RecordingScip.solves = 30.0, []
    answers = iqnas.solve_top_k(p, 2, eb.RecordingScip(reuse_model=False))
    solves = eb.RecordingScip.solves
    assert len(solves) == 2 and [s["excluded"] for s in solves] == [0, 1]
    assert all(s["status"] == "optimal" for s in solves)
    assert abs(answers[0].objective - best) <= 1e-6 * max(1.0, abs(best))
    run = {"family": "calibrate-x", "seed": 0, "n_solves": 2, "proven": 2, "wall": 1.5,
           "solver_time": sum(s["build_time"] + s["solve_time"] for s in solves),
           "max_gap": 0.0, "solves": solves}
    table = eb.calibrate_table([run, {**run, "stopped": True, "wall": None}])
    assert "| calibrate-x | 0 | 2 | 2/2 |" in table
    assert "| calibrate-x (stopped early) | 0 | 2 | 2/2 |" in table and table.endswith("| - |")
