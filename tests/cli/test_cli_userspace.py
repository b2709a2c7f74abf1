"""Acceptance of issue 10 (phase B): a user-defined space in a JSON file (with a conditional group)
goes through ``iqnas calibrate`` with the user's function as oracle, then ``solve``, ``explain``
and ``sweep``; every answer is checked against enumeration of that space. Bad input (an unknown
op, a group with no options, an ``active_if`` cycle, a builder that raises or does not import, a
scheduler that cannot be reached) is one line, exit code 2, and nothing is written."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import iqnas
from iqnas.calibration.store import SampleStore
from iqnas.cli import main

ROOT = Path(iqnas.__file__).resolve().parents[1]
MODULE = "userspace_fns"

SPACE = {"name": "toyconv", "description": "a user's own convolutional space",
         "groups": [
             {"name": "depth", "options": [1, 2, 3], "units": "blocks"},
             {"name": "w1", "options": [8, 16, 32], "units": "channels"},
             {"name": "k1", "options": ["3", "5"],
              "option_descriptions": {"3": "3x3 kernel", "5": "5x5 kernel"}},
             {"name": "w2", "options": [8, 16, 32],
              "active_if": {"group": "depth", "options": [2, 3]}},
             {"name": "w3", "options": [8, 16], "active_if": {"group": "depth", "options": [3]}},
         ]}

SOURCE = '''
"""The user's own functions: a closed-form accuracy and latency, and torch builders."""


def widths(arch):
    a = arch.active()
    return [int(a[g]) for g in ("w1", "w2", "w3") if g in a]


def evaluate(arch):
    w, k = widths(arch), int(arch["k1"])
    acc = 60 + 4 * len(w) + sum(w) / 8 + (2.0 if k == 5 else 0.0) \\
        + (1.5 if k == 5 and w[0] == 32 else 0.0)
    return {"accuracy": acc, "latency_ms": 0.5 + 0.05 * sum(w) * (1.4 if k == 5 else 1.0)}


def flaky(arch):
    """Fails on every architecture of depth 2 with w1=16."""
    if arch["depth"] == "2" and arch["w1"] == "16":
        raise RuntimeError("out of memory")
    return evaluate(arch)


KERNELS = {"3": 3, "5": 5}


def build(arch):
    from torch import nn

    k, layers, c = KERNELS[arch["k1"]], [], 3
    for w in widths(arch):
        layers += [nn.Conv2d(c, w, k, padding=k // 2, bias=False), nn.ReLU()]
        c = w
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))


def broken(arch):
    raise RuntimeError("the builder is broken")
