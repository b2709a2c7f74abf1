"""Coefficient heatmaps and depth charts: valid PNG/SVG files of the requested size."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from image_files import png_size, svg_size

import iqnas
from iqnas.errors import InputError
from iqnas.interpret import explain
from iqnas.plots.coefficients import coefficient_heatmap, depth_chart

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def nb201_form():
    space = iqnas.spaces.get("nb201")
    rng = np.random.default_rng(0)
    return iqnas.QuadraticForm(space, 50.0, rng.normal(size=30), rng.normal(size=(30, 30)),
                               name="acc", units="%")


@pytest.fixture(scope="module")
def depth_form():
    """Mobilenet form where adding block b of stage s pays s * b (bilinear with the depth)."""
    space = iqnas.spaces.get("mobilenet")
    n = space.n_vars
    lin = np.zeros(n)
    for s in range(1, 6):
        lin[space.var_index(f"s{s}.depth", "3")] = 3 * s
        lin[space.var_index(f"s{s}.depth", "4")] = 7 * s
        lin[space.var_index(f"s{s}.b1", "e6_k5_se")] = s
    return iqnas.QuadraticForm(space, 0.0, lin, name="acc")


def test_heatmap_png_and_svg_sizes(nb201_form, tmp_path):
    png = coefficient_heatmap(nb201_form, tmp_path / "main.png")
    assert png == tmp_path / "main.png" and png_size(png) == (800, 500)
    svg = coefficient_heatmap(nb201_form, tmp_path / "main.svg", interaction=("e01", "e12"))
    assert svg_size(svg) == ("576pt", "360pt")  # 8 x 5 in at 72 pt per inch
    small = coefficient_heatmap(explain(nb201_form), tmp_path / "s.png", figsize=(4, 3), dpi=50)
    assert png_size(small) == (200, 150)


def test_heatmap_of_a_table_with_interaction_and_resources(nb201_form, tmp_path):
    space = nb201_form.space
    lat = iqnas.QuadraticForm(space, 1.0, np.arange(30) / 10, units="ms")
    df = explain(nb201_form, resources={"latency_ms": lat})
    out = coefficient_heatmap(df, tmp_path / "both.png", interaction=("e12", "e01"),
                              groups=["e01", "e12"], figsize=(10, 4))
    assert png_size(out) == (1000, 400)
    out = coefficient_heatmap(df, tmp_path / "lat.svg", table="resources", metric="latency_ms")
    assert svg_size(out) == ("576pt", "360pt")


def test_depth_chart_png_and_svg(depth_form, tmp_path):
    df = explain(depth_form, tables=["depth", "width"])
    depth = df[df["table"] == "depth"].set_index(["stage", "position"])["value"]
    assert depth[(3, 3)] == pytest.approx(9.0) and depth[(3, 4)] == pytest.approx(12.0)
    assert png_size(depth_chart(depth_form, tmp_path / "d.png")) == (800, 500)
    assert svg_size(depth_chart(df, tmp_path / "d.svg", dpi=72)) == ("576pt", "360pt")


def test_plot_errors(nb201_form, depth_form, tmp_path):
    with pytest.raises(InputError, match=r"\.png or \.svg"):
        coefficient_heatmap(nb201_form, tmp_path / "x.jpg")
    with pytest.raises(InputError, match="no 'depth' rows"):
        depth_chart(nb201_form, tmp_path / "d.png")
    with pytest.raises(InputError, match="no interaction rows"):
        coefficient_heatmap(depth_form, tmp_path / "h.png", interaction=("s1.b1", "s2.b1"))
    with pytest.raises(InputError, match="not in the table"):
        coefficient_heatmap(nb201_form, tmp_path / "h.png", groups=["e99"])
    with pytest.raises(InputError, match="QuadraticForm or a table"):
        coefficient_heatmap([1, 2], tmp_path / "h.png")
    assert not list(tmp_path.iterdir())


def test_missing_matplotlib_is_a_clear_input_error(nb201_form, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    with pytest.raises(InputError, match=r"^plotting needs matplotlib: pip install 'iqnas\[plots\]'$"):
        coefficient_heatmap(nb201_form, tmp_path / "h.png")
