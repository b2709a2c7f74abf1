"""``iqnas doctor``: versions, solver availability, the embedded data checksums and (with
``--store``) a store's SQLite integrity and sample counts. Exit 0 when all is well, 1 when a
check failed."""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import platform
import sqlite3
from pathlib import Path

from rich.table import Table

from iqnas import solvers
from iqnas._version import __version__
from iqnas.cli.common import EXIT_NO_SOLUTION, EXIT_OK, add_common, check_file, console, print_json
from iqnas.errors import InputError

#: the package's embedded data files and their sha256 (DATA.md says where each comes from)
EMBEDDED_SHA256 = {
    "nb201.csv.gz": "60306a85eb69438eb4a7d4da9ddb339a1d354617eb67a3c8583a14c5101272f5",
    "ofa_acc_predictor.npz": "59e38a1d2db3661bdcabebd2a0c4890a9ecf49b3466a218dcd4f774f06d450be",
    "ofa_note10_lut.json": "20b5c8b7e35ea4c42365cbbf4e1ee8abd98c9a9c7a1fb3a8f3b2be6149aa777b",
}
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
#: distributions whose versions are reported (missing optional ones say so)
PACKAGES = ("numpy", "scipy", "pandas", "pyscipopt", "rich", "torch", "cvxpy", "highspy",
            "matplotlib", "scikit-learn", "plotly", "dask", "onnx", "onnxruntime", "hypothesis")


def register(sub) -> None:
    p = sub.add_parser("doctor", help="check the installation (and a sample store)",
                       description="Report the versions of iqnas and its dependencies, which "
                       "solver backends are available, whether the embedded data files match "
                       "their checksums and, with --store FILE, the store's SQLite integrity "
                       "check and sample counts. Exit 0 if every check passes, 1 otherwise.")
    p.add_argument("--store", default=None, metavar="FILE", help="a sample store to check")
    add_common(p)
    p.set_defaults(func=run)


def versions() -> dict[str, str | None]:
    """iqnas, Python, the dependencies (None: not installed) and the SCIP library."""
    out: dict[str, str | None] = {"iqnas": __version__, "python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    try:
        from pyscipopt import Model

        out["scip"] = str(Model().version())
    except Exception:  # pyscipopt missing or broken: reported as such
        out["scip"] = None
    return out


def solver_rows() -> list[dict]:
    rows = []
    for name in solvers.names():
        try:
            available = bool(solvers.info(name).available())
        except Exception:  # a backend registered at run time
            available = True
        rows.append({"name": name, "available": available})
    return rows


def data_rows(data_dir: Path | None = None) -> list[dict]:
    """Each embedded file with its expected and actual sha256 and whether they match."""
    data_dir = DATA_DIR if data_dir is None else data_dir
    rows = []
    for name, expected in EMBEDDED_SHA256.items():
        path = data_dir / name
        actual = _sha256(path) if path.is_file() else None
        rows.append({"file": name, "expected": expected, "actual": actual,
                     "ok": actual == expected})
    return rows


def store_report(path: str | Path) -> dict:
    """SQLite ``integrity_check`` of a store (opened read-only) and its sample counts."""
    path = check_file(str(path), "--store")
    out: dict = {"path": str(path), "integrity": None, "samples": None, "failures": None,
                 "space": None, "ok": False}
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise InputError(f"--store {path}: cannot open it ({exc})") from None
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
        out["integrity"] = "; ".join(str(r[0]) for r in rows[:5])
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master "
                                             "WHERE type='table'")}
        if not {"meta", "samples"} <= tables:
            out["integrity"] += " (not an iqnas sample store: no meta/samples tables)"
            return out
        out["samples"] = int(conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0])
        if "failures" in tables:
            out["failures"] = int(conn.execute("SELECT COUNT(*) FROM failures").fetchone()[0])
        row = conn.execute("SELECT value FROM meta WHERE name = 'space'").fetchone()
        out["space"] = None if row is None else row[0].strip('"')
        out["ok"] = out["integrity"] == "ok"
    except sqlite3.DatabaseError as exc:
        out["integrity"] = f"damaged: {exc}"
    finally:
        conn.close()
    return out


def run(args: argparse.Namespace) -> int:
    report = {"versions": versions(), "solvers": solver_rows(), "data": data_rows()}
    if args.store is not None:
        report["store"] = store_report(args.store)
    ok = all(r["ok"] for r in report["data"]) and report["store"]["ok"] \
        if "store" in report else all(r["ok"] for r in report["data"])
    report["ok"] = ok
    if args.format == "json":
        print_json(report)
        return EXIT_OK if ok else EXIT_NO_SOLUTION
    if not args.quiet:
        t = Table("package", "version", title="versions", box=None)
        for name, v in report["versions"].items():
            t.add_row(name, v or "not installed")
        console.print(t)
        t = Table("solver", "available", title="solvers", box=None)
        for r in report["solvers"]:
            t.add_row(r["name"], "yes" if r["available"] else "no")
        console.print(t)
        t = Table("file", "sha256", "ok", title="embedded data", box=None)
        for r in report["data"]:
            t.add_row(r["file"], (r["actual"] or "missing")[:16] + "...",
                      "yes" if r["ok"] else "NO")
        console.print(t)
        if "store" in report:
            s = report["store"]
            console.print(f"store {s['path']}: integrity {s['integrity']}; samples "
                          f"{s['samples']}, failures {s['failures']}, space {s['space']}",
                          markup=False, soft_wrap=True)
    console.print("all checks passed" if ok else "some checks FAILED", markup=False)
    return EXIT_OK if ok else EXIT_NO_SOLUTION


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