'''


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A folder with the space file and the user's module (importable here and in
    subprocesses)."""
    tmp = tmp_path_factory.mktemp("userspace")
    (tmp / "space.json").write_text(json.dumps(SPACE, indent=1))
    (tmp / f"{MODULE}.py").write_text(SOURCE)
    sys.path.insert(0, str(tmp))
    importlib.invalidate_caches()
    yield tmp
    sys.path.remove(str(tmp))
    sys.modules.pop(MODULE, None)


@pytest.fixture(scope="module")
def calibrated(work):
    """``iqnas calibrate`` run as a command in a subprocess: 40 of the 60 architectures."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(work)])}
    argv = [sys.executable, "-m", "iqnas", "calibrate", "--space", "space.json", "--oracle",
            f"{MODULE}:evaluate", "--objective", "accuracy", "--constraint", "latency_ms=4",
            "--samples", "40", "--method", "regression", "--store", "runs/s.db",
            "--save-models", "models", "--format", "json"]
    proc = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return work, json.loads(proc.stdout), proc.stderr


def _fns():
    return importlib.import_module(MODULE)


def _truth(space):
    archs = space.enumerate()
    values = [_fns().evaluate(a) for a in archs]
    return archs, np.array([v["accuracy"] for v in values]), \
        np.array([v["latency_ms"] for v in values])


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_calibrate_with_the_users_function_finds_the_true_optimum(calibrated):
    work, out, err = calibrated
    space = iqnas.spaces.get(work / "space.json")
    assert space.size == 60 == 3 * 2 * (1 + 3 + 3 * 2)
    assert "discovered from its first call: accuracy, latency_ms" in err
    archs, acc, lat = _truth(space)
    best = int(np.argmax(np.where(lat <= 4, acc, -np.inf)))
    assert out["best"]["key"] == archs[best].key == "depth=3;w1=32;k1=5;w2=8;w3=8"
    assert out["true"] == pytest.approx(_fns().evaluate(archs[best]))
    assert out["best"]["truly_feasible"] and out["n_samples"] == 40
    with SampleStore(work / "runs" / "s.db", space) as st:
        frame = st.samples()
        assert st.get_meta("space_hash") == space.content_hash()
        assert st.get_meta("settings")["oracle"]["fn"] == f"{MODULE}:evaluate"
    assert frame["key"].is_unique and len(frame) == 40
    for key, a, lt in zip(frame["key"], frame["accuracy"], frame["latency_ms"]):
        assert {"accuracy": a, "latency_ms": lt} == _fns().evaluate(space.parse_key(key))
    assert set(frame["source"]) >= {"initial", "iqp"}


def test_solve_answers_the_enumeration_optimum_of_the_fitted_forms(calibrated, capsys):
    work, _, _ = calibrated
    space = iqnas.spaces.get(work / "space.json")
    acc = iqnas.QuadraticForm.load(work / "models" / "accuracy.json", space)
    lat = iqnas.QuadraticForm.load(work / "models" / "latency_ms.json", space)
    C = space.enumerate_choices()
    for budget in (2.0, 3.0, 4.0):
        ok = lat.evaluate(choices=C) <= budget
        values = np.where(ok, acc.evaluate(choices=C), -np.inf)
        order = np.argsort(-values, kind="stable")
        for solver in ("scip", "exhaustive"):
            code, out, err = _run(capsys, "solve", "--space", work / "space.json", "--objective",
                                  work / "models" / "accuracy.json", "--constraint",
                                  f"latency_ms={work / 'models' / 'latency_ms.json'}:{budget}",
                                  "--solver", solver, "--top-k", "3", "--format", "json")
            assert code == 0, err
            got = json.loads(out)
            assert [r["key"] for r in got] == [space.arch(C[i]).key for i in order[:3]]
            assert got[0]["objective"] == pytest.approx(values[order[0]], abs=1e-6)


def test_explain_main_effects_are_enumeration_means(calibrated, capsys):
    work, _, _ = calibrated
    space = iqnas.spaces.get(work / "space.json")
    form = iqnas.QuadraticForm.load(work / "models" / "accuracy.json", space)
    C = space.enumerate_choices()
    values, active = form.evaluate(choices=C), space.activity(C)
    code, out, err = _run(capsys, "explain", work / "models" / "accuracy.json", "--space",
                          work / "space.json", "--table", "main", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)["rows"]
    assert {(r["group"], r["option"]) for r in rows} == \
        {(g.name, o) for g in space.groups for o in g.options}
    for r in rows:
        gi = space.group_index(r["group"])
        takes = active[:, gi] & (C[:, gi] == space.option_index(gi, r["option"]))
        assert r["raw"] == pytest.approx(values[takes].mean(), abs=1e-9)
    # without --space the form names a space that is not built in: a one-line hint
    code, _, err = _run(capsys, "explain", work / "models" / "accuracy.json")
    assert code == 2 and "give its space file (--space FILE" in err


def test_sweep_points_are_enumeration_optima(calibrated, capsys):
    work, _, _ = calibrated
    space = iqnas.spaces.get(work / "space.json")
    acc = iqnas.QuadraticForm.load(work / "models" / "accuracy.json", space)
    lat = iqnas.QuadraticForm.load(work / "models" / "latency_ms.json", space)
    code, out, err = _run(capsys, "sweep", "--space", work / "space.json", "--objective",
                          work / "models" / "accuracy.json", "--constraint",
                          f"latency_ms={work / 'models' / 'latency_ms.json'}", "--resource",
                          "latency_ms", "--budgets", "0.5:5:10", "--format", "json", "-q")
    assert code == 0, err
    C = space.enumerate_choices()
    a, lt = acc.evaluate(choices=C), lat.evaluate(choices=C)
    points = json.loads(out)["points"]
    assert len(points) == 10
    for p in points:
        ok = lt <= p["budget"] * (1 + 1e-9)
        if not ok.any():
            assert not p["feasible"]
            continue
        best = int(np.argmax(np.where(ok, a, -np.inf)))
        assert p["feasible"] and p["key"] == space.arch(C[best]).key
        assert p["objective"] == pytest.approx(a[best], abs=1e-6)


def test_space_show_prints_groups_conditions_metadata_and_size(work, capsys):
    code, out, err = _run(capsys, "space", "show", work / "space.json", "--format", "json")
    assert code == 0, err
    shown = json.loads(out)
    space = iqnas.spaces.get(work / "space.json")
    assert shown["size"] == 60 and shown["content_hash"] == space.content_hash()
    assert shown["groups"][3]["active_if"] == {"group": "depth", "options": ["2", "3"]}
    assert shown["groups"][1]["units"] == "channels"
    assert iqnas.SearchSpace.from_dict({k: shown[k] for k in ("name", "description",
                                                              "groups")}).size == 60
    code, out, err = _run(capsys, "space", "show", work / "space.json")
    assert code == 0 and "depth in {2, 3}" in out and "3x3 kernel" in out and "60" in out
    code, out, _ = _run(capsys, "space", "show", "nb201")
    assert code == 0 and "15,625" in out
    code, out, _ = _run(capsys, "space", "save", work / "space.json", work / "copy.toml", "-q")
    assert code == 0
    assert iqnas.spaces.get(work / "copy.toml").to_dict() == space.to_dict()


def test_calibrate_with_torch_and_the_users_builder_measures_real_networks(work, capsys,
                                                                            one_torch_thread):
    import torch

    store = work / "torch.db"
    code, out, err = _run(capsys, "calibrate", "--space", work / "space.json", "--oracle",
                          "torch", "--builder", f"{MODULE}:build", "--input-shape", "1,3,8,8",
                          "--objective", "macs", "--constraint", "param_bytes=4000",
                          "--samples", "12", "--rounds", "1", "--store", store, "--format",
                          "json", "-q")
    assert code == 0, err
    space = iqnas.spaces.get(work / "space.json")
    with SampleStore(store, space) as st:
        frame = st.samples()
    trained = frame[frame["macs"].notna()]  # the rest: resource-only look-ups (param_bytes)
    assert 8 <= len(trained) <= 12 and set(frame.columns) >= {"macs", "param_bytes"}
    for key, pb in zip(frame["key"], frame["param_bytes"]):
        net = _fns().build(space.parse_key(key))
        assert pb == 4 * sum(p.numel() for p in net.parameters())
    best = json.loads(out)["best"]
    assert best["measured"]["param_bytes"] <= 4000
    feasible = trained[trained["param_bytes"] <= 4000]
    assert best["measured"]["macs"] == feasible["macs"].max()
    assert torch.get_num_threads() == 1


def _nb201_part(work, extra_op: str | None) -> Path:
    nb = iqnas.spaces.get("nb201")
    ops = ["none", "skip_connect", "nor_conv_3x3"] + ([extra_op] if extra_op else [])
    path = work / f"nb201_part_{extra_op}.json"
    path.write_text(json.dumps({"name": "nb201", "groups": [{"name": g.name, "options": ops}
                                                            for g in nb.groups]}))
    return path


def _space_file(work, name: str, data: dict) -> Path:
    path = work / name
    path.write_text(json.dumps(data))
    return path


BAD = {
    "unknown op for the builder": (
        lambda w: _space_file(w, "ops.json", {**SPACE, "groups": [
            *SPACE["groups"][:2], {"name": "k1", "options": ["3", "5", "7"]},
            *SPACE["groups"][3:]]}),
        ["--oracle", "torch", "--builder", f"{MODULE}:build", "--input-shape", "1,3,8,8",
         "--objective", "macs"],
        f"--builder '{MODULE}:build' cannot build option k1=7 of space 'toyconv'"),
    "unknown op of a built-in space": (
        lambda w: _nb201_part(w, "conv_7x7"), ["--oracle", "nb201", "--objective",
                                               "test_acc_c100"],
        "groups[0] ('e01').options[3]: unknown op 'conv_7x7' for the built-in space 'nb201'"),
    "a group with no options": (
        lambda w: _space_file(w, "empty.json", {**SPACE, "groups": [
            *SPACE["groups"][:4], {"name": "w3", "options": []}]}),
        ["--oracle", f"{MODULE}:evaluate", "--objective", "accuracy"],
        "groups[4] ('w3').options: group 'w3' has no options"),
    "a cycle in active_if": (
        lambda w: _space_file(w, "cycle.json", {**SPACE, "groups": [
            {**SPACE["groups"][0], "active_if": {"group": "w3", "options": ["8"]}},
            *SPACE["groups"][1:]]}),
        ["--oracle", f"{MODULE}:evaluate", "--objective", "accuracy"],
        "groups[0] ('depth').active_if: cycle depth -> w3 -> depth"),
    "a builder that raises": (
        lambda w: w / "space.json",
        ["--oracle", "torch", "--builder", f"{MODULE}:broken", "--input-shape", "1,3,8,8",
         "--objective", "macs"],
        f"--builder '{MODULE}:broken' failed on the first network of space 'toyconv' "
        "(depth=1;w1=8;k1=3): RuntimeError: the builder is broken"),
    "a builder that does not import": (
        lambda w: w / "space.json",
        ["--oracle", "torch", "--builder", "no_such_module_q:build", "--input-shape",
         "1,3,8,8", "--objective", "macs"],
        "builder 'no_such_module_q:build': module 'no_such_module_q' does not import"),
    "a function that does not import": (
        lambda w: w / "space.json", ["--oracle", "no_such_module_q:fn", "--objective", "acc"],
        "--oracle 'no_such_module_q:fn': module 'no_such_module_q' does not import"),
    "a scheduler that cannot be reached": (
        lambda w: w / "space.json",
        ["--oracle", f"{MODULE}:evaluate", "--objective", "accuracy", "--scheduler",
         "tcp://127.0.0.1:9"],
        "scheduler tcp://127.0.0.1:9: cannot reach a Dask scheduler there"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_exit_2_and_writes_nothing(case, work, capsys, one_torch_thread):
    make_space, extra, match = BAD[case]
    out_dir = work / "bad" / case.replace(" ", "_")
    store, models = out_dir / "runs" / "s.db", out_dir / "models"
    code, out, err = _run(capsys, "calibrate", "--space", make_space(work), *extra,
                          "--samples", "10", "--store", store, "--save-models", models)
    assert code == 2, err
    lines = [ln for ln in err.strip().splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and match in lines[0], err
    assert err.strip().splitlines()[-1] == lines[0]
    assert not out_dir.exists()


def test_measure_checks_every_option_of_a_users_builder(work, capsys, one_torch_thread):
    path = BAD["unknown op for the builder"][0](work)
    store = work / "never" / "m.db"
    code, _, err = _run(capsys, "measure", "--space", path, "--builder", f"{MODULE}:build",
                        "--input-shape", "1,3,8,8", "--samples", "2", "--store", store)
    assert code == 2 and "cannot build option k1=7" in err and "KeyError: '7'" in err
    assert not store.parent.exists()


def test_calibrate_on_an_embedded_dask_cluster_measures_the_serial_samples(work, capsys):
    pytest.importorskip("distributed")
    argv = ["calibrate", "--space", work / "space.json", "--oracle", f"{MODULE}:evaluate",
            "--metrics", "accuracy", "latency_ms", "--objective", "accuracy", "--constraint",
            "latency_ms=4", "--samples", "20", "--format", "json", "-q"]
    keys = {}
    for name, extra in (("serial", []), ("dask", ["--workers", "2"])):
        store = work / f"{name}.db"
        code, out, err = _run(capsys, *argv, "--store", store, *extra)
        assert code == 0, err
        with SampleStore(store, iqnas.spaces.get(work / "space.json")) as st:
            keys[name] = st.keys()
        assert len(set(keys[name])) == 20
    assert keys["dask"] == keys["serial"]          # the same samples in the same order
