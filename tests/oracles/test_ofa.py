"""OFA MobileNetV3 oracle: predictor encoding and values, Note10 LUT latency, the latency form."""

from __future__ import annotations

import importlib
import importlib.util
import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import iqnas
from iqnas.errors import InputError
from iqnas.spaces import ofa as ofa_space

# the module, even once iqnas.oracles binds the name ``ofa`` to the factory function
bench = importlib.import_module("iqnas.oracles.ofa")

RELEASED_PTH = Path("/work/shared/nas-data/ofa/han-cai-files/acc_predictor.pth")
MIXED_KEY = ("r176|s1:k5e4,k3e6|s2:k7e3,k3e3,k5e6|s3:k3e4,k7e4|s4:k3e3,k5e3,k3e6,k7e6"
             "|s5:k5e6,k3e4,k7e3")
# acc (%) from torch with the released state_dict, lat (ms) from OFA's walk over the raw YAML
# (printed by scripts/build_ofa_data.py)
REFERENCE = {
    "r160|s1:k3e3,k3e3|s2:k3e3,k3e3|s3:k3e3,k3e3|s4:k3e3,k3e3|s5:k3e3,k3e3":
        (75.311863422, 9.890346512),
    "r224|s1:k7e6,k7e6,k7e6,k7e6|s2:k7e6,k7e6,k7e6,k7e6|s3:k7e6,k7e6,k7e6,k7e6"
    "|s4:k7e6,k7e6,k7e6,k7e6|s5:k7e6,k7e6,k7e6,k7e6": (83.592778444, 92.398037995),
    "r192|s1:k5e4,k3e6,k7e3|s2:k3e3,k5e6|s3:k7e4,k7e6,k3e3,k5e4|s4:k5e3,k3e4,k7e6"
    "|s5:k3e6,k5e6,k7e4,k3e3": (80.999070406, 31.456849523),
    MIXED_KEY: (79.379540682, 23.883411194),
}
# MIXED_KEY's layers in note10/176_lookup_table.yaml, with their means (ms), read by hand
MIXED_LAYERS = [
    ("Conv-input:176x176x3-output:88x88x24", 0.604792),
    ("expanded_conv-input:88x88x24-output:88x88x24-expand:24-kernel:3-stride:1-idskip:1-se:0"
     "-hs:0", 1.0390819999999998),
    # s1: k5e4, k3e6
    ("expanded_conv-input:88x88x24-output:44x44x32-expand:96-kernel:5-stride:2-idskip:0-se:0"
     "-hs:0", 2.5656153846153846),
    ("expanded_conv-input:44x44x32-output:44x44x32-expand:192-kernel:3-stride:1-idskip:1-se:0"
     "-hs:0", 2.2619894736842103),
    # s2: k7e3, k3e3, k5e6
    ("expanded_conv-input:44x44x32-output:22x22x48-expand:96-kernel:7-stride:2-idskip:0-se:1"
     "-hs:0", 1.047314814814815),
    ("expanded_conv-input:22x22x48-output:22x22x48-expand:144-kernel:3-stride:1-idskip:1-se:1"
     "-hs:0", 0.652030612244898),
    ("expanded_conv-input:22x22x48-output:22x22x48-expand:288-kernel:5-stride:1-idskip:1-se:1"
     "-hs:0", 1.7567636363636365),
    # s3: k3e4, k7e4
    ("expanded_conv-input:22x22x48-output:11x11x96-expand:192-kernel:3-stride:2-idskip:0-se:0"
     "-hs:1", 0.6142954545454545),
    ("expanded_conv-input:11x11x96-output:11x11x96-expand:384-kernel:7-stride:1-idskip:1-se:0"
     "-hs:1", 1.0386923076923076),
    # s4 (stride 1): k3e3, k5e3, k3e6, k7e6
    ("expanded_conv-input:11x11x96-output:11x11x136-expand:288-kernel:3-stride:1-idskip:0-se:1"
     "-hs:1", 0.6640192307692308),
    ("expanded_conv-input:11x11x136-output:11x11x136-expand:408-kernel:5-stride:1-idskip:1-se:1"
     "-hs:1", 1.192656862745098),
    ("expanded_conv-input:11x11x136-output:11x11x136-expand:816-kernel:3-stride:1-idskip:1-se:1"
     "-hs:1", 2.1548349514563108),
    ("expanded_conv-input:11x11x136-output:11x11x136-expand:816-kernel:7-stride:1-idskip:1-se:1"
     "-hs:1", 2.8265192307692306),
    # s5: k5e6, k3e4, k7e3
    ("expanded_conv-input:11x11x136-output:6x6x192-expand:816-kernel:5-stride:2-idskip:0-se:1"
     "-hs:1", 1.626904761904762),
    ("expanded_conv-input:6x6x192-output:6x6x192-expand:768-kernel:3-stride:1-idskip:1-se:1"
     "-hs:1", 1.032020618556701),
    ("expanded_conv-input:6x6x192-output:6x6x192-expand:576-kernel:7-stride:1-idskip:1-se:1"
     "-hs:1", 0.8455462962962963),
    ("Conv_1-input:6x6x192-output:6x6x1152", 0.5324300000000001),
    ("AvgPool2D-input:6x6x1152-output:1x1x1152", 0.011481557377049183),
    ("Conv_2-input:1x1x1152-output:1x1x1536", 0.754282),
    ("Logits-input:1x1x1536-output:1000", 0.6621400000000001),
]


