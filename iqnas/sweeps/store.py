"""The sweep file: JSONL with a header line, then one line per finished point, appended as
points finish, so that an interrupted sweep keeps its points and resumes."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iqnas._outputs import check_output_file
from iqnas._version import __version__
from iqnas.errors import InputError
from iqnas.solve import INTERRUPT_STATUSES
from iqnas.status import Status
from iqnas.sweeps.points import SweepPoint
from iqnas.sweeps.rows import SweepRow

log = logging.getLogger(__name__)

FORMAT = "iqnas-sweep/1"
#: header fields that must match for a file to be resumed
IDENTITY = ("format", "problem", "space", "sense", "resource", "budgets", "grid_resource",
            "grid_budgets", "settings")


class SweepStore:
    """Single writer of one sweep file. ``rows`` holds the points already on file (point index ->
    :class:`SweepRow`).

    Nothing is written until the first point finishes, so a sweep that fails before it solves
    anything leaves no file behind. A partly written last line (an interrupted write) is
    dropped; the file is cut back to its last complete line before the next append.
    """

    def __init__(self, path: str | os.PathLike, header: Mapping[str, Any],
                 points: Mapping[int, SweepPoint]) -> None:
        self.path = Path(path)
        self.header = {"kind": "header", "format": FORMAT, **header, "iqnas": __version__}
        self.points = dict(points)
        self.rows: dict[int, SweepRow] = {}
        self._lock = threading.Lock()
        self._has_header = False
        self._good_bytes: int | None = None
        if self.path.is_dir():
            raise InputError(f"sweep file {self.path} is a directory; give a file path")
        check_output_file(self.path, "sweep file")  # before any point is solved
        if self.path.exists() and self.path.stat().st_size > 0:
            self._load()

    # ---- reading ----------------------------------------------------------------------------
    def _load(self) -> None:
        data = self.path.read_bytes()
        if b"\n" not in data:
            log.warning("%s holds only a partly written header; starting it over", self.path)
            return
        lines = data.split(b"\n")
        try:
            head = json.loads(lines[0])
        except (json.JSONDecodeError, UnicodeDecodeError):
            head = None
        if not isinstance(head, dict) or head.get("kind") != "header":
            raise InputError(f"{self.path} is not an iqnas sweep file (no header line); give "
                             "another out path or delete it")
        differ = [k for k in IDENTITY if head.get(k) != self.header.get(k)]
        if "space_hash" in head and head["space_hash"] != self.header.get("space_hash"):
            differ.insert(0, "space_hash")  # files from before it was recorded still resume
        if differ:
            raise InputError(f"{self.path} belongs to a different sweep ({', '.join(differ)} "
                             "differ); give another out path, or delete the file to start over")
        self._has_header = True
        offset = len(lines[0]) + 1
        for n, line in enumerate(lines[1:], start=2):
            complete = offset + len(line) < len(data)  # a newline follows
            if line.strip():
                try:
                    row = json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    row = None
                if not complete:
                    log.warning("%s: dropping a partly written last line", self.path)
                    self._good_bytes = offset
                    break
                if row is None:
                    raise InputError(f"{self.path} line {n} is not valid JSON; the file is "
                                     "damaged: delete it to start over")
                self._add(row, n)
            offset += len(line) + 1

    def _add(self, line: Any, n: int) -> None:
        point = self.points.get(line.get("point")) if isinstance(line, dict) else None
        if point is None or line.get("kind") != "point" or line.get("budget") != point.budget \
                or line.get("grid_budget") != point.grid_budget:
            raise InputError(f"{self.path} line {n} is not a point of this sweep; the file is "
                             "damaged: delete it to start over")
        if point.index in self.rows:
            log.warning("%s: point %d appears twice; keeping the first", self.path, point.index)
            return
        try:
            row = SweepRow.from_dict(line)
        except InputError as exc:
            raise InputError(f"{self.path} line {n}: {exc}; the file is damaged: delete it to "
                             "start over") from None
        if row.status is Status.INTERRUPTED or row.raw_status.lower() in INTERRUPT_STATUSES:
            # cut short by Ctrl-C (an older iqnas kept such points): solve it again
            log.info("%s line %d: point %d was interrupted; it is solved again", self.path, n,
                     point.index)
            return
        self.rows[point.index] = row

    # ---- writing ----------------------------------------------------------------------------
    def append(self, row: SweepRow) -> None:
        """Write one finished point (ignored if that point is already on file)."""
        with self._lock:
            if row.point in self.rows:
                return
            if self._good_bytes is not None:
                with open(self.path, "r+b") as fh:
                    fh.truncate(self._good_bytes)
                self._good_bytes = None
            lines = [] if self._has_header else [self.header]
            lines.append({"kind": "point", **row.to_dict()})
            mode = "a" if self._has_header else "w"
            with open(self.path, mode, encoding="utf-8") as fh:
                for obj in lines:
                    fh.write(json.dumps(obj) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            self._has_header = True
            self.rows[row.point] = row
