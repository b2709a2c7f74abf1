"""Solver benchmark: SCIP's time to a proven optimum on seeded instance families, linearised
vs native products.

    python -m benchmarks.solver_bench                       # every family, 5 seeds, 60 s limit
    python -m benchmarks.solver_bench --families binas chain-0.1 --seeds 3 --time-limit 10
    python -m benchmarks.solver_bench --report-only runs/solver_bench.jsonl   # rewrite the table

A family is a name of ``iqnas.testing.instances`` with an optional ``/<n>c`` suffix for the number
of resource constraints (``dense-0.01/3c`` = latency, memory and energy). Each run records the
build time (compile + model + MIP start), the solve time, status, gap and nodes; results are
appended to a JSON-lines file as they come, then the medians are printed and written to the
"Solver: proving optimality" section of BENCHMARKS.md and its summary row (other sections are
left alone).
"""

from __future__ import annotations

import argparse
import logging
import math
import re
import sys
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script (make bench): make the repository importable
    sys.path.insert(0, str(ROOT))

import iqnas  # noqa: E402
from benchmarks.report import (  # noqa: E402
    RESULTS,
    Headline,
    add_output_options,
    command_block,
    new_run,
    publish_section,
    read_run,
    read_section,
    results_writer,
    summary_row,
)
from iqnas.testing.instances import make  # noqa: E402

DEFAULT_FAMILIES = ("binas", "chain-0.05", "chain-0.1", "dense-0.01", "dense-0.02",
                    "nb201-dense", "nb201-fitted", "dense-0.01/3c")
SECTION = "## Solver: proving optimality"
MEASURES = "time for SCIP to prove the optimum of seeded mobilenet and nb201 problems"
BASELINE = RESULTS / "solver_bench_baseline_08d886d.jsonl"
#: what the first (straightforward linearised) formulation took when the targets were set
ISSUE_BASELINE = {
    "binas": "0.5 s", "chain-0.05": "1.5 s", "chain-0.1": "3.4 s", "dense-0.01": "72 s",
    "dense-0.02": "10 % gap after 200 s",
}
TARGETS = {
    "binas": "< 0.3 s", "chain-0.1": "< 1 s", "dense-0.01": "< 10 s, proven optimal",
    "dense-0.02": "gap in 60 s (goal < 1 %)", "nb201-dense": "< 0.1 s",
}
#: TARGETS as limits on the linearised medians: ("s", x) = every seed proven and total < x s;
#: ("gap", x) = gap < x
TARGET_LIMITS = {"binas": ("s", 0.3), "chain-0.1": ("s", 1.0), "dense-0.01": ("s", 10.0),
                 "dense-0.02": ("gap", 0.01), "nb201-dense": ("s", 0.1)}
#: the family the summary leads with (when it was run)
LEAD = "dense-0.01"
_FAMILY = re.compile(r"^(?P<name>[^/]+)(?:/(?P<n>\d)c)?$")
#: the notes after this line of the section are kept when the section is rewritten
NOTES_MARK = ("<!-- notes: kept when solver_bench.py rewrites this section; "
              "replace them with --notes FILE -->")


def parse_family(spec: str) -> tuple[str, int | None]:
    m = _FAMILY.match(spec)
    if not m:
        raise SystemExit(f"bad family {spec!r}: use a name like dense-0.01 or dense-0.01/3c")
    return m.group("name"), None if m.group("n") is None else int(m.group("n"))


def run_one(family: str, seed: int, mode: str, time_limit: float) -> dict:
    name, n_cons = parse_family(family)
    problem = make(name, seed, n_cons)
    t0 = time.perf_counter()
    res = iqnas.solve(problem, time_limit=time_limit, products=mode, seed=0)
    wall = time.perf_counter() - t0
    return {
        "family": family, "seed": seed, "mode": mode, "status": str(res.status),
        "objective": res.objective, "gap": res.gap, "dual_bound": res.dual_bound,
        "nodes": res.nodes, "build_time": res.build_time, "solve_time": res.solve_time,
        "total_time": res.build_time + res.solve_time, "wall_time": wall,
        "key": None if res.architecture is None else res.architecture.key,
    }


