"""NB201 torch builder: forward shapes, cell wiring, and parameter counts against the benchmark."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import iqnas  # noqa: E402
from iqnas.builders import build  # noqa: E402
from iqnas.builders.nb201 import Cell  # noqa: E402
from iqnas.errors import InputError  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROOT = Path(__file__).resolve().parents[2]
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
ALL_CONV3 = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
             "nor_conv_3x3~2|")


def n_params(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def sig6(x: float) -> float:
    return float(f"{x:.6g}")


def test_import_iqnas_does_not_import_torch():
    code = ("import sys, iqnas, iqnas.builders, iqnas.calibration.proxies; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize("dataset,classes,side", [("cifar10", 10, 32), ("c100", 100, 32),
                                                   ("ImageNet16-120", 120, 16)])
def test_forward_shape(dataset, classes, side):
    space = iqnas.spaces.get("nb201")
    for arch in [space.sample(3), space.parse_key(ALL_NONE)]:
        net = build(space, arch, dataset=dataset)
        assert net.input_shape == (3, side, side)
        out = net(torch.randn(2, 3, side, side))
        assert out.shape == (2, classes)
        assert torch.isfinite(out).all()
    assert build("nb201", ALL_NONE, num_classes=7).classifier.out_features == 7


def test_cell_computes_node_sums():
    # node1 = x, node2 = none(x) + skip(node1) = x, node3 = pool(x) + skip(node1) + none(node2)
    cell = Cell(["skip_connect", "none", "skip_connect", "avg_pool_3x3", "skip_connect", "none"], 4)
    x = torch.randn(2, 4, 6, 6)
    pool = torch.nn.functional.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
    torch.testing.assert_close(cell(x), pool + x)
    # with convs: node3 = c03(x) + c13(node1) + c23(node2), node2 = c02(x) + c12(node1)
    cell = Cell(["nor_conv_3x3", "nor_conv_1x1", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3",
                 "nor_conv_3x3"], 4).eval()
    op = cell.ops
    with torch.no_grad():
        n1 = op[0](x)
        n2 = op[1](x) + op[2](n1)
        n3 = op[3](x) + op[4](n1) + op[5](n2)
        torch.testing.assert_close(cell(x), n3)


def test_macro_skeleton():
    net = build("nb201", ALL_CONV3)
    assert len(net.cells) == 17  # 5 cells, reduction, 5 cells, reduction, 5 cells
    red = net.cells[5]
    assert (red.conv_a[1].stride, red.conv_a[1].in_channels, red.conv_a[1].out_channels) == \
        ((2, 2), 16, 32)
    # every edge conv: ReLU -> Conv (no bias) -> affine BN
    conv = net.cells[0].ops[0]
    assert isinstance(conv[0], torch.nn.ReLU) and conv[1].bias is None and conv[2].affine
    x = torch.randn(1, 3, 32, 32)
    assert net.cells[:6](net.stem(x)).shape == (1, 32, 16, 16)
    assert net.cells(net.stem(x)).shape == (1, 64, 8, 8)


def test_param_counts_equal_benchmark():
    """Against the params columns of the table shipped in the package (the same values as
    ../shared/nas-data's nb201_joined.csv; its ImageNet16-120 column is a raw count, converted
    to millions in the shipped copy)."""
    space = iqnas.spaces.get("nb201")
    df = iqnas.oracles.nb201("cifar10").table()[["params_M_c10", "params_M_c100",
                                                     "params_M_in16"]]
    rng = np.random.default_rng(0)
    keys = list(df.index[rng.choice(len(df), 200, replace=False)]) + [ALL_NONE, ALL_CONV3]
    checked = 0
    with torch.device("meta"):  # skip weight initialisation: only shapes matter here
        for i, key in enumerate(keys):
            arch = space.parse_key(key)
            assert sig6(n_params(build(space, arch)) / 1e6) == df.at[key, "params_M_c10"], key
            if i % 5 == 0 or i >= 200:
                assert sig6(n_params(build(space, arch, dataset="c100")) / 1e6) == \
                    df.at[key, "params_M_c100"], key
                assert n_params(build(space, arch, dataset="in16")) == \
                    round(df.at[key, "params_M_in16"] * 1e6), key
                checked += 1
    assert checked == 42
    assert df.at[ALL_NONE, "params_M_c10"] < df.at[ALL_CONV3, "params_M_c10"]


def test_bad_input():
    with pytest.raises(InputError, match="dataset"):
        build("nb201", ALL_NONE, dataset="mnist")
    with pytest.raises(InputError, match="option"):
        build("nb201", ALL_NONE, width=3)
    with pytest.raises(InputError):
        build("nb201", "|bogus~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    custom = iqnas.SearchSpace("toy", [iqnas.Group("a", ("x", "y"))])
    with pytest.raises(InputError, match="no network builder"):
        build(custom, [0])
