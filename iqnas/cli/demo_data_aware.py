"""``iqnas demo --data-aware``: data-aware against architecture-only search on scikit-learn's
digits, every candidate trained for real, across flash budgets under one peak-RAM budget."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rich.table import Table

from iqnas.cli.common import EXIT_OK, console, print_json
from iqnas.errors import InputError

#: measured networks of the data-aware demo when --samples is not given
DEFAULT_SAMPLES = 40


def _defaults() -> dict:
    """The options of the data-aware demo and their defaults (None on the parser, so that one
    given without --data-aware can be told apart)."""
    from iqnas.workloads.data_aware import DEFAULT_FLASH_BUDGETS, DEFAULT_RAM_BUDGET

    return {"flash_budgets": ",".join(f"{b:g}" for b in DEFAULT_FLASH_BUDGETS),
            "ram_budget": DEFAULT_RAM_BUDGET, "epochs": 20, "top_k": 3, "workers": 2}


def add_options(p: argparse.ArgumentParser) -> None:
    d = _defaults()
    g = p.add_argument_group("data-aware demo (--data-aware)")
    g.add_argument("--data-aware", action="store_true",
                   help="search input resolution and bit depth with the network on sklearn's "
                   "digits (trained for real) against architecture-only, across flash budgets")
    g.add_argument("--flash-budgets", default=None, metavar="B1,B2,...",
                   help=f"flash budgets in bytes (int8 weights; default {d['flash_budgets']})")
    g.add_argument("--ram-budget", type=float, default=None, metavar="BYTES",
                   help="peak RAM budget in bytes, one constraint per layer (default "
                   f"{d['ram_budget']:g})")
    g.add_argument("--epochs", type=int, default=None,
                   help=f"training epochs per network (default {d['epochs']})")
    g.add_argument("--top-k", type=int, default=None,
                   help=f"IQP answers trained per budget and mode (default {d['top_k']})")
    g.add_argument("--workers", type=int, default=None,
                   help=f"training processes (default {d['workers']}; 1 trains in-process)")


def check_options(args: argparse.Namespace) -> None:
    """Without --data-aware its options are an InputError (they would be ignored); with it, the
    ones not given take their defaults."""
    given = [k for k in _defaults() if getattr(args, k) is not None]
    if not args.data_aware:
        if given:
            flags = ", ".join("--" + k.replace("_", "-") for k in given)
            raise InputError(f"{flags} belong to the data-aware demo; add --data-aware (or "
                             "leave them out)")
        return
    for k, v in _defaults().items():
        if getattr(args, k) is None:
            setattr(args, k, v)


def parse_budgets(text: str) -> list[float]:
    """``"450,650"`` -> [450.0, 650.0], or an InputError naming --flash-budgets."""
    try:
        budgets = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise InputError(f"--flash-budgets {text!r}: give comma-separated numbers of bytes, "
                         "e.g. 450,650,1000") from None
    if not budgets or any(not b > 0 or b == float("inf") for b in budgets):
        raise InputError(f"--flash-budgets {text!r}: give positive, finite numbers of bytes")
    return budgets


def run(args: argparse.Namespace) -> int:
    from iqnas.executors import InProcessExecutor, ProcessExecutor
    from iqnas.workloads.data_aware import check_budgets, run_data_aware

    budgets = check_budgets(parse_budgets(args.flash_budgets), args.ram_budget)
    for flag, value, low in (("--epochs", args.epochs, 1), ("--top-k", args.top_k, 1),
                             ("--workers", args.workers, 1)):
        if value < low:
            raise InputError(f"{flag} must be >= {low}, got {value}")
    n_samples = DEFAULT_SAMPLES if args.samples is None else args.samples
    show = None if not args.quiet and args.format == "table" else False
    if show is None:
        shown = ", ".join(f"{b:g}" for b in budgets)
        console.print(f"[bold]iqnas demo --data-aware[/]: sklearn digits, {n_samples} networks "
                      f"trained for calibration, flash budgets {shown} B, peak RAM <= "
                      f"{args.ram_budget:g} B per layer")
    executor = InProcessExecutor() if args.workers == 1 else ProcessExecutor(args.workers)
    with tempfile.TemporaryDirectory(prefix="iqnas-demo-") as tmp, executor:
        store = Path(tmp) / "digits.db" if args.store is None else args.store
        run_ = run_data_aware(budgets, args.ram_budget, n_samples=n_samples, epochs=args.epochs,
                              top_k=args.top_k, seed=args.seed, store=store,
                              executor=executor, progress=show)
        n_trained = len(run_.samples())
        if args.format == "json":
            print_json({"rows": run_.rows, "n_trained": n_trained, "elapsed_s": run_.elapsed})
        else:
            _print(run_, n_trained)
    return EXIT_OK


def _fmt(v, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def _print(run_, n_trained: int) -> None:
    t = Table("flash budget", "mode", "status", "input", "conv", "pred. acc", "test acc",
              "flash B", "peak RAM B",
              title="best measured network per budget (flash and RAM recounted from the "
                    "exported network)")
    for r in run_.rows:
        data = r.get("data_choices") or {}
        inp = f"{data['resolution']}x{data['resolution']}, {data['bits']} bit" if data else "-"
        conv = (r.get("architecture_choices") or {}).get("conv", "-")
        status = r["status"]
        if r["key"] is None and r.get("smallest_flash") is not None:
            status += f" (smallest flash {r['smallest_flash']:g} B)"
        t.add_row(f"{r['flash_budget']:g}", r["mode"], status, inp, conv,
                  _fmt(r["predicted_acc"], ".3f"), _fmt(r["test_acc"], ".3f"),
                  _fmt(r["flash_bytes"], ".0f"), _fmt(r["ram_bytes"], ".0f"))
    console.print(t)
    df = run_.explain(tables=["main", "interactions"])
    space = run_.model.space
    main = df[(df["table"] == "main") & df["group"].isin(space.data_groups)]
    m = Table("data group", "option", "effect on val acc", title="data groups: main effects "
              "(vs the first option)")
    for _, row in main.iterrows():
        m.add_row(row["group"], row["option"], f"{row['value']:+.3f}")
    console.print(m)
    inter = df[(df["table"] == "interactions") & (df["group"].isin(space.data_groups)
                                                   | df["group2"].isin(space.data_groups))]
    strength = inter.assign(size=inter["value"].abs()).groupby(["group", "group2"])["size"].max()
    i = Table("group", "group2", "largest pure interaction", title="interactions of the data "
              "groups")
    for (a, b), v in strength.items():
        i.add_row(a, b, f"{v:.3f}")
    console.print(i)
    console.print(f"{n_trained} networks trained in {run_.elapsed:.1f} s; every "
                  "reported network was trained and meets its budgets")
