"""Headless Debian chromium for the report tests: find (or install) it, dump the rendered DOM
with the network cut off, take a screenshot, and read the page's requests from a net log."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALLER = REPO / "scripts" / "install_chromium.sh"
NAMES = ("chromium", "chromium-browser")
#: without the background-networking flags the closed network refuses many connections
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio")
#: every http(s) request goes to a closed port and no host name resolves: the network is off
OFFLINE = ("--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND")
#: milliseconds of virtual time for the page's scripts (plotly draws synchronously)
BUDGET = 30_000


def find() -> str | None:
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def require() -> str:
    """chromium's path; installs it with scripts/install_chromium.sh when missing. Skips (or,
    with IQNAS_REQUIRE_BROWSER=1 as in CI, fails) only when it truly cannot be installed."""
    path = find()
    if path is None:
        proc = subprocess.run([str(INSTALLER)], capture_output=True, text=True, timeout=900)
        path = find()
        if path is None:
            why = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["unknown error"]
            reason = f"chromium is not installed and cannot be installed: {why[0]}"
            if os.environ.get("IQNAS_REQUIRE_BROWSER") == "1":
                pytest.fail(reason)
            pytest.skip(reason)
    return path


def _run(binary: str, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="iqnas-chromium-") as profile:
        cmd = [binary, *FLAGS, f"--user-data-dir={profile}", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "HOME": profile})
    assert proc.returncode == 0, f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}"
    return proc


def dump_dom(binary: str, page: Path, net_log: Path | None = None) -> str:
    """The DOM after the page's scripts ran, opened offline; ``net_log`` records requests."""
    args = [*OFFLINE, f"--virtual-time-budget={BUDGET}", "--window-size=1280,2000"]
    if net_log is not None:
        args.append(f"--log-net-log={net_log}")
    return _run(binary, [*args, "--dump-dom", page.resolve().as_uri()]).stdout


def screenshot(binary: str, page: Path, png: Path, size: tuple[int, int] = (1280, 3000)) -> Path:
    _run(binary, [*OFFLINE, f"--virtual-time-budget={BUDGET}",
                  f"--window-size={size[0]},{size[1]}", f"--screenshot={png}",
                  page.resolve().as_uri()])
    return png


def page_requests(net_log: Path) -> list[str]:
    """URLs the page itself asked for (requests whose network isolation key is the file://
    page), leaving out the browser's own background requests."""
    data = json.loads(net_log.read_text())
    start = data["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for ev in data["events"]:
        p = ev.get("params") or {}
        if ev.get("type") == start and "file://" in str(p.get("network_isolation_key", "")):
            urls.append(p["url"])
    return urls


class Tree(HTMLParser):
    """Elements of a DOM dump with their attributes and the figure (if any) they are in."""

    VOID = {"br", "img", "meta", "link", "input", "hr", "col", "area", "base", "wbr", "source"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict]] = []
        self.elements: list[tuple[str, dict, str | None, str | None]] = []
        self.text: list[str] = []

    def _figure(self) -> str | None:
        for _, attrs in reversed(self.stack):
            if "data-figure" in attrs:
                return attrs["data-figure"]
        return None

    def _section(self) -> str | None:
        for _, attrs in reversed(self.stack):
            if "data-section" in attrs:
                return attrs["data-section"]
        return None

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        self.stack.append((tag, attrs))
        self.elements.append((tag, attrs, self._figure(), self._section()))
        if tag in self.VOID:
            self.stack.pop()

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.text.append(data)

    def classes(self, figure: str, name: str) -> int:
        return sum(1 for _, a, f, _s in self.elements
                   if f == figure and name in a.get("class", "").split())
