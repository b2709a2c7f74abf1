"""``iqnas measure``, ``iqnas lut`` and ``iqnas export``: output against the store / the
measured table / onnxruntime, and bad input as one-line errors with exit code 2 and nothing
written."""

from __future__ import annotations

import json

import numpy as np
import pytest

import iqnas
from iqnas.calibration.samplers import UniformSampler
from iqnas.calibration.store import SampleStore
from iqnas.cli import main
from iqnas.network_export import read_arch_json

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SPACE = iqnas.spaces.get("nb201")
FAST = ["--warmup", "1", "--repeats", "5"]
METRICS = ["latency_ms", "latency_ms_spread", "latency_ms_cpu", "param_bytes",
           "peak_activation_bytes", "macs"]


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_measure_json_rows_are_the_stored_samples_and_a_rerun_resumes(tmp_path, capsys):
    store = tmp_path / "runs" / "m.db"
    argv = ["measure", "--space", "nb201", "--input-shape", "1,3,8,8", "--samples", "4",
            "--seed", "2", "--store", store, *FAST, "--format", "json"]
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    rows = json.loads(out)
    keys = [a.key for a in UniformSampler().sample(SPACE, 4, 2)]
    assert [r["key"] for r in rows] == keys
    assert all(set(r) == {"key", *METRICS} for r in rows)
    with SampleStore(store, SPACE) as st:
        for r in rows:
            assert st.get(r["key"]) == {m: r[m] for m in METRICS}
        assert st.units["param_bytes"] == "B"
    code, out, err = _run(capsys, *argv[:-2], "--format", "table")
    assert code == 0 and "0 measured, 4 already in the store" in err
    assert keys[0][:40] in out


def test_measure_a_subset_with_a_user_builder(tmp_path, capsys):
    import measure_helpers as mh

    code, out, err = _run(capsys, "measure", "--space", "nb201", "--builder",
                          "measure_helpers:tiny_net", "--input-shape", "1,3,8,8", "--samples",
                          "2", "--store", tmp_path / "t.db", "--metrics", "macs", "param_bytes",
                          "--format", "json")
    assert code == 0, err
    assert [{k: r[k] for k in ("macs", "param_bytes")} for r in json.loads(out)] == \
        [{"macs": mh.TINY_MACS, "param_bytes": 4 * mh.TINY_PARAMS}] * 2


@pytest.mark.parametrize("extra, match", [
    (["--input-shape", "1,3,x"], "--input-shape '1,3,x': expected comma-separated"),
    (["--input-shape", "1,5,8,8"], "input_shape 1,5,8,8 does not fit the network"),
    (["--builder", "no_such_module_q:build"], "builder 'no_such_module_q:build': module"),
    (["--builder", "measure_helpers:raising_builder"], "this builder always fails"),
    (["--scheduler", "tcp://127.0.0.1:9"], "scheduler tcp://127.0.0.1:9: cannot reach"),
    (["--samples", "0"], "--samples must be >= 1"),
    (["--metrics", "latency"], "unknown metric 'latency'"),
])
def test_measure_bad_input_is_one_line_exit_2_and_creates_no_store(extra, match, tmp_path,
                                                                    capsys):
    store = tmp_path / "sub" / "never.db"
    argv = {"--space": "nb201", "--input-shape": "1,3,8,8", "--samples": "2",
            "--store": str(store)}
    for flag, value in zip(extra[::2], extra[1::2]):
        argv[flag] = value
    code, out, err = _run(capsys, "measure", *[x for kv in argv.items() for x in kv])
    assert code == 2 and match in err
    assert err.strip().count("\n") == 0, err
    assert not store.exists() and not store.parent.exists()


