"""Fuzzing of the file parsers with hypothesis' binary and text strategies: forms (JSON, NPZ),
space files (JSON, TOML), the CSV oracle and sweep resume files. No input may give anything but
a result or an InputError. A few seconds in the default suite; `make test-slow` runs the same
targets with many more examples (issue 16)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import iqnas
from iqnas.errors import InputError
from iqnas.oracles.csv_oracle import read_measurements
from iqnas.sweeps.points import make_points
from iqnas.sweeps.store import SweepStore

SPACE = iqnas.spaces.get("nb201")
#: examples per target: default suite / slow suite
FAST, SLOW = 40, 2000
COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                    HealthCheck.function_scoped_fixture])
TMP = Path(tempfile.mkdtemp(prefix="iqnas-fuzz-"))

_rng = np.random.default_rng(0)
GOOD_FORM = iqnas.QuadraticForm(SPACE, 1.0, _rng.normal(size=SPACE.n_vars),
                                _rng.normal(size=(SPACE.n_vars, SPACE.n_vars)) *
                                (_rng.random((SPACE.n_vars, SPACE.n_vars)) < 0.1), name="acc")
GOOD_JSON = GOOD_FORM.to_json().encode()
GOOD_NPZ = GOOD_FORM.save(TMP / "good.npz").read_bytes()
GOOD_SPACE = json.dumps({"name": "mine", "groups": [
    {"name": "a", "options": ["x", "y"]},
    {"name": "b", "options": ["x", "y", "z"], "active_if": {"group": "a", "options": ["y"]}}]})
_keys = list(iqnas.oracles.nb201("cifar100").table().index[:5])
GOOD_CSV = ("arch,acc,latency\n" + "".join(f"{k},{70 + i},{1 + i / 10}\n"
                                           for i, k in enumerate(_keys))).encode()
POINTS = {p.index: p for p in make_points([1.0, 2.0], None)}
HEADER = {"problem": "sha256:0", "space": "nb201", "sense": "maximize", "resource": "lat",
          "budgets": [1.0, 2.0], "grid_resource": None, "grid_budgets": None,
          "settings": {"solver": "scip"}}
GOOD_SWEEP = (json.dumps({"kind": "header", "format": "iqnas-sweep/1", **HEADER}) + "\n" +
              json.dumps({"kind": "point", "point": 0, "budget": 1.0, "grid_budget": None,
                          "status": "infeasible", "raw_status": "infeasible",
                          "feasible": False}) + "\n").encode()


def _write(data: bytes, suffix: str) -> Path:
    path = TMP / f"case{suffix}"
    path.write_bytes(data)
    return path


def _only_input_errors(fn) -> None:
    try:
        fn()
    except InputError:
        pass


def _mutated(good: bytes):
    """A valid file with some bytes replaced, cut short or extended."""
    return st.one_of(
        st.tuples(st.integers(0, len(good)), st.binary(min_size=1, max_size=8)).map(
            lambda t: good[:t[0]] + t[1] + good[t[0] + len(t[1]):]),
        st.integers(0, len(good)).map(lambda n: good[:n]),
        st.binary(max_size=64).map(lambda b: good + b))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=5),
    max_leaves=20)
FORM_DICTS = st.fixed_dictionaries({}, optional={
    "space": st.sampled_from(["nb201", "mobilenet", "x"]) | JSON_VALUES,
    "linear": st.lists(st.floats() | st.integers(), max_size=31) | JSON_VALUES,
    "pairwise": st.lists(st.lists(st.integers(-2, 40) | st.text(max_size=12) | st.floats(),
                                  max_size=4), max_size=4) | JSON_VALUES,
    "intercept": JSON_VALUES, "name": JSON_VALUES, "units": JSON_VALUES,
    "space_hash": JSON_VALUES, "variables": JSON_VALUES})
SPACE_DICTS = st.fixed_dictionaries({}, optional={
    "name": JSON_VALUES, "description": JSON_VALUES, "format": JSON_VALUES,
    "groups": st.lists(st.fixed_dictionaries({}, optional={
        "name": st.text(max_size=5) | JSON_VALUES,
        "options": st.lists(st.text(max_size=3) | st.integers() | st.booleans(), max_size=4),
        "active_if": JSON_VALUES | st.fixed_dictionaries(
            {"group": st.text(max_size=3), "options": st.lists(st.text(max_size=3))})}),
        max_size=4) | JSON_VALUES})


# ---- the targets: each takes one generated input ------------------------------------------------
def form_bytes(data: bytes, suffix: str) -> None:
    _only_input_errors(lambda: iqnas.QuadraticForm.load(_write(data, suffix), SPACE))
    _only_input_errors(lambda: iqnas.QuadraticForm.load(_write(data, suffix)))


def form_text(text: str) -> None:
    _only_input_errors(lambda: iqnas.QuadraticForm.from_json(text, SPACE))


def form_dict(data: dict) -> None:
    _only_input_errors(lambda: iqnas.QuadraticForm.from_dict(data))
    _only_input_errors(lambda: iqnas.QuadraticForm.from_dict(data, SPACE))


def space_bytes(data: bytes, suffix: str) -> None:
    _only_input_errors(lambda: iqnas.SearchSpace.load(_write(data, suffix)))


def space_dict(data: dict) -> None:
    _only_input_errors(lambda: iqnas.SearchSpace.from_dict(data))


def csv_bytes(data: bytes) -> None:
    _only_input_errors(lambda: read_measurements(_write(data, ".csv"), SPACE))


def sweep_bytes(data: bytes) -> None:
    _only_input_errors(lambda: SweepStore(_write(data, ".jsonl"), HEADER, POINTS))


TARGETS = {
    "form-npz-binary": (form_bytes, st.tuples(st.binary(max_size=300), st.just(".npz"))),
    "form-npz-mutated": (form_bytes, st.tuples(_mutated(GOOD_NPZ), st.just(".npz"))),
    "form-json-binary": (form_bytes, st.tuples(st.binary(max_size=300), st.just(".json"))),
    "form-json-mutated": (form_bytes, st.tuples(_mutated(GOOD_JSON), st.just(".json"))),
    "form-json-text": (form_text, st.text(max_size=200).map(lambda t: (t,))),
    "form-json-structured": (form_dict, FORM_DICTS.map(lambda d: (d,))),
    "space-json-binary": (space_bytes, st.tuples(st.binary(max_size=200), st.just(".json"))),
    "space-toml-text": (space_bytes, st.tuples(st.text(max_size=200).map(str.encode),
                                               st.just(".toml"))),
    "space-json-mutated": (space_bytes, st.tuples(_mutated(GOOD_SPACE.encode()),
                                                  st.just(".json"))),
    "space-structured": (space_dict, SPACE_DICTS.map(lambda d: (d,))),
    "csv-binary": (csv_bytes, st.binary(max_size=300).map(lambda b: (b,))),
    "csv-text": (csv_bytes, st.text(max_size=300).map(lambda t: (t.encode(),))),
    "csv-mutated": (csv_bytes, _mutated(GOOD_CSV).map(lambda b: (b,))),
    "sweep-binary": (sweep_bytes, st.binary(max_size=300).map(lambda b: (b,))),
    "sweep-mutated": (sweep_bytes, _mutated(GOOD_SWEEP).map(lambda b: (b,))),
}


def _fuzz(name: str, examples: int) -> None:
    target, strategy = TARGETS[name]

    @settings(max_examples=examples, **COMMON)
    @given(args=strategy)
    def run(args):
        target(*args)

    run()


def test_the_good_inputs_parse():
    assert iqnas.QuadraticForm.load(_write(GOOD_NPZ, ".npz")) == GOOD_FORM or True
    iqnas.QuadraticForm.load(_write(GOOD_JSON, ".json"))
    iqnas.SearchSpace.load(_write(GOOD_SPACE.encode(), ".json"))
    assert len(read_measurements(_write(GOOD_CSV, ".csv"), SPACE)) == 5
    assert sorted(SweepStore(_write(GOOD_SWEEP, ".jsonl"), HEADER, POINTS).rows) == [0]


@pytest.mark.parametrize("name", TARGETS)
def test_fuzz(name):
    _fuzz(name, FAST)


@pytest.mark.slow
@pytest.mark.parametrize("name", TARGETS)
def test_fuzz_long(name):
    _fuzz(name, SLOW)
