"""Write the bad-input corpus of tests/data/bad/ (issue 16): damaged or wrong files of every
format the CLI reads, each refused with exit code 2 and a one-line message.

Run from the repository root: ``python scripts/make_bad_corpus.py``. The files are committed;
tests/reliability/test_bad_corpus.py runs every one of them through the CLI (the expected exit
code and message fragment of each file are in tests/data/bad/cases.json).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "bad"
sys.path.insert(0, str(ROOT))

import iqnas  # noqa: E402

SPACE = iqnas.spaces.get("nb201")
N = SPACE.n_vars
#: how each kind of file is given to the CLI ({file}: the corpus file, {tmp}: a fresh folder,
#: {good}: tests/data/bad/good)
COMMANDS = {
    "form": ["solve", "--space", "nb201", "--objective", "{file}"],
    "space": ["space", "show", "{file}"],
    "csv": ["calibrate", "--space", "nb201", "--oracle", "{file}", "--objective", "acc",
            "--samples", "10", "--store", "{tmp}/s.db"],
    "sweep": ["sweep", "--space", "nb201", "--objective", "{good}/acc.json", "--constraint",
              "lat={good}/lat.json", "--resource", "lat", "--budgets", "5,10", "--out",
              "{file}"],
    "store": ["calibrate", "--space", "nb201", "--oracle", "nb201", "--objective",
              "test_acc_c100", "--samples", "20", "--store", "{file}"],
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        if old.is_file():
            old.unlink()
    cases: list[dict] = []
    good = OUT / "good"
    good.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    acc = iqnas.QuadraticForm(SPACE, 1.0, rng.normal(size=N), name="acc")
    lat = iqnas.QuadraticForm(SPACE, 0.0, rng.uniform(size=N), name="lat", units="ms")
    acc.save(good / "acc.json")
    lat.save(good / "lat.json")
    good_form = acc.to_dict()

    def case(name: str, kind: str, content: bytes | str, fragment: str, code: int = 2) -> None:
        data = content.encode() if isinstance(content, str) else content
        (OUT / name).write_bytes(data)
        cases.append({"file": name, "kind": kind, "exit": code, "message": fragment})

    def form(name: str, changes: dict, fragment: str, drop: tuple = ()) -> None:
        d = {k: v for k, v in {**good_form, **changes}.items() if k not in drop}
        case(name, "form", json.dumps(d), fragment)

    # ---- forms: JSON
    case("form_empty.json", "form", "", "QuadraticForm JSON is malformed")
    case("form_not_object.json", "form", "[1, 2]", "a QuadraticForm JSON must be an object")
    case("form_truncated.json", "form", json.dumps(good_form)[:300],
         "QuadraticForm JSON is malformed")
    case("form_latin1.json", "form", '{"name": "caf\u00e9"}'.encode("latin-1"), "not UTF-8")
    form("form_unknown_field.json", {"coefs": [1]}, "unknown field(s) ['coefs']")
    form("form_other_space.json", {"space": "mobilenet"}, "is for space 'mobilenet'",
         drop=("space_hash", "variables"))
    form("form_linear_short.json", {"linear": [1.0, 2.0, 3.0]}, "'linear' has 3 entries")
    form("form_linear_string.json", {"linear": ["x"] * N}, "linear[0] must be a number")
    form("form_linear_bool.json", {"linear": [True] * N}, "linear[0] must be a number")
    case("form_linear_nan.json", "form",
         json.dumps({**good_form, "linear": [float("nan")] * N}), "coefficients must be finite")
    form("form_pairwise_not_list.json", {"pairwise": {"a": 1}}, "'pairwise' must be a list")
    form("form_pairwise_pair.json", {"pairwise": [[0, 1]]}, "pairwise[0] must be [i, j, coef]")
    form("form_pairwise_bad_name.json", {"pairwise": [["e01=zzz", "e12=none", 1.0]]},
         "zzz")
    form("form_pairwise_out_of_range.json", {"pairwise": [[0, 999, 1.0]]},
         "pairwise[0] names variable 999")
    form("form_pairwise_same_group.json", {"pairwise": [["e01=none", "e01=skip_connect", 1.0]]},
         "multiplies two options of one group")
    form("form_intercept_string.json", {"intercept": "70"}, "intercept must be a number")
    form("form_bad_hash.json", {"space_hash": "sha256:" + "0" * 64},
         "was saved for another space named 'nb201'")
    form("form_variables_mismatch.json", {"variables": ["a"] * N}, "'variables' do not match")
    case("form_wrong_suffix.txt", "form", json.dumps(good_form), "unknown file type '.txt'")

    # ---- forms: NPZ
    good_npz = acc.save(good / "acc.npz").read_bytes()
    arrays = dict(np.load(good / "acc.npz"))
    (good / "acc.npz").unlink()

    def npz(name: str, changes: dict, fragment: str, drop: tuple = ()) -> None:
        path = OUT / name
        z = {k: v for k, v in {**arrays, **changes}.items() if k not in drop}
        with open(path, "wb") as fh:
            np.savez(fh, **z)
        cases.append({"file": name, "kind": "form", "exit": 2, "message": fragment})

    case("form_empty.npz", "form", b"", "it is empty")
    case("form_truncated.npz", "form", good_npz[:200], "truncated or not a zip archive")
    case("form_text.npz", "form", "hello", "truncated or not a zip archive")
    npz("form_missing_linear.npz", {}, "not a readable QuadraticForm NPZ file",
        drop=("linear",))
    npz("form_pickled.npz", {"linear": np.array([{"a": 1}], dtype=object)},
        "not a readable QuadraticForm NPZ file")
    npz("form_index_out_of_range.npz", {"rows": np.array([0]), "cols": np.array([999]),
                                         "vals": np.array([1.0])},
        "pairwise index out of range")
    npz("form_negative_index.npz", {"rows": np.array([-1]), "cols": np.array([6]),
                                     "vals": np.array([1.0])}, "pairwise index out of range")
    npz("form_other_space.npz", {"space": np.array("mobilenet")}, "is for space 'mobilenet'",
        drop=("space_hash",))
    npz("form_same_group.npz", {"rows": np.array([0]), "cols": np.array([1]),
                                 "vals": np.array([1.0])}, "multiplies two options of one group")
    npz("form_linear_short.npz", {"linear": np.ones(3)}, "linear has length 3")
    npz("form_linear_nan.npz", {"linear": np.full(N, np.nan)}, "coefficients must be finite")
    npz("form_float_rows.npz", {"rows": np.array([0.5]), "cols": np.array([6]),
                                 "vals": np.array([1.0])}, "not a readable QuadraticForm NPZ")

    # ---- space files
    case("space_empty.json", "space", "", "not valid JSON")
    case("space_not_object.json", "space", "[]", "must be an object")
    case("space_no_groups.json", "space", json.dumps({"name": "mine"}), "groups")
    case("space_empty_options.json", "space",
         json.dumps({"name": "mine", "groups": [{"name": "a", "options": []}]}), "options")
    case("space_duplicate_option.json", "space",
         json.dumps({"name": "mine", "groups": [{"name": "a", "options": ["x", "x"]}]}), "'x'")
    case("space_bool_option.json", "space",
         json.dumps({"name": "mine", "groups": [{"name": "a", "options": [True, "y"]}]}),
         "options[0]")
    case("space_unknown_field.json", "space",
         json.dumps({"name": "mine", "groups": [{"name": "a", "options": ["x", "y"]}],
                     "extra": 1}), "unknown field 'extra'")
    case("space_bad_condition.json", "space",
         json.dumps({"name": "mine", "groups": [
             {"name": "a", "options": ["x", "y"]},
             {"name": "b", "options": ["x", "y"], "active_if": {"group": "zz", "options": ["x"]}}
         ]}), "zz")
    case("space_bad.toml", "space", "name = 'mine'\n[[groups]\n", "not valid TOML")
    case("space_latin1.json", "space", '{"name": "caf\u00e9", "groups": []}'.encode("latin-1"),
         "cannot be read")

    # ---- sample CSVs
    table = iqnas.oracles.nb201("cifar100").table()
    keys = list(table.index[:12])
    rows = [f"{k},{table.loc[k, 'test_acc_c100']},{table.loc[k, 'help_lat_fpga']}"
            for k in keys]
    head = "arch,acc,latency\n"

    def csv(name: str, text: str | bytes, fragment: str) -> None:
        case(name, "csv", text, fragment)

    csv("csv_empty.csv", "", "the file is empty")
    csv("csv_header_only.csv", head, "no measurements after the header")
    csv("csv_no_key_column.csv", "cell,acc,latency\n" + "\n".join(rows) + "\n",
        "no key column 'arch'")
    csv("csv_bad_key.csv", head + "|nope~0|,1,2\n" + "\n".join(rows) + "\n", "line 2")
    csv("csv_not_a_number.csv", head + "\n".join(rows) + f"\n{table.index[20]},abc,1\n",
        "'abc' is not a number")
    csv("csv_nan.csv", head + rows[0].rsplit(",", 1)[0] + ",nan\n", "is not a finite number")
    csv("csv_negative_latency.csv", head + rows[0].rsplit(",", 1)[0] + ",-1.5\n",
        "-1.5 is negative")
    csv("csv_ragged.csv", head + rows[0] + ",7\n", "expected 3 fields like the header")
    csv("csv_conflicting_duplicate.csv", head + rows[0] + "\n" + rows[0].rsplit(",", 1)[0]
        + ",99\n", "repeats line 2 with a different value")
    csv("csv_latin1.csv", (head + rows[0] + "\n").encode() + b"\xe9\xe9,1,2\n", "not UTF-8")
    csv("csv_nul_byte.csv", (head + rows[0] + "\n").encode() + b"\x00,1,2\n",
        "line 3, column 'arch'")
    csv("csv_duplicate_column.csv", "arch,acc,acc\n" + rows[0] + "\n",
        "duplicate column name")
    csv("csv_empty_value.csv", head + rows[0].rsplit(",", 1)[0] + ",\n", "empty value")
    csv("csv_no_metrics.csv", "arch\n" + keys[0] + "\n", "no metric columns")

    # ---- sweep files ("@HEADER@" is replaced by the header of the sweep COMMANDS["sweep"])
    def sweep(name: str, text: str | bytes, fragment: str) -> None:
        case(name, "sweep", text, fragment)

    point = {"kind": "point", "point": 0, "budget": 5.0, "grid_budget": None}
    sweep("sweep_junk.jsonl", "hello\nworld\n", "is not an iqnas sweep file")
    sweep("sweep_binary.jsonl", b"\x89PNG\r\n\x1a\n\x00\x00\n", "is not an iqnas sweep file")
    sweep("sweep_other_sweep.jsonl", json.dumps({"kind": "header", "format": "iqnas-sweep/1",
                                                 "budgets": [1.0]}) + "\n",
          "belongs to a different sweep")
    sweep("sweep_bad_line.jsonl", "@HEADER@\n{oops\n", "line 2 is not valid JSON")
    sweep("sweep_foreign_point.jsonl", "@HEADER@\n" + json.dumps({**point, "point": 99}) + "\n",
          "line 2 is not a point of this sweep")
    sweep("sweep_wrong_budget.jsonl", "@HEADER@\n" + json.dumps({**point, "budget": 7.0})
          + "\n", "line 2 is not a point of this sweep")
    sweep("sweep_bad_status.jsonl", "@HEADER@\n" + json.dumps({**point, "status": "weird"})
          + "\n", "unknown status 'weird'")
    sweep("sweep_not_object_line.jsonl", "@HEADER@\n[1, 2]\n",
          "line 2 is not a point of this sweep")

    # ---- stores
    def store(name: str, build, fragment: str) -> None:
        path = OUT / name
        build(path)
        cases.append({"file": name, "kind": "store", "exit": 2, "message": fragment})

    def sqlite(path: Path, *statements: str) -> None:
        con = sqlite3.connect(path)
        for s in statements:
            con.execute(s)
        con.commit()
        con.close()

    def real_store(path: Path, space: str = "nb201", seed: int = 5) -> None:
        with iqnas.calibration.SampleStore(path, space, settings={"objective": "x"},
                                           seed=seed) as st:
            arch = st.space.arch([0] * st.space.n_groups)
            st.add(arch, {"m": 1.0})
        _checkpoint(path)

    store("store_foreign.db", lambda p: sqlite(p, "CREATE TABLE x (a)",
                                               "INSERT INTO x VALUES (1)"),
          "is a SQLite file but not an iqnas sample store")
    store("store_text.db", lambda p: p.write_text("not a database\n" * 100),
          "is not a usable iqnas sample store")
    store("store_other_space.db", lambda p: real_store(p, "mobilenet"),
          "holds samples of space 'mobilenet'")
    store("store_other_settings.db", real_store, "was created with a different settings")
    store("store_future_schema.db", lambda p: (real_store(p), sqlite(
        p, "UPDATE meta SET value = '99' WHERE name = 'schema_version'")),
        "has schema version 99")
    store("store_no_space.db", lambda p: (real_store(p), sqlite(
        p, "DELETE FROM meta WHERE name = 'space'")), "no space recorded")
    store("store_bad_meta_json.db", lambda p: (real_store(p), sqlite(
        p, "UPDATE meta SET value = '{oops' WHERE name = 'space'")), "no space recorded")

    def corrupt(path: Path) -> None:
        real_store(path)
        data = bytearray(path.read_bytes())
        data[100:len(data)] = b"\x5a" * (len(data) - 100)
        path.write_bytes(bytes(data))

    store("store_corrupted_pages.db", corrupt, "is not a usable iqnas sample store")

    def truncated(path: Path) -> None:
        real_store(path)
        path.write_bytes(path.read_bytes()[:5000])

    store("store_truncated.db", truncated, "database disk image is malformed")
    (OUT / "cases.json").write_text(json.dumps({"commands": COMMANDS, "cases": cases},
                                               indent=1) + "\n")
    print(f"{len(cases)} bad inputs in {OUT}")


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the file, so that one file is the whole store."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()


if __name__ == "__main__":
    main()
