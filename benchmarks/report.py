"""Shared by the benchmark scripts: the machine record, the raw JSON-lines results, the common
command-line options and section-wise writes to BENCHMARKS.md.

Each script owns one ``## ...`` section of ``BENCHMARKS.md`` and one row of its summary table
(the ``## Summary`` section) and rewrites only those, so scripts can run in any order without
overwriting each other's results. A results file holds one header record (``{"type": "header",
"info": ..., "command": ..., ...}``) and then one JSON object per measurement; ``--report-only
FILE`` rebuilds a section and its summary row from such a file without running.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import fcntl
import json
import os
import platform
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
RESULTS = ROOT / "benchmarks" / "results"
TOP = "# iqnas benchmarks"
SUMMARY = "## Summary"
SUMMARY_INTRO = ("One row per benchmark, rewritten with its section below (which gives the "
                 "machine, the command, the method and every figure).")
SUMMARY_HEADER = ("| benchmark | what it measures | headline | target | measured | reproduce |\n"
                  "|---|---|---|---|---|---|")
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def limit_blas_threads() -> None:
    """One BLAS thread per process (the machine is small and shared); call before numpy is
    imported. A variable already set is left alone."""
    for var in BLAS_THREAD_VARS:
        os.environ.setdefault(var, "1")


# ---- the machine record -----------------------------------------------------------------------
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


def command_line(script: str, argv: list[str] | None, as_module: bool) -> str:
    """How a script was run, to record with its results: ``python -m benchmarks.<script> ...``
    (``as_module``) or ``python benchmarks/<script>.py ...``; ``argv`` None = ``sys.argv``."""
    prog = f"python -m benchmarks.{script}" if as_module else f"python benchmarks/{script}.py"
    return (prog + " " + shlex.join(sys.argv[1:] if argv is None else argv)).strip()


# ---- one run: read back or measured now --------------------------------------------------------
def read_run(path: Path) -> tuple[list[dict], dict, str, dict]:
    """A run read back from its results file (``--report-only FILE``): its records, the machine
    record and the command of the run that wrote them, and the whole header record (for the
    fields a script adds to it)."""
    header, records = read_results(path)
    return records, header.get("info", {}), header.get("command", ""), header


def merge_runs(paths: list[Path], key) -> tuple[list[dict], dict, str]:
    """The records of several results files, one per ``key(record)`` (a later file's record
    replaces an earlier one with the same key, in the earlier one's place), the first file's
    machine info and every file's command joined by ``&&`` (a file without one adds none)."""
    info, commands, by_key = {}, [], {}
    for path in paths:
        runs, file_info, command, _ = read_run(path)
        info = info or file_info
        if command:
            commands.append(command)
        for r in runs:
            by_key[key(r)] = r
    return list(by_key.values()), info, " && ".join(dict.fromkeys(commands))


def new_run(script: str, argv: list[str] | None, as_module: bool) -> tuple[dict, str]:
    """The machine record and the command line (see ``command_line``) of a run measured now."""
    return machine_info(), command_line(script, argv, as_module)


# ---- raw results (JSON lines) ------------------------------------------------------------------
def read_results(path: Path) -> tuple[dict, list[dict]]:
    """The header record of a results file ({} if it has none) and every other record, in
    file order."""
    header, records = {}, []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        if rec.get("type") == "header":
            header = rec
        else:
            records.append(rec)
    return header, records


@contextmanager
def results_writer(path: Path, info: dict, command: str,
                   **extra) -> Iterator[Callable[[dict], None]]:
    """Open a results file for a new run (replacing an old one) with its header (``info``,
    ``command`` and any ``extra`` fields); yields ``write(record)``, which appends one record
    and flushes it, so an interrupted run keeps what it measured."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        def write(record: dict) -> None:
            fh.write(json.dumps(record) + "\n")
            fh.flush()

        write({"type": "header", "info": info, "command": command, **extra})
        yield write


# ---- command-line options ----------------------------------------------------------------------
def add_output_options(ap: argparse.ArgumentParser, jsonl: Path, record: str = "run") -> None:
    """The options every script takes: ``--out`` (the Markdown file whose section is written,
    '-' = none), ``--jsonl`` (raw results, default ``jsonl``; one JSON object per ``record``) and
    ``--report-only FILE`` (don't run: rebuild the section from a results file)."""
    ap.add_argument("--out", type=Path, default=BENCHMARKS_MD,
                    help="markdown file whose section is written ('-' = don't)")
    ap.add_argument("--jsonl", type=Path, default=jsonl,
                    help=f"raw results, one JSON object per {record}")
    ap.add_argument("--report-only", type=Path, default=None,
                    help="don't run: rebuild the section from this JSON-lines file")


# ---- the summary table --------------------------------------------------------------------------
@dataclass(frozen=True)
class Headline:
    """A benchmark's row of the summary table: what it measures, its headline figure and the
    target it is held to ("none set" when it only compares)."""

    measures: str
    figure: str
    target: str = "none set"


def anchor(title: str) -> str:
    """The link anchor of a Markdown heading's title (GitHub's rule: lower case, punctuation
    dropped, spaces to hyphens)."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def summary_row(heading: str, headline: Headline, info: dict, command: str) -> str:
    """The summary table's row of the section ``heading``: a link to it, the headline, the date
    of the run and its command."""
    title = heading.removeprefix("## ")
    date = str(info.get("date") or "-")[:10]
    cells = [f"[{title}](#{anchor(title)})", headline.measures, headline.figure,
             headline.target, date, f"`{command.strip()}`"]
    return "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"


def with_summary_row(text: str, heading: str, row: str) -> str:
    """``text`` with ``row`` as the summary row of ``heading``: replaced in place, else appended
    to the table; a missing summary section is created before the first section."""
    link = f"| [{heading.removeprefix('## ')}](#"
    span = section_span(text, SUMMARY)
    if span is None:
        block = f"{SUMMARY}\n\n{SUMMARY_INTRO}\n\n{SUMMARY_HEADER}\n{row}\n\n"
        first = re.search(r"^## ", text, flags=re.M)
        if first is None:
            return text.rstrip("\n") + "\n\n" + block.rstrip("\n") + "\n"
        return text[:first.start()] + block + text[first.start():]
    start, end = span
    lines = text[start:end].split("\n")
    mine = [i for i, line in enumerate(lines) if line.startswith(link)]
    if mine:
        lines[mine[0]] = row
    else:
        table = [i for i, line in enumerate(lines) if line.startswith("|")]
        at = table[-1] + 1 if table else len(lines)
        lines[at:at] = [row] if table else [SUMMARY_HEADER, row]
    return text[:start] + "\n".join(lines) + text[end:]


# ---- the Markdown section ----------------------------------------------------------------------
def command_block(command: str) -> list[str]:
    """Lines of a section showing the command of a run in a code block."""
    return ["Command:", "", "```", command, "```", ""]


def section_head(heading: str, info: dict, command: str, machine_note: str = "") -> list[str]:
    """The first lines of a section: the heading, the machine line (followed by
    ``machine_note``) and the command."""
    machine = machine_line(info) + (f" {machine_note}" if machine_note else "")
    return [heading, "", machine, "", *command_block(command)]


def publish_section(out: Path, heading: str, text: str, row: str | None = None) -> None:
    """Write ``text`` as the ``heading`` section of ``out`` and ``row`` (see ``summary_row``) as
    its row of the summary table, and say so; ``out`` '-' = don't."""
    if str(out) == "-":
        return
    write_section(out, heading, text, row)
    print(f"\nwrote the section {heading[3:]!r} of {out}")


def section_span(text: str, heading: str) -> tuple[int, int] | None:
    """Where the section starting with ``heading`` stands in ``text``: from its heading to the
    next ``## `` heading or the end (None if ``text`` has no such section)."""
    start = text.find(heading)
    if start < 0:
        return None
    nxt = re.search(r"^## ", text[start + len(heading):], flags=re.M)
    return start, len(text) if nxt is None else start + len(heading) + nxt.start()


def read_section(path: Path, heading: str) -> str:
    """The section starting with ``heading`` in ``path`` ('' if the file or section is
    missing)."""
    text = path.read_text() if path.exists() else ""
    span = section_span(text, heading)
    return "" if span is None else text[span[0]:span[1]]


@contextmanager
def file_lock(lock: Path) -> Iterator[None]:
    """Hold an exclusive ``fcntl.flock`` on the file ``lock`` (created for it, removed on
    release). A process that waited on a lock file its holder removed locks the new one."""
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            mine = os.fstat(fd)
            try:
                now = os.stat(lock)
            except FileNotFoundError:
                now = None
        except BaseException:
            os.close(fd)
            raise
        if now is not None and (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino):
            break
        os.close(fd)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)  # still locked: nobody else can hold this file
        os.close(fd)


def lock_path(path: Path) -> Path:
    """The lock file guarding writes to ``path``."""
    return path.with_name(path.name + ".lock")


def write_section(path: Path, heading: str, text: str, row: str | None = None) -> None:
    """Replace (or append) the section starting with ``heading`` in ``path``; ``text`` must
    start with that heading. ``row`` (if given) becomes the section's row of the summary table.
    Every other section and row is kept as it is. The read-modify-write holds a lock file, so
    scripts finishing at the same time do not drop each other's sections."""
    if not text.startswith(heading):
        raise ValueError(f"section text must start with {heading!r}")
    with file_lock(lock_path(path)):
        old = path.read_text() if path.exists() else f"{TOP}\n"
        span = section_span(old, heading)
        if span is None:
            new = old.rstrip("\n") + "\n\n" + text
        else:
            start, end = span
            new = old[:start] + text + ("\n" + old[end:] if end < len(old) else "")
        if row is not None:
            new = with_summary_row(new, heading, row)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(new)
        tmp.replace(path)