# ---- summarising ------------------------------------------------------------------------------
def _fmt_time(t: float) -> str:
    return f"{t:.3f}" if t < 1 else f"{t:.2f}" if t < 10 else f"{t:.1f}"


def _fmt_gap(g) -> str:
    if g is None or (isinstance(g, float) and math.isnan(g)):
        return "-"
    return "0" if g <= 1e-9 else f"{100 * g:.2f} %"


def summarise(runs: list[dict]) -> list[dict]:
    """Median per (family, mode), in first-seen order."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in runs:
        groups.setdefault((r["family"], r["mode"]), []).append(r)
    out = []
    for (family, mode), rs in groups.items():
        gaps = [math.inf if r["gap"] is None else r["gap"] for r in rs]
        out.append({
            "family": family, "mode": mode, "n": len(rs),
            "optimal": sum(r["status"] == "optimal" for r in rs),
            "build": median(r["build_time"] for r in rs),
            "solve": median(r["solve_time"] for r in rs),
            "total": median(r["total_time"] for r in rs),
            "max_total": max(r["total_time"] for r in rs),
            "gap": median(gaps), "max_gap": max(gaps),
            "nodes": median(r["nodes"] or 0 for r in rs),
        })
    return out


def agreement(runs: list[dict]) -> dict[str, str]:
    """Per family: do linearised and native optima agree on every seed both proved?"""
    by: dict[tuple[str, int], dict[str, dict]] = {}
    for r in runs:
        by.setdefault((r["family"], r["seed"]), {})[r["mode"]] = r
    out: dict[str, list[bool]] = {}
    for (family, _), modes in by.items():
        a, b = modes.get("linearize"), modes.get("native")
        if a and b and a["status"] == b["status"] == "optimal":
            out.setdefault(family, []).append(
                abs(a["objective"] - b["objective"]) <= 1e-6 * max(1.0, abs(a["objective"])))
    return {f: f"{sum(v)}/{len(v)}" for f, v in out.items()}


def table(runs: list[dict]) -> str:
    agree = agreement(runs)
    lines = ["| family | formulation | seeds | optimal | build s | solve s | total s (median) "
             "| total s (max) | gap (median) | gap (max) | nodes | lin = native |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in summarise(runs):
        lines.append(
            f"| {s['family']} | {s['mode']} | {s['n']} | {s['optimal']}/{s['n']} "
            f"| {_fmt_time(s['build'])} | {_fmt_time(s['solve'])} | **{_fmt_time(s['total'])}** "
            f"| {_fmt_time(s['max_total'])} | {_fmt_gap(s['gap'])} | {_fmt_gap(s['max_gap'])} "
            f"| {s['nodes']:g} | {agree.get(s['family'], '-') if s['mode'] == 'linearize' else ''}"
            " |")
    return "\n".join(lines)


def section(runs: list[dict], info: dict, command: str, baseline: list[dict] | None,
            notes: str = "") -> str:
    fams = list(dict.fromkeys(r["family"] for r in runs))
    load = ", ".join(f"{v:.2f}" for v in info["loadavg"])
    parts = [
        SECTION, "",
        f"Measured {info['date']} on `{info['uname']}`; CPU {info['cpu']}, nproc "
        f"{info['nproc']} (load average at start {load}: the machine is shared, so times are "
        f"noisy). Python {info['python']}, PySCIPOpt {info['pyscipopt']}, SCIP "
        f"{info['scip']}, iqnas {info['iqnas']}.", "",
        *command_block(command),
        "Times are seconds per solve: *build* = compile the problem + build the SCIP model + the "
        "local-search MIP start, *solve* = SCIP's solve, *total* = build + solve (instance "
        "generation excluded). Medians over the seeds; the time limit applies to the solve. "
        "*lin = native* counts the seeds where both formulations proved optimality with the "
        "same objective. Families are defined in `iqnas/testing/instances.py`; `/3c` adds the "
        "memory and energy budgets to latency.", "",
        table(runs), "",
        "Targets and the first baseline (the straightforward linearised formulation, measured "
        "when the targets were set):", "",
        "| family | target | first baseline |", "|---|---|---|",
    ]
    for f in fams:
        parts.append(f"| {f} | {TARGETS.get(f, '-')} | {ISSUE_BASELINE.get(f, '-')} |")
    if baseline:
        parts += ["", "Baseline: the code at commit `08d886d` (one y per product, aggregated rows, "
                  "SCIP defaults, no folding / MIP start / cuts) on the same instances, same "
                  "machine:", "", table(baseline)]
    if notes:
        parts += ["", NOTES_MARK, "", notes.strip()]
    return "\n".join(parts) + "\n"


def headline(runs: list[dict]) -> Headline:
    """The summary row: the lead family's proofs and median time, and the targets met."""
    stats = {s["family"]: s for s in summarise(runs) if s["mode"] == "linearize"}
    stats = stats or {s["family"]: s for s in summarise(runs)}
    met, missed = 0, []
    for family, s in stats.items():
        if family not in TARGET_LIMITS:
            continue
        kind, limit = TARGET_LIMITS[family]
        if kind == "gap" and s["gap"] < limit:
            met += 1
        elif kind == "s" and s["optimal"] == s["n"] and s["total"] < limit:
            met += 1
        else:
            missed.append(f"`{family}` gap {_fmt_gap(s['gap'])}" if kind == "gap" else
                          f"`{family}` {_fmt_time(s['total'])} s, {s['optimal']}/{s['n']} proven")
    lead = LEAD if LEAD in stats else next(iter(stats))
    s = stats[lead]
    figure = (f"`{lead}`: {s['optimal']}/{s['n']} proven optimal, median "
              f"{_fmt_time(s['total'])} s")
    if met or missed:
        figure += f"; {met} of {met + len(missed)} targets met"
        figure += f" (missed: {', '.join(missed)})" if missed else ""
    targets = [f"`{f}` {TARGETS[f]}" for f in stats if f in TARGET_LIMITS]
    return Headline(MEASURES, figure, "; ".join(targets) or "none set")