@pytest.fixture(scope="module")
def oracle():
    return bench.ofa()


@pytest.fixture(scope="module")
def sample(oracle):
    return oracle.space.sample_choices(np.random.default_rng(7), 300)


def spec_features(spec: dict) -> np.ndarray:
    """OFA's tutorial predictor input, restated from its description (see DATA.md)."""
    f = np.zeros(128)
    for i in range(20):
        if i % 4 < spec["d"][i // 4]:
            f[3 * i + (3, 5, 7).index(spec["ks"][i])] = 1
            f[60 + 3 * i + (3, 4, 6).index(spec["e"][i])] = 1
    f[120 + (spec["r"][0] - 112) // 16] = 1
    return f


def test_interface(oracle):
    assert isinstance(oracle, iqnas.oracles.Oracle)
    assert oracle.space is bench.get_space()
    assert oracle.metrics == ["acc_ofa_pred", "lat_note10_ms"]
    assert oracle.units == {"acc_ofa_pred": "%", "lat_note10_ms": "ms"}


@pytest.mark.parametrize("key", list(REFERENCE))
def test_reference_values(oracle, key):
    acc, lat = REFERENCE[key]
    got = oracle.measure(key)
    assert got["acc_ofa_pred"] == pytest.approx(acc, abs=1e-4)
    assert got["lat_note10_ms"] == pytest.approx(lat, abs=1e-9)


def test_features_follow_ofa_encoding(oracle, sample):
    space = oracle.space
    X = oracle.predictor_features(sample)
    expect = np.stack([spec_features(ofa_space.to_ofa_spec(space.arch(row))) for row in sample])
    np.testing.assert_array_equal(X, expect)
    assert set(np.unique(X.sum(axis=1))) <= {float(2 * n + 1) for n in range(10, 21)}


def test_numpy_matches_torch(oracle, sample):
    torch = pytest.importorskip("torch")
    layers = bench.load_predictor()
    model = torch.nn.Sequential(torch.nn.Linear(128, 400), torch.nn.ReLU(),
                                torch.nn.Linear(400, 400), torch.nn.ReLU(),
                                torch.nn.Linear(400, 400), torch.nn.ReLU(),
                                torch.nn.Linear(400, 1))
    with torch.no_grad():
        for lin, (w, b) in zip(model[::2], layers):
            lin.weight.copy_(torch.tensor(w, dtype=torch.float32))
            lin.bias.copy_(torch.tensor(b, dtype=torch.float32))
        X = oracle.predictor_features(sample)
        ref = model(torch.tensor(X, dtype=torch.float32)).numpy()[:, 0]
    got = oracle.accuracy_choices(sample) / 100.0
    assert np.abs(got - ref).max() < 1e-5
    assert 0.7 < got.min() and got.max() < 0.9


def test_npz_matches_released_predictor():
    torch = pytest.importorskip("torch")
    if not RELEASED_PTH.exists():
        pytest.skip("released acc_predictor.pth not available")
    sd = torch.load(RELEASED_PTH, map_location="cpu", weights_only=True)
    for i, (w, b) in enumerate(bench.load_predictor()):
        np.testing.assert_array_equal(w, sd[f"{2 * i}.weight"].numpy())
        np.testing.assert_array_equal(b, sd[f"{2 * i}.bias"].numpy())


def test_latency_is_the_hand_sum_of_lut_entries(oracle):
    lut = bench.load_lut()[176]
    for key, mean in MIXED_LAYERS:
        assert lut[key] == mean
    assert oracle.measure(MIXED_KEY)["lat_note10_ms"] == pytest.approx(
        sum(m for _, m in MIXED_LAYERS), abs=1e-12)


def test_lut_file_has_every_resolution_and_no_extra_layers():
    text = resources.files("iqnas").joinpath("data", bench.LUT_FILE).read_text()
    doc = json.loads(text)
    assert doc["units"] == "ms"
    assert sorted(doc["tables"]) == list(ofa_space.RESOLUTIONS)
    for r, table in doc["tables"].items():
        fixed, blocks = bench.network_layers(int(r))
        used = set(fixed) | {k for grid in blocks for row in grid for k in row}
        assert used == set(table)


def test_measure_many_matches_measure(oracle, sample):
    archs = [oracle.space.arch(row) for row in sample[:20]]
    df = oracle.measure_many(archs)
    assert list(df.columns) == oracle.metrics
    assert list(df.index) == [a.key for a in archs]
    for a in archs[:5]:
        row = oracle.measure(a)
        assert df.loc[a.key, "acc_ofa_pred"] == pytest.approx(row["acc_ofa_pred"], abs=1e-9)
        assert df.loc[a.key, "lat_note10_ms"] == pytest.approx(row["lat_note10_ms"], abs=1e-12)
    vals = oracle.measure_choices(sample[:20])
    np.testing.assert_allclose(vals["lat_note10_ms"], df["lat_note10_ms"].to_numpy(), atol=1e-12)


@pytest.mark.parametrize("resolution", ofa_space.RESOLUTIONS)
def test_latency_form_equals_oracle(oracle, resolution):
    C = oracle.space.sample_choices(np.random.default_rng(int(resolution)), 200)
    C[:, oracle.space.group_index("res")] = ofa_space.RESOLUTIONS.index(resolution)
    form = bench.ofa_latency_form(int(resolution))
    assert form.units == "ms" and form.name == "lat_note10_ms"
    np.testing.assert_allclose(form.evaluate(choices=C), oracle.latency_choices(C), rtol=0,
                               atol=1e-9)
    X = oracle.space.choices_to_onehot(C[:20])
    np.testing.assert_allclose(form.evaluate(X), oracle.latency_choices(C[:20]), rtol=0,
                               atol=1e-9)
    # only kernel x expansion products of one block are pairwise
    for gi, gj in form.group_pairs():
        a, b = oracle.space.groups[gi].name, oracle.space.groups[gj].name
        assert a.endswith(".k") and b == a[:-1] + "e"


def test_resolution_constraint(oracle, sample):
    con = bench.resolution_constraint(208)
    X = oracle.space.choices_to_onehot(sample)
    at_208 = sample[:, oracle.space.group_index("res")] == ofa_space.RESOLUTIONS.index("208")
    assert at_208.any() and not at_208.all()
    assert [con.holds(x) for x in X] == at_208.tolist()


def test_solve_under_latency_budget(oracle):
    space = oracle.space
    rng = np.random.default_rng(3)
    objective = iqnas.QuadraticForm(space, linear=rng.normal(size=space.n_vars))
    problem = iqnas.Problem(space, objective=objective,
                            constraints={"lat": (bench.ofa_latency_form(192), 25.0)},
                            linear_constraints=[bench.resolution_constraint(192)])
    result = iqnas.solve(problem, solver="scip", time_limit=60)
    assert result.status.has_solution
    arch = result.architecture
    assert arch["res"] == "192"
    lat = oracle.measure(arch)["lat_note10_ms"]
    assert lat == pytest.approx(result.resources["lat"], abs=1e-9)
    assert lat <= 25.0 + 1e-9


def test_bad_input(oracle):
    with pytest.raises(InputError, match="resolution 128"):
        bench.ofa_latency_form(128)
    with pytest.raises(InputError, match="array"):
        oracle.measure_choices(np.zeros((3, 5), dtype=int))
    C = np.zeros((2, oracle.space.n_groups), dtype=int)
    C[1, -1] = 5
    with pytest.raises(InputError, match="'res'"):
        oracle.measure_choices(C)
    with pytest.raises(InputError):
        oracle.measure("r224|s1:k3e3")


def _build_script():
    path = Path(__file__).resolve().parents[2] / "scripts" / "build_ofa_data.py"
    spec = importlib.util.spec_from_file_location("build_ofa_data", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.skipif(not RELEASED_PTH.exists(), reason="nas-data's OFA files are not available")
def test_rebuild_reproduces_shipped_files_byte_for_byte(tmp_path):
    pytest.importorskip("torch")
    build = _build_script()
    build.check_sources(RELEASED_PTH.parent)
    build.extract_predictor(RELEASED_PTH.parent, tmp_path)
    build.write_lut(RELEASED_PTH.parent, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(build.OUTPUTS)
    assert build.same_as_shipped(tmp_path) == []


@pytest.mark.skipif(not RELEASED_PTH.exists(), reason="nas-data's OFA files are not available")
def test_rebuild_refuses_unknown_inputs(tmp_path):
    build = _build_script()
    src = tmp_path / "src"
    (src / "note10").mkdir(parents=True)
    for rel in build.SOURCE_SHA256:
        (src / rel).write_bytes((RELEASED_PTH.parent / rel).read_bytes())
    build.check_sources(src)
    with open(src / "note10" / "192_lookup_table.yaml", "a") as fh:
        fh.write("\n")
    with pytest.raises(SystemExit, match="192_lookup_table.yaml: sha256"):
        build.check_sources(src)