def test_lut_form_is_the_constant_plus_the_active_blocks(tmp_path, capsys):
    out_file = tmp_path / "lut.json"
    code, out, err = _run(capsys, "lut", "--space", "mobilenet", "--input-shape", "1,3,32,32",
                          "--warmup", "0", "--repeats", "3", "--out", out_file,
                          "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    space = iqnas.spaces.get("mobilenet")
    form = iqnas.QuadraticForm.load(out_file, space)
    table = {(b["stage"], b["block"], b["option"]): b["latency_ms"] for b in data["blocks"]}
    assert len(table) == 5 * 4 * 12 and form.units == "ms"
    assert all(v > 0 for v in table.values()) and data["constant_ms"] > 0
    for arch in space.sample(0, n=20):
        act = arch.active()
        expected = data["constant_ms"] + sum(
            table[(s, b, act[f"s{s}.b{b}"])] for s in range(1, 6)
            for b in range(1, int(act[f"s{s}.depth"]) + 1))
        assert form(arch) == pytest.approx(expected, rel=1e-12)
    assert not form.is_linear  # blocks 3 and 4 are products with the depth


def test_lut_refuses_other_spaces_and_bad_out(capsys, tmp_path):
    assert _run(capsys, "lut", "--space", "nb201")[0] == 2
    code, _, err = _run(capsys, "lut", "--space", "mobilenet", "--out", tmp_path / "lut.csv")
    assert code == 2 and "--out" in err and not (tmp_path / "lut.csv").exists()


def test_export_onnx_matches_the_torch_export_program_and_arch_json_round_trips(tmp_path,
                                                                                capsys):
    import onnxruntime as ort
    import torch

    arch = SPACE.sample(9)
    form = iqnas.QuadraticForm(SPACE, 1.5, np.arange(SPACE.n_vars, dtype=float), units="ms")
    form_path = form.save(tmp_path / "lat.json")
    store = tmp_path / "s.db"
    with SampleStore(store, SPACE) as st:
        st.add(arch, {"latency_ms": 2.25})
    out = tmp_path / "ship"
    code, stdout, err = _run(capsys, "export", "--space", "nb201", "--arch", arch.key, "--out",
                             out, "--onnx", "--input-shape", "2,3,16,16", "--seed", "3",
                             "--store", store, "--model", f"latency_ms={form_path}",
                             "--format", "json")
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["arch.json", "model.onnx", "model.pt2"]
    record = json.loads((out / "arch.json").read_text())
    assert record["predicted"] == {"latency_ms": {"value": form(arch), "units": "ms"}}
    assert record["measured"] == {"latency_ms": {"value": 2.25, "units": ""}}
    assert read_arch_json(out, SPACE) == arch and json.loads(stdout)["key"] == arch.key
    program = torch.export.load(str(out / "model.pt2"))
    x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    expected = program.module()(x).detach().numpy()
    sess = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]
    assert got.shape == (2, 10) and np.abs(got - expected).max() < 1e-4
    # the same seed gives the same weights
    again = tmp_path / "again"
    assert _run(capsys, "export", "--space", "nb201", "--arch", arch.key, "--out", again,
                "--input-shape", "2,3,16,16", "--seed", "3")[0] == 0
    other = torch.export.load(str(again / "model.pt2")).module()(x).detach().numpy()
    assert np.array_equal(other, expected)


def test_export_refuses_a_non_empty_dir_unless_forced(tmp_path, capsys):
    arch = SPACE.sample(1)
    out = tmp_path / "ship"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, err = _run(capsys, "export", "--space", "nb201", "--arch", arch.key, "--out", out)
    assert code == 2 and "not empty" in err and "--force" in err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    code, _, err = _run(capsys, "export", "--space", "nb201", "--arch", arch.key, "--out", out,
                        "--builder", "measure_helpers:raising_builder", "--force")
    assert code == 2 and "always fails" in err and [p.name for p in out.iterdir()] == ["keep.txt"]
    assert _run(capsys, "export", "--space", "nb201", "--arch", arch.key, "--out", out,
                "--force")[0] == 0
    assert sorted(p.name for p in out.iterdir()) == ["arch.json", "model.pt2"]
    assert [p.name for p in tmp_path.iterdir()] == ["ship"]  # no temporary left behind


def test_arch_json_refuses_another_space(tmp_path, capsys):
    arch = SPACE.sample(1)
    out = tmp_path / "ship"
    assert _run(capsys, "export", "--space", "nb201", "--arch", arch.key, "--out", out)[0] == 0
    record = json.loads((out / "arch.json").read_text())
    record["space_hash"] = "sha256:0"
    (out / "arch.json").write_text(json.dumps(record))
    with pytest.raises(iqnas.InputError, match="field 'space_hash' does not match"):
        read_arch_json(out / "arch.json", SPACE)
