"""Latency lookup table benchmark of issue 10: the BINAS LUT against end-to-end latency, and
measurement throughput serial vs Dask, on this machine.

    python benchmarks/lut_bench.py                     # 3 runs, writes BENCHMARKS.md
    python benchmarks/lut_bench.py --runs 1 --networks 20 --out -
    python benchmarks/lut_bench.py --report-only benchmarks/results/lut_bench.jsonl

Each run measures the mobilenet latency LUT (``iqnas.oracles.latency_lut``: every block option
alone at every position, plus stem and tail), then the end-to-end latency of the same
``--networks`` random networks (``TorchOracle``, metrics ``latency_ms`` and ``latency_ms_cpu``)
twice through ``iqnas.calibration.measure_batch``: serially in this process and on an embedded
Dask ``LocalCluster`` of ``--workers`` worker processes (one timed job per worker), in an order
that alternates between runs. It records the LUT's prediction error against each measurement,
by the wall clock and by CPU time (the LUT keeps both; CPU time is not stretched when other
work on the machine preempts the process): fraction within +/-10 %, Kendall tau, median
measured / predicted ratio, and the same after one scale factor (the median ratio of the first
``--calibrate`` networks, scored on the others); and the throughput (networks per minute,
cluster start-up and the workers' first import of torch excluded, building and timing
included), also of a resource-only batch (``param_bytes``, ``peak_activation_bytes``, ``macs``:
no timing, so the Dask jobs are not exclusive). Inputs are small (``--input-size``, batch 1) so
that a run takes a few minutes on 2 cores; every timing uses one torch thread. Raw runs go to a
JSON-lines file; the medians over the runs go to the "Latency lookup table" section of
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(ROOT))

from benchmarks.report import limit_blas_threads  # noqa: E402

limit_blas_threads()

import numpy as np  # noqa: E402

import iqnas  # noqa: E402
from benchmarks.report import (  # noqa: E402
    RESULTS,
    Headline,
    add_output_options,
    new_run,
    publish_section,
    read_run,
    results_writer,
    section_head,
    summary_row,
)

SECTION = "## Latency lookup table and measurement throughput"
MODES = ("serial", "dask")
CLOCKS = ("wall", "cpu")
#: the untimed metrics of the resource-only throughput
RESOURCES = ("param_bytes", "peak_activation_bytes", "macs")


def accuracy(pred: np.ndarray, true: np.ndarray, n_calibrate: int) -> dict:
    """Within +/-10 %, Kendall tau and the median ratio of the LUT's predictions, raw and after
    one scale factor fitted on the first ``n_calibrate`` networks (scored on the rest)."""
    from scipy.stats import kendalltau

    ratio = true / pred
    scale = float(np.median(ratio[:n_calibrate]))
    held_pred, held_true = scale * pred[n_calibrate:], true[n_calibrate:]
    return {"within10": float(np.mean(np.abs(pred - true) <= 0.1 * true)),
            "tau": float(kendalltau(pred, true).statistic),
            "median_ratio": float(np.median(ratio)), "scale": scale,
            "scaled_within10": float(np.mean(np.abs(held_pred - held_true) <= 0.1 * held_true)),
            "scaled_tau": float(kendalltau(held_pred, held_true).statistic)}


def measure(mode: str, oracles: dict, archs, workers: int) -> tuple[dict, dict]:
    """Latencies (and resource counts) of ``archs`` measured ``mode``-wise, and how long each
    batch took."""
    from iqnas.calibration import SampleStore, measure_batch
    from iqnas.executors import DaskExecutor, InProcessExecutor

    t0 = time.perf_counter()
    executor = InProcessExecutor() if mode == "serial" else DaskExecutor(workers=workers)
    if mode == "dask":  # this process has imported them already
        executor.preload("torch", "iqnas.oracles.torch_oracle", "iqnas.builders.mobilenet")
    stats: dict = {"startup": time.perf_counter() - t0, "retried": 0}
    values: dict = {}
    with executor, tempfile.TemporaryDirectory() as tmp:
        for kind, oracle in oracles.items():
            with SampleStore(Path(tmp) / f"{kind}.db", oracle.space) as store:
                rep = measure_batch(oracle, archs, store, executor=executor, progress=False)
                if rep.failed:
                    raise SystemExit(f"{mode}: {len(rep.failed)} measurements failed: "
                                     f"{next(iter(rep.failed.values()))}")
                values[kind] = [store.get(a) for a in archs]
            stats["retried"] += rep.retried
            stats["per_min" if kind == "latency" else f"{kind}_per_min"] = \
                60.0 * len(archs) / rep.elapsed
    rows = values["latency"]
    lat = {"wall": np.array([r["latency_ms"] for r in rows]),
           "cpu": np.array([r["latency_ms_cpu"] for r in rows]),
           "resources": values.get("resources")}
    spread = np.array([r["latency_ms_spread"] for r in rows])
    stats["median_rel_spread"] = float(np.median(spread / lat["wall"]))
    return lat, stats


def one_run(run: int, args) -> dict:
    import os

    from iqnas.calibration.samplers import UniformSampler
    from iqnas.oracles import TorchOracle
    from iqnas.oracles.latency_lut import build_latency_lut

    shape = (1, 3, args.input_size, args.input_size)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    lut = build_latency_lut(shape, warmup=args.warmup, repeats=args.repeats, progress=False)
    lut_time = time.perf_counter() - t0
    space = iqnas.spaces.get("mobilenet")
    archs = UniformSampler().sample(space, args.networks, args.seed)
    pred = {c: lut.form(clock=c).evaluate(archs) for c in CLOCKS}
    oracles = {"latency": TorchOracle(space, shape, warmup=args.warmup, repeats=args.repeats,
                                      metrics=["latency_ms", "latency_ms_spread",
                                               "latency_ms_cpu"]),
               "resources": TorchOracle(space, shape, metrics=list(RESOURCES))}
    rec = {"run": run, "load": load, "lut_time": lut_time, "lut_constant": lut.constant,
           "predicted_median": float(np.median(pred["wall"]))}
    order = MODES if run % 2 == 0 else MODES[::-1]
    counts = {}
    for mode in order:
        lat, stats = measure(mode, oracles, archs, args.workers)
        counts[mode] = lat["resources"]
        rec[mode] = stats
        for c in CLOCKS:
            rec[mode][c] = {**accuracy(pred[c], lat[c], args.calibrate),
                            "measured_median": float(np.median(lat[c]))}
            print(f"run {run} {mode:6s} {c:4s} {stats['per_min']:6.1f} networks/min, within "
                  f"10 % {rec[mode][c]['within10']:.2f}, tau {rec[mode][c]['tau']:.3f}, "
                  f"measured/predicted {rec[mode][c]['median_ratio']:.2f}", flush=True)
        print(f"run {run} {mode:6s} resources only {stats['resources_per_min']:6.1f} "
              "networks/min", flush=True)
    if counts["serial"] != counts["dask"]:
        raise SystemExit("the Dask workers counted other resources than the serial run")
    return rec


# ---- report ------------------------------------------------------------------------------------
def summarise(runs: list[dict]) -> dict[str, dict]:
    """Per mode, the median over the runs of every recorded figure (per clock for the LUT's
    accuracy)."""
    out: dict[str, dict] = {}
    for mode in MODES:
        recs = [r[mode] for r in runs if mode in r]
        if not recs:
            continue
        out[mode] = {k: median(r[k] for r in recs) for k in recs[0] if k not in CLOCKS}
        for c in CLOCKS:
            out[mode][c] = {k: median(r[c][k] for r in recs) for k in recs[0][c]}
    return out


def section(runs: list[dict], info: dict, command: str, settings: dict) -> str:
    stats = summarise(runs)
    lines = section_head(SECTION, info, command)
    lines += [
        f"Settings: mobilenet space, input 1x3x{settings['input_size']}x{settings['input_size']}"
        f", {settings['networks']} random networks (seed {settings['seed']}), warm-up "
        f"{settings['warmup']} + {settings['repeats']} timed calls per network and per LUT "
        "entry (median; measured once more with twice the repetitions when the interquartile "
        f"range exceeds 10 % of the median), one torch thread, {settings['workers']} Dask "
        f"worker processes with one thread each. {len(runs)} runs; medians over the runs. The "
        f"LUT ({5 * 4 * 12} block entries + stem + tail) took a median "
        f"{median(r['lut_time'] for r in runs):.1f} s to measure. "
        "*wall*: `latency_ms`, the wall-clock latency; *CPU*: `latency_ms_cpu`, the CPU time of "
        "the process per call, against the LUT's CPU-time form.",
        "",
        "| measured | clock | networks / min | within +/-10 % | Kendall tau | measured / "
        "predicted | scaled LUT: within +/-10 % | scaled LUT: tau |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for mode, st in stats.items():
        label = "serial (in-process)" if mode == "serial" else \
            f"Dask, {settings['workers']} workers"
        for c in CLOCKS:
            a = st[c]
            lines.append(f"| {label} | {'wall' if c == 'wall' else 'CPU'} | {st['per_min']:.1f} | "
                         f"{100 * a['within10']:.1f} % | {a['tau']:.3f} | "
                         f"{a['median_ratio']:.2f} | {100 * a['scaled_within10']:.1f} % | "
                         f"{a['scaled_tau']:.3f} |")
    lines += ["", f"*scaled LUT*: the LUT times one factor, the median measured / predicted ratio "
              f"of the first {settings['calibrate']} networks, scored on the other "
              f"{settings['networks'] - settings['calibrate']}. Per run:", "",
              "| run | load at start | serial networks/min | Dask networks/min | resources only: "
              "serial / Dask networks/min | Dask start-up (s) | IQR / median, serial | "
              "IQR / median, Dask | jobs retried |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r['run']} | {r['load']:.1f} | {r['serial']['per_min']:.1f} | "
                     f"{r['dask']['per_min']:.1f} | {r['serial']['resources_per_min']:.0f} / "
                     f"{r['dask']['resources_per_min']:.0f} | {r['dask']['startup']:.1f} | "
                     f"{100 * r['serial']['median_rel_spread']:.1f} % | "
                     f"{100 * r['dask']['median_rel_spread']:.1f} % | "
                     f"{r['serial']['retried'] + r['dask']['retried']} |")
    lines += ["", *findings(stats.get("serial", {}), stats.get("dask", {}), settings)]
    return "\n".join(lines) + "\n"


def headline(runs: list[dict], settings: dict) -> Headline:
    """The summary row: the LUT's accuracy against measured networks and the throughput."""
    stats = summarise(runs)
    measures = (f"the BINAS latency LUT measured here vs {settings['networks']} measured mobilenet "
                "networks; networks measured per minute, serial vs Dask")
    s, d = stats.get("serial"), stats.get("dask")
    if not s:
        return Headline(measures, "no results")
    c = s["cpu"]
    figure = (f"CPU time: Kendall tau {c['tau']:.2f}, {100 * c['within10']:.0f} % within +/-10 % "
              f"({100 * c['scaled_within10']:.0f} % with one scale factor); "
              f"{s['per_min']:.0f} networks/min serial")
    if d:
        figure += f", {d['per_min']:.0f} with {settings['workers']} Dask workers"
    return Headline(measures, figure, "none set (fraction within +/-10 %, Kendall tau reported)")


