"""The HTML of a report: one self-contained page (styles, plotly.js and every figure inline, no
external reference), its tables, and writing it atomically (a temp file renamed into place)."""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;
background:#fafafa}
header{background:#1f3a5f;color:#fff;padding:1.2em 2em}
header h1{margin:0 0 .3em 0;font-size:1.6em}
header p{margin:.2em 0;opacity:.9}
nav a{color:#cfe3ff;margin-right:1em;text-decoration:none}
main{padding:0 2em 2em 2em;max-width:1400px}
section{background:#fff;border:1px solid #e2e2e2;border-radius:6px;margin:1.2em 0;
padding:.6em 1.4em 1.2em 1.4em}
h2{color:#1f3a5f;border-bottom:1px solid #e2e2e2;padding-bottom:.3em}
h3{color:#333;margin-top:1.4em}
table{border-collapse:collapse;font-size:.88em;margin:.6em 0}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f0f3f7}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th:after{content:" \\2195";color:#999}
.scroll{max-height:32em;overflow:auto;border:1px solid #eee}
.note{color:#555;font-style:italic}
code,.key{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em;word-break:break-all}
pre{background:#f4f4f4;padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
figure.iqnas-figure{margin:1em 0}
figure.iqnas-figure figcaption{color:#555;font-size:.9em}
footer{color:#777;font-size:.85em;padding:1em 2em}
"""

# sorts a table by the clicked column: numbers numerically, the rest as text; again = reversed
SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var dir = th.getAttribute("data-dir") === "asc" ? -1 : 1;
      table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("data-dir"); });
      th.setAttribute("data-dir", dir === 1 ? "asc" : "desc");
      function val(r) {
        var t = r.cells[col].getAttribute("data-value") || r.cells[col].textContent;
        var n = parseFloat(t);
        return isNaN(n) || !isFinite(t) ? t : n;
      }
      rows.sort(function (a, b) {
        var x = val(a), y = val(b);
        if (typeof x === typeof y) { return x < y ? -dir : x > y ? dir : 0; }
        return typeof x === "number" ? -dir : dir;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def fmt(value: object, digits: int = 5) -> str:
    """A table cell's text: numbers to ``digits`` significant digits, NaN/None empty."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return "" if not math.isfinite(value) else f"{float(value):.{digits}g}"
    return str(value)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))


def table(header: Sequence[str], rows: Iterable[Sequence[object]], *, sortable: bool = False,
          scroll: bool = False, keys: Sequence[int] = (), table_id: str = "") -> str:
    """An HTML table; columns listed in ``keys`` are shown as architecture keys. Sortable
    tables keep each number's full value in ``data-value`` for sorting."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for r in rows:
        cells = []
        for j, v in enumerate(r):
            if j in keys:
                cells.append(f'<td class="key">{esc(fmt(v))}</td>')
            elif _is_number(v):
                data = f' data-value="{float(v)!r}"' if math.isfinite(float(v)) else ""
                cells.append(f'<td class="num"{data}>{esc(fmt(v))}</td>')
            else:
                cells.append(f"<td>{esc(fmt(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    attrs = (f' id="{esc(table_id)}"' if table_id else "") + (
        ' class="sortable"' if sortable else "")
    out = (f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>" + "".join(body)
           + "</tbody></table>")
    return f'<div class="scroll">{out}</div>' if scroll else out


def pairs(items: Iterable[tuple[str, object]]) -> str:
    """A two-column table of names and values."""
    return table(("", ""), ((k, v) for k, v in items)).replace("<thead><tr><th></th><th></th>"
                                                             "</tr></thead>", "")


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def section(sid: str, title: str, body: str) -> str:
    return (f'<section id="{esc(sid)}" data-section="{esc(sid)}"><h2>{esc(title)}</h2>'
            f"{body}</section>")


def script_json(obj: object) -> str:
    """JSON that is safe inside a <script> element."""
    text = obj if isinstance(obj, str) else json.dumps(obj)
    return text.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def page(title: str, subtitle: str, sections: Sequence[tuple[str, str, str]], plotly_js: str,
         footer: str) -> str:
    """The whole document; ``sections`` are (id, title, body HTML)."""
    nav = "".join(f'<a href="#{esc(sid)}">{esc(t)}</a>' for sid, t, _ in sections)
    body = "".join(section(sid, t, b) for sid, t, b in sections)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{STYLE}</style>"
            f"<script>{plotly_js}</script></head>\n<body><header><h1>{esc(title)}</h1>"
            f"<p>{esc(subtitle)}</p><nav>{nav}</nav></header>\n<main>{body}</main>"
            f"<footer>{esc(footer)}</footer><script>{SORT_SCRIPT}</script></body></html>\n")


def check_writable(out: str | os.PathLike) -> Path:
    """``out`` as a Path whose folder exists and can be written (InputError otherwise)."""
    from iqnas.errors import InputError

    out = Path(out)
    if out.is_dir():
        raise InputError(f"--out {out} is a directory; give a file such as {out / 'report.html'}")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"--out {out}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise InputError(f"--out {out}: cannot write there (permission denied)")
    return out


