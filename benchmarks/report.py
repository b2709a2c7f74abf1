"""Shared by the benchmark scripts: the machine record and section-wise writes to BENCHMARKS.md.

Each script owns one ``## ...`` section of ``BENCHMARKS.md`` and rewrites only that section, so
scripts can run in any order without overwriting each other's results.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
RESULTS = ROOT / "benchmarks" / "results"
TOP = "# iqnas benchmarks"


def machine_info() -> dict:
    """CPU, core count, load, date and library versions, recorded with every result file."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        uname = subprocess.run(["uname", "-a"], capture_output=True, text=True,
                               check=False).stdout.strip()
    except OSError:
        uname = " ".join(platform.uname())
    import pyscipopt

    import iqnas

    return {"uname": uname, "cpu": cpu, "nproc": os.cpu_count(),
            "loadavg": list(os.getloadavg()),
            "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "python": platform.python_version(), "pyscipopt": pyscipopt.__version__,
            "scip": str(pyscipopt.Model().version()), "iqnas": iqnas.__version__}


def machine_line(info: dict) -> str:
    """One Markdown line naming the machine and date of a result."""
    load = ", ".join(f"{v:.1f}" for v in info.get("loadavg", []))
    return (f"Machine: {info.get('cpu')}, {info.get('nproc')} cores, load {load} at start; "
            f"{info.get('date')}; Python {info.get('python')}, pyscipopt "
            f"{info.get('pyscipopt')} (SCIP {info.get('scip')}), iqnas {info.get('iqnas')}.")


def write_section(path: Path, heading: str, text: str) -> None:
    """Replace (or append) the section starting with ``heading`` in ``path``; ``text`` must
    start with that heading. Every other section is kept as it is."""
    if not text.startswith(heading):
        raise ValueError(f"section text must start with {heading!r}")
    old = path.read_text() if path.exists() else f"{TOP}\n"
    start = old.find(heading)
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        nxt = re.search(r"^## ", old[start + len(heading):], flags=re.M)
        end = len(old) if nxt is None else start + len(heading) + nxt.start()
        new = old[:start] + text + ("\n" + old[end:] if end < len(old) else "")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(new)
    tmp.replace(path)