def findings(s: dict, d: dict, settings: dict) -> list[str]:
    """What the numbers say (recomputed from the numbers on every report)."""
    if not s or not d:
        return []
    speed = d["per_min"] / s["per_min"]
    w, c = s["wall"], s["cpu"]
    out = ["Findings:", ""]
    out.append(
        f"* Serially, the LUT ranks the networks with Kendall tau {w['tau']:.2f} (wall clock) / "
        f"{c['tau']:.2f} (CPU time), but a network takes {w['median_ratio']:.2f}x / "
        f"{c['median_ratio']:.2f}x the sum of its blocks timed alone, so "
        f"{100 * w['within10']:.0f} % / {100 * c['within10']:.0f} % fall within +/-10 %. A block "
        "timed alone, again and again, keeps its weights and activations in cache and skips "
        "the Python calls between blocks; in the network it does not. One scale factor from "
        f"{settings['calibrate']} measured networks brings {100 * w['scaled_within10']:.0f} % / "
        f"{100 * c['scaled_within10']:.0f} % of the others within +/-10 %.")
    if w["median_ratio"] > 1.1 * c["median_ratio"]:
        out.append(
            f"* The wall clock adds {100 * (w['median_ratio'] / c['median_ratio'] - 1):.0f} % "
            "on top of CPU time: the 2 cores are shared with other work, and a call that lasts "
            "milliseconds is preempted more often than a block that lasts a fraction of one.")
    res_speed = d["resources_per_min"] / s["resources_per_min"]
    out.append(
        f"* Without timing (`param_bytes`, `peak_activation_bytes`, `macs`: build the network, "
        f"count), {settings['workers']} Dask workers measure {res_speed:.2f}x as many networks "
        f"per minute as one process ({d['resources_per_min']:.0f} vs "
        f"{s['resources_per_min']:.0f}), with the same counts.")
    out.append(
        f"* With timing, {settings['workers']} Dask workers measure {speed:.2f}x as many networks "
        f"per minute as one process ({d['per_min']:.0f} vs {s['per_min']:.0f}). Their timings: tau "
        f"{d['wall']['tau']:.2f} / {d['cpu']['tau']:.2f} against the LUT, measured / predicted "
        f"{d['wall']['median_ratio']:.2f} / {d['cpu']['median_ratio']:.2f} (wall / CPU): "
        "two timing jobs on the two cores of a machine that also runs other work disturb "
        "each other (one job per worker cannot prevent that when there are fewer free cores "
        "than workers), and their wider spread makes more of them measure again with twice "
        "the repetitions. Timing in parallel pays only with a free core per worker.")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--networks", type=int, default=200)
    ap.add_argument("--input-size", type=int, default=64)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--calibrate", type=int, default=20,
                    help="networks that fit the scale factor of the 'scaled LUT' columns")
    ap.add_argument("--seed", type=int, default=0)
    add_output_options(ap, RESULTS / "lut_bench.jsonl", record="run")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.report_only:
        runs, info, command, header = read_run(args.report_only)
        settings = header["settings"]
    else:
        if not 2 <= args.calibrate < args.networks:
            raise SystemExit("--calibrate must be >= 2 and smaller than --networks")
        import torch

        torch.set_num_threads(1)
        info, command = new_run("lut_bench", argv, as_module=bool(__package__))
        settings = {k: getattr(args, k) for k in ("networks", "input_size", "warmup", "repeats",
                                                   "workers", "calibrate", "seed")}
        runs = []
        with results_writer(args.jsonl, info, command, settings=settings) as write:
            for run in range(args.runs):
                rec = one_run(run, args)
                runs.append(rec)
                write(rec)
    for mode, st in summarise(runs).items():
        print(f"{mode:6s} median {st['per_min']:.1f} networks/min; within 10 % wall "
              f"{st['wall']['within10']:.2f} cpu {st['cpu']['within10']:.2f}; tau wall "
              f"{st['wall']['tau']:.3f} cpu {st['cpu']['tau']:.3f}")
    publish_section(args.out, SECTION, section(runs, info, command, settings),
                    summary_row(SECTION, headline(runs, settings), info, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
