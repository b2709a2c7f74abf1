"""``iqnas spaces`` and ``iqnas solvers``: what is available."""

from __future__ import annotations

from rich.table import Table

from iqnas import solvers, spaces
from iqnas.cli.common import EXIT_OK, add_common, console, print_json


def register(sub) -> None:
    p = sub.add_parser("spaces", help="list the built-in search spaces")
    add_common(p)
    p.set_defaults(func=run_spaces)
    p = sub.add_parser("solvers", help="list solver backends and their capabilities")
    add_common(p)
    p.set_defaults(func=run_solvers)


def run_spaces(args) -> int:
    rows = []
    for name in spaces.names():
        s = spaces.get(name)
        rows.append({"name": name, "groups": s.n_groups, "variables": s.n_vars,
                     "architectures": s.size, "description": s.description})
    if args.format == "json":
        print_json(rows)
        return EXIT_OK
    t = Table("space", "groups", "variables", "architectures", "description")
    for r in rows:
        size = f"{r['architectures']:,}" if r["architectures"] < 1e9 else \
            f"{r['architectures']:.3g}"
        t.add_row(r["name"], str(r["groups"]), str(r["variables"]), size, r["description"])
    console.print(t)
    return EXIT_OK


def run_solvers(args) -> int:
    rows = []
    for name in solvers.names():
        try:
            info = solvers.info(name)
        except Exception:  # a custom backend registered at run time
            rows.append({"name": name, "available": True, "capabilities": [], "description": ""})
            continue
        rows.append({"name": name, "available": info.available(),
                     "capabilities": sorted(info.capabilities), "description": info.description})
    if args.format == "json":
        print_json(rows)
        return EXIT_OK
    t = Table("solver", "available", "capabilities", "description")
    for r in rows:
        t.add_row(r["name"], "yes" if r["available"] else "no", ", ".join(r["capabilities"]),
                  r["description"])
    console.print(t)
    return EXIT_OK
