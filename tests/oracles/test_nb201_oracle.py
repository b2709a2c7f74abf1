"""The embedded NB201 table oracle against values read by hand from nb201_joined.csv."""

from __future__ import annotations

import gzip
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import iqnas
from iqnas import oracles
from iqnas.oracles.nb201 import NB201Oracle, metric_unit

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO.parent / "shared" / "nas-data"
BEST_C100 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
# rows of /work/shared/nas-data/nb201/nb201_joined.csv, copied by hand (index 0, 9930, 15624)
HAND = {
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|": {
        "index": 0, "test_acc_c10": 85.8633, "test_acc_c100": 52.9133, "test_acc_in16": 26.6333,
        "params_M_c100": 0.135156, "c10valid_valid_acc": 81.9827, "naslib_val_acc_c100": 53.68,
        "help_lat_fpga": 2.57296, "help_lat_pixel2": 9.0,
        "latbench_ms_desktop-gpu-gtx-1080ti-fp32": 3.88854,
        "hw360_energy_mj_pi5_onnx_c100": 2.63151},
    BEST_C100: {
        "index": 9930, "test_acc_c10": 94.3633, "test_acc_c100": 73.5133, "test_acc_in16": 46.3444,
        "params_M_c100": 1.29436, "c10valid_valid_acc": 91.5533, "naslib_val_acc_c100": 73.18,
        "help_lat_fpga": 7.42096, "help_lat_pixel2": 34.0,
        "latbench_ms_desktop-gpu-gtx-1080ti-fp32": 8.76832,
        "hw360_energy_mj_pi5_onnx_c100": 22.8695},
    "|nor_conv_1x1~0|+|none~0|nor_conv_1x1~1|+|none~0|nor_conv_1x1~1|nor_conv_1x1~2|": {
        "index": 15624, "test_acc_c10": 86.8233, "test_acc_c100": 55.22, "test_acc_in16": 21.4111,
        "params_M_c100": 0.191156, "c10valid_valid_acc": 84.1907, "naslib_val_acc_c100": 55.48,
        "help_lat_fpga": 3.19376, "help_lat_pixel2": 7.0,
        "latbench_ms_desktop-gpu-gtx-1080ti-fp32": 3.29543,
        "hw360_energy_mj_pi5_onnx_c100": 3.21005},
}


@pytest.fixture(scope="module")
def oracle() -> NB201Oracle:
    return oracles.nb201("cifar100")


def test_hand_checked_rows(oracle: NB201Oracle) -> None:
    for key, expected in HAND.items():
        got = oracle.measure(key)
        assert oracle.nb201_index(key) == expected["index"]
        for name, value in expected.items():
            if name != "index":
                assert got[name] == value, (key, name)
    # all-none cell: HELP has it, LatBench does not (no path from input to output)
    m = oracle.measure(ALL_NONE)
    assert m["test_acc_c100"] == 1.0 and m["help_lat_fpga"] == 1.13296
    assert math.isnan(m["latbench_ms_desktop-gpu-gtx-1080ti-fp32"])


def test_best_architectures_and_metric_set(oracle: NB201Oracle) -> None:
    t = oracle.table()
    assert t.shape == (15625, 74) and t.index.name == "key" and t.index.is_unique
    assert t["test_acc_c100"].idxmax() == BEST_C100 and t["test_acc_c100"].max() == 73.5133
    assert t["test_acc_c10"].max() == 94.3733 and t["test_acc_in16"].max() == 47.3111
    assert t["c10valid_valid_acc"].max() == 91.6067
    for name in ("test_acc_c10", "test_acc_c100", "test_acc_in16", "c10valid_valid_acc",
                 "naslib_val_acc_in16", "params_M_c10", "synflow_c100", "naswot_in16",
                 "zen_c10", "help_lat_fpga", "help_lat_titanxp_256", "help_lat_samsung_s7",
                 "latbench_ms_embeeded-tpu-edgetpu-int8", "hw360_lat_ms_pixel_litert_c100",
                 "hw360_energy_mj_pi5_torchmobile_c100"):
        assert name in oracle.metrics
    assert sum(m.startswith("help_lat_") for m in oracle.metrics) == 27
    assert sum(m.startswith("latbench_ms_") for m in oracle.metrics) == 14
    assert sum(m.startswith("hw360_") for m in oracle.metrics) == 7


def test_params_are_millions_for_every_dataset(oracle: NB201Oracle) -> None:
    # only the classifier differs: 64 * (classes) + classes parameters
    t = oracle.table()
    np.testing.assert_allclose(t.params_M_c100 - t.params_M_c10, 64 * 90 / 1e6 + 90 / 1e6,
                               atol=1e-6)
    np.testing.assert_allclose(t.params_M_in16 - t.params_M_c100, 64 * 20 / 1e6 + 20 / 1e6,
                               atol=1e-5)


