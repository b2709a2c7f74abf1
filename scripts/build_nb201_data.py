"""Rebuild iqnas/data/nb201.csv.gz, the embedded NAS-Bench-201 table, from nas-data.

Usage: python scripts/build_nb201_data.py [SOURCE_DIR] [--out PATH]

SOURCE_DIR is the nas-data directory (default: <repo>/../shared/nas-data); the input is its
nb201/nb201_joined.csv. The output keeps every row and every column under the same name, with one
unit fix: FreeREA's ImageNet16-120 parameter counts are raw counts in the joined file and are
divided by 1e6 here so that ``params_M_in16`` is in millions like its cifar siblings. Numbers are
written in their shortest exact form and the gzip stream has no timestamp, so the file is
reproducible. See DATA.md.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "nas-data"
DEFAULT_OUT = REPO / "iqnas" / "data" / "nb201.csv.gz"
N_CELLS = 15625
OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
EDGE_COLUMNS = ("e01", "e02", "e12", "e03", "e13", "e23")
MAX_BYTES = 8 * 1024 * 1024
log = logging.getLogger("build_nb201_data")


def load_source(source: Path) -> pd.DataFrame:
    path = source / "nb201" / "nb201_joined.csv"
    if not path.is_file():
        raise SystemExit(f"error: {path} not found; pass the nas-data directory as SOURCE_DIR")
    log.info("reading %s (sha256 %s)", path, hashlib.sha256(path.read_bytes()).hexdigest())
    return pd.read_csv(path)


def check(df: pd.DataFrame) -> None:
    """Fail loudly if the source is not the table this script was written for."""
    if len(df) != N_CELLS or not np.array_equal(df["index"].to_numpy(), np.arange(N_CELLS)):
        raise SystemExit(f"error: expected {N_CELLS} rows with index 0..{N_CELLS - 1}")
    for col in EDGE_COLUMNS:
        bad = ~df[col].isin(OPS)
        if bad.any():
            raise SystemExit(f"error: column {col} has unknown op {df[col][bad].iloc[0]!r}")
    rebuilt = ("|" + df.e01 + "~0|+|" + df.e02 + "~0|" + df.e12 + "~1|+|" + df.e03 + "~0|"
               + df.e13 + "~1|" + df.e23 + "~2|")
    if not (rebuilt == df.arch_str).all():
        raise SystemExit("error: arch_str disagrees with the edge columns")
    if df.arch_str.duplicated().any():
        raise SystemExit("error: duplicate arch_str")
    for name in ("test_acc_c10", "test_acc_c100", "test_acc_in16", "help_lat_fpga",
                 "params_M_c100", "hw360_energy_mj_pi5_onnx_c100"):
        if name not in df.columns:
            raise SystemExit(f"error: required column {name} is missing")


def fix_units(df: pd.DataFrame) -> pd.DataFrame:
    """params_M_in16 holds raw parameter counts in the joined file; convert to millions."""
    df = df.copy()
    if df["params_M_in16"].median() > 1000:  # counts, not millions (idempotent if fixed upstream)
        df["params_M_in16"] = (df["params_M_in16"] / 1e6).round(9)
        log.info("params_M_in16: raw counts divided by 1e6")
    return df


def to_bytes(df: pd.DataFrame) -> bytes:
    text = df.to_csv(index=False, lineterminator="\n", float_format=_shortest)
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0) as gz:
        gz.write(text.encode())
    return raw.getvalue()


def _shortest(value: float) -> str:
    text = repr(float(value))  # shortest string that parses back to the same double
    return text[:-2] if text.endswith(".0") else text


def verify(df: pd.DataFrame, blob: bytes) -> None:
    back = pd.read_csv(io.BytesIO(blob), compression="gzip")
    if list(back.columns) != list(df.columns):
        raise SystemExit("error: columns changed in the round trip")
    for col in df.columns:
        a, b = df[col].to_numpy(), back[col].to_numpy()
        same = (np.array_equal(a, b, equal_nan=True) if a.dtype.kind in "fi"
                else np.array_equal(a, b))
        if not same:
            raise SystemExit(f"error: column {col} does not round-trip exactly")


def build(source: Path, out: Path) -> int:
    df = load_source(source)
    check(df)
    df = fix_units(df)
    blob = to_bytes(df)
    verify(df, blob)
    if len(blob) > MAX_BYTES:
        raise SystemExit(f"error: {len(blob)} bytes is over the {MAX_BYTES} byte budget")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(blob)
    tmp.replace(out)
    log.info("wrote %s: %d rows, %d columns, %d bytes", out, len(df), df.shape[1], len(blob))
    return len(blob)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE,
                   help=f"nas-data directory (default {DEFAULT_SOURCE})")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output (default {DEFAULT_OUT})")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    build(args.source, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
