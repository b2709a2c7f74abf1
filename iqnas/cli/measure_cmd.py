"""``iqnas measure``: build and measure random networks of a space on this machine (or a Dask
cluster) into a sample store."""

from __future__ import annotations

import argparse

from rich.table import Table

from iqnas import spaces
from iqnas.cli.common import (
    EXIT_NO_SOLUTION,
    EXIT_OK,
    SPACE_HELP,
    add_common,
    add_input_shape,
    console,
    err_console,
    print_json,
)
from iqnas.errors import InputError


def register(sub) -> None:
    p = sub.add_parser("measure", help="measure random networks of a space on this machine",
                       description="Build --samples random networks of --space (seeded), "
                       "measure latency, parameter bytes, peak activation bytes and MACs with "
                       "torch (and onnxruntime latency with --onnx), and store them in the "
                       "SQLite --store as they finish; a rerun with the same store measures "
                       "only what is missing. --workers N measures on an embedded Dask cluster, "
                       "--scheduler ADDR on an existing one (one timed job per worker).")
    p.add_argument("--space", required=True, help=SPACE_HELP)
    p.add_argument("--builder", default=None, metavar="MODULE:FUNCTION",
                   help="your function arch -> torch.nn.Module (default: the space's built-in "
                        "builder)")
    add_input_shape(p, required=True)
    p.add_argument("--samples", type=int, required=True, help="networks to measure")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the sample and of the initial weights (default 0)")
    p.add_argument("--store", required=True, metavar="FILE", help="SQLite sample store")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None,
                       help="start an embedded Dask LocalCluster with N worker processes")
    where.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                       help="use the Dask cluster of this scheduler")
    p.add_argument("--onnx", action="store_true",
                   help="also export each network to ONNX and time it in onnxruntime")
    p.add_argument("--metrics", nargs="+", default=None, metavar="METRIC",
                   help="measure only these (default all: latency_ms latency_ms_spread "
                        "latency_ms_cpu param_bytes peak_activation_bytes macs, + "
                        "latency_ms_ort latency_ms_ort_spread with --onnx)")
    p.add_argument("--precision", choices=("fp32", "fp16", "bf16", "int8"), default="fp32",
                   help="bytes per parameter and activation element (default fp32)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per network (default 1)")
    p.add_argument("--warmup", type=int, default=5, help="untimed calls first (default 5)")
    p.add_argument("--repeats", type=int, default=30, help="timed calls (default 30)")
    p.add_argument("--retry-failed", action="store_true",
                   help="measure again the networks whose measurement failed in an earlier run")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from iqnas.calibration.batch import measure_batch
    from iqnas.calibration.samplers import UniformSampler
    from iqnas.calibration.store import SampleStore
    from iqnas.executors import make_executor
    from iqnas.oracles.torch_oracle import TorchOracle, parse_shape

    space = spaces.get(args.space)
    shape = parse_shape(args.input_shape, "--input-shape")
    if args.samples < 1:
        raise InputError(f"--samples must be >= 1, got {args.samples}")
    if args.seed < 0:
        raise InputError(f"--seed must be >= 0, got {args.seed}")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers must be >= 1, got {args.workers}")
    oracle = TorchOracle(space, shape, args.builder, metrics=args.metrics,
                         precision=args.precision, num_threads=args.threads,
                         warmup=args.warmup, repeats=args.repeats, onnx=args.onnx,
                         seed=args.seed)
    archs = UniformSampler().sample(space, args.samples, args.seed)
    if args.builder is not None:
        from iqnas.builders import check_buildable

        check_buildable(oracle.builder, "--builder")
    oracle.check(archs[0])
    with make_executor(args.workers, args.scheduler) as executor, \
            SampleStore(args.store, space, settings=oracle.settings()) as store:
        report = measure_batch(oracle, archs, store, executor=executor,
                               progress=None if not args.quiet else False,
                               retry_failed=args.retry_failed)
        rows = []
        for key in report.keys:
            values = store.get(key)
            if values is not None:
                rows.append({"key": key, **{m: values[m] for m in oracle.metrics}})
        failures = {key: store.failure(key) for key in report.keys if store.get(key) is None}
        units = oracle.units
    if args.format == "json":
        print_json(rows)
    else:
        t = Table("key", *(f"{m} ({units[m]})" if units.get(m) else m for m in oracle.metrics),
                  title=f"{len(rows)} networks of {space.name}")
        for row in rows:
            t.add_row(row["key"], *(f"{row[m]:.6g}" for m in oracle.metrics))
        console.print(t)
    if not args.quiet:
        err_console.print(report.summary(), soft_wrap=True)
        for key, fail in failures.items():
            if fail is not None:
                err_console.print(f"failed: {key}: {fail['error']}", soft_wrap=True)
    return EXIT_OK if not failures else EXIT_NO_SOLUTION