def test_units(oracle: NB201Oracle) -> None:
    u = oracle.units
    assert set(u) == set(oracle.metrics)
    assert u["test_acc_c100"] == "%" and u["naslib_val_acc_c10"] == "%"
    assert u["params_M_in16"] == "M params" and u["c10valid_train_time_s"] == "s"
    assert u["help_lat_fpga"] == "ms" and u["latbench_ms_embedded-gpu-jetson-nono-fp16"] == "ms"
    assert u["hw360_energy_mj_pi5_onnx_c100"] == "mJ" and u["hw360_lat_ms_pi5_onnx_c100"] == "ms"
    assert u["synflow_c10"] == "" and oracle.unit("zen_in16") == ""
    with pytest.raises(iqnas.InputError):
        metric_unit("mystery_column")


def test_latbench_nan_exactly_on_disconnected_cells(oracle: NB201Oracle) -> None:
    # ground truth: a cell is disconnected when no chain of non-'none' edges links node 0 to 3
    edges = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))  # e01 e02 e12 e03 e13 e23
    disconnected = []
    for choices in oracle.choices:
        reach = {0}
        for (src, dst), op in zip(edges, choices):
            if op != 0 and src in reach:
                reach.add(dst)
        disconnected.append(3 not in reach)
    disconnected = np.array(disconnected)
    assert disconnected.sum() == 341
    t = oracle.table()
    nan = t["latbench_ms_desktop-gpu-gtx-1080ti-fp32"].isna().to_numpy()
    assert np.array_equal(nan, disconnected)
    assert t.filter(like="help_lat_").notna().all().all()
    assert t.filter(like="latbench_ms_").isna().sum().min() == 341
    assert np.array_equal(t["zen_c100"].to_numpy() == -1e8, disconnected)
    assert t.loc[disconnected, "test_acc_c10"].max() == 10.0


def test_measure_many_all_cells(oracle: NB201Oracle) -> None:
    space = oracle.space
    archs = space.enumerate()
    keys = [a.key for a in archs]
    t = oracle.table()
    by_arch = oracle.measure_many(archs)
    assert list(by_arch.index) == keys  # format_key of the space == the table's arch_str
    np.testing.assert_array_equal(by_arch.to_numpy(), t.loc[keys].to_numpy())
    assert oracle.measure_many(keys).equals(by_arch)
    assert oracle.measure_many(space.enumerate_choices()).equals(by_arch)
    # every table key parses back to the choices stored for its row
    parsed = np.array([space.parse_key(k).choices for k in t.index])
    np.testing.assert_array_equal(parsed, oracle.choices)
    # measure and values agree with measure_many on a sample
    for a in space.sample(1, n=20):
        row = by_arch.loc[a.key]
        assert oracle.measure(a) == pytest.approx(row.to_dict(), nan_ok=True)
    np.testing.assert_array_equal(oracle.values(archs[:50], "help_lat_fpga"),
                                  by_arch["help_lat_fpga"].to_numpy()[:50])


def test_dataset_and_metric_selection() -> None:
    assert oracles.nb201("cifar10").accuracy_metric == "test_acc_c10"
    assert oracles.nb201().accuracy_metric == "test_acc_c100"
    o = oracles.nb201("ImageNet16-120")
    assert o.accuracy_metric == "test_acc_in16" and o.params_metric == "params_M_in16"
    assert oracles.nb201("in16").accuracy_metric == "test_acc_in16"
    assert oracles.nb201("CIFAR10").accuracy_metric == "test_acc_c10"
    with pytest.raises(iqnas.InputError, match="cifar10, cifar100, ImageNet16-120"):
        oracles.nb201("imagenet1k")
    small = oracles.nb201(metrics=["help_lat_fpga", "test_acc_c100"])
    assert small.metrics == ["help_lat_fpga", "test_acc_c100"]
    assert small.measure(BEST_C100) == {"help_lat_fpga": 7.42096, "test_acc_c100": 73.5133}
    assert list(small.table().columns) == small.metrics
    with pytest.raises(iqnas.InputError, match="help_lat_fpga"):
        oracles.nb201(metrics=["help_lat_fgpa"])


def test_bad_architectures_are_refused(oracle: NB201Oracle) -> None:
    with pytest.raises(iqnas.InputError, match="unknown op"):
        oracle.measure("|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(iqnas.InputError, match="edge"):
        oracle.measure("|none~0|+|none~0|+|none~0|none~1|none~2|")
    with pytest.raises(iqnas.InputError):
        oracle.rows(np.array([[0, 0, 0, 0, 0, 5]]))
    with pytest.raises(iqnas.InputError):
        oracle.measure_many(BEST_C100)


def test_import_is_lazy() -> None:
    code = ("import sys, iqnas, iqnas.oracles as b\n"
            "m = sys.modules['iqnas.oracles.nb201']\n"
            "assert m._TABLE is None\n"
            "b.nb201(); assert m._TABLE is not None\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


@pytest.mark.skipif(not (SOURCE / "nb201" / "nb201_joined.csv").is_file(),
                    reason="nas-data is not beside the repository")
def test_rebuild_script_reproduces_shipped_file(tmp_path: Path) -> None:
    out = tmp_path / "nb201.csv.gz"
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_nb201_data.py"), str(SOURCE),
                    "--out", str(out)], check=True, capture_output=True)
    shipped = REPO / "iqnas" / "data" / "nb201.csv.gz"
    assert shipped.stat().st_size <= 8 * 1024 * 1024
    assert gzip.decompress(out.read_bytes()) == gzip.decompress(shipped.read_bytes())