def current_notes(path: Path) -> str:
    """The notes of the solver section of ``path`` (what follows NOTES_MARK), or ''."""
    body = read_section(path, SECTION)
    k = body.find(NOTES_MARK)
    return "" if k < 0 else body[k + len(NOTES_MARK):].strip()


def load_jsonl(path: Path) -> tuple[list[dict], dict, str]:
    """(runs, machine info, command) of a results file."""
    runs, info, command, _ = read_run(path)
    return runs, info, command


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--families", nargs="+", default=list(DEFAULT_FAMILIES))
    ap.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    ap.add_argument("--modes", nargs="+", default=["linearize", "native"],
                    choices=["linearize", "native"])
    add_output_options(ap, RESULTS / "solver_bench.jsonl")
    ap.add_argument("--baseline-jsonl", type=Path, default=BASELINE,
                    help="raw results of a baseline run to show next to these ('-' = none; "
                         "default: the run of commit 08d886d)")
    ap.add_argument("--notes", type=Path, default=None,
                    help="markdown appended to the section (default: keep the section's notes)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.report_only:
        runs, info, command = load_jsonl(args.report_only)
    else:
        for f in args.families:
            name, n = parse_family(f)
            make(name, 0, n)  # fail fast on a bad family name
        info, command = new_run("solver_bench", argv, as_module=bool(__package__))
        runs = []
        with results_writer(args.jsonl, info, command) as write:
            for family in args.families:
                for seed in range(args.seeds):
                    for mode in args.modes:
                        rec = run_one(family, seed, mode, args.time_limit)
                        runs.append(rec)
                        write(rec)
                        print(f"{family:14s} seed {seed} {mode:9s} {rec['status']:9s} "
                              f"total {rec['total_time']:7.2f} s  gap {_fmt_gap(rec['gap']):>8s}"
                              f"  nodes {rec['nodes']}", flush=True)
    print()
    print(table(runs))
    if str(args.out) != "-":
        use = str(args.baseline_jsonl) != "-" and args.baseline_jsonl.exists()
        baseline = load_jsonl(args.baseline_jsonl)[0] if use else None
        notes = args.notes.read_text() if args.notes else current_notes(args.out)
        publish_section(args.out, SECTION, section(runs, info, command, baseline, notes),
                        summary_row(SECTION, headline(runs), info, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
