"""Pareto front plots of sweeps: valid PNG/SVG files of the requested size."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from image_files import png_size, svg_size

import iqnas
from iqnas.calibration import LinearResourceModel, QuadraticRegressor
from iqnas.errors import InputError
from iqnas.plots import plot_pareto
from iqnas.sweeps import budget_range

pytest.importorskip("matplotlib")

RES = "help_lat_fpga"


@pytest.fixture(scope="module")
def oracle():
    return iqnas.oracles.nb201("cifar100")


@pytest.fixture(scope="module")
def problem(oracle):
    space, table = oracle.space, oracle.table()
    X = space.choices_to_onehot(oracle.choices)
    acc = QuadraticRegressor(space, terms="linear", alpha=1.0, name="acc", units="%").fit(
        X, table["test_acc_c100"].to_numpy()).form_
    lat = LinearResourceModel(space, units="ms").fit(X, table[RES].to_numpy()).form_
    return iqnas.Problem(space, acc, {RES: (lat, 3.0)})


@pytest.fixture(scope="module")
def measured(problem, oracle):
    return iqnas.sweep(problem, RES, budget_range(1.0, 8.7, 8), oracle=oracle)


def test_png_and_svg_of_the_expected_size(measured, tmp_path):
    assert measured.has_true_front
    out = plot_pareto(measured, tmp_path / "front.png")
    assert out == tmp_path / "front.png" and png_size(out) == (800, 500)
    assert svg_size(plot_pareto(measured, tmp_path / "front.svg")) == ("576pt", "360pt")
    small = plot_pareto(measured, tmp_path / "s.png", true_front=False, figsize=(4, 3), dpi=50)
    assert png_size(small) == (200, 150)


def test_the_plot_draws_the_fronts(measured, tmp_path):
    svg = plot_pareto(measured, tmp_path / "front.svg").read_text()
    for label in ("predicted front", "answers, measured", "true front (table optimum)"):
        assert label in svg
    plain = plot_pareto(measured, tmp_path / "plain.svg", true_front=False).read_text()
    assert "predicted front" in plain and "true front" not in plain


def test_without_oracle_and_without_feasible_points(problem, tmp_path):
    bare = iqnas.sweep(problem, RES, [3.0, 6.0])
    text = plot_pareto(bare, tmp_path / "bare.svg").read_text()
    assert "predicted front" in text and "measured" not in text
    none = iqnas.sweep(problem, RES, [0.1, 0.2])
    assert none.n_feasible == 0
    assert png_size(plot_pareto(none, tmp_path / "none.png")) == (800, 500)


def test_errors(measured, tmp_path, monkeypatch):
    with pytest.raises(InputError, match=r"\.png or \.svg"):
        plot_pareto(measured, tmp_path / "front.jpg")
    with pytest.raises(InputError, match="unknown resource 'mem'"):
        plot_pareto(measured, tmp_path / "front.png", resource="mem")
    with pytest.raises(InputError, match="needs an iqnas Sweep"):
        plot_pareto(np.zeros(3), tmp_path / "front.png")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    with pytest.raises(InputError, match=r"pip install 'iqnas\[plots\]'"):
        plot_pareto(measured, tmp_path / "front.png")
    assert not list(tmp_path.iterdir())


def test_axis_titles_carry_units_and_can_be_set(measured, tmp_path):
    svg = plot_pareto(measured, tmp_path / "front.svg").read_text()
    assert "help_lat_fpga (ms)" in svg
    assert "acc predicted / test_acc_c100 measured (%)" in svg  # the objective's % too
    assert "Pareto front: acc against help_lat_fpga" in svg
    svg = plot_pareto(measured, tmp_path / "own.svg", title="My front", xlabel="FPGA [ms]",
                      ylabel="accuracy [%]").read_text()
    assert "My front" in svg and "FPGA [ms]" in svg and "accuracy [%]" in svg
    assert "help_lat_fpga (ms)" not in svg


def test_the_plot_and_the_report_share_their_data(measured, tmp_path):
    from iqnas.plotdata import pareto_data
    from iqnas.plots import draw

    data = pareto_data(measured)
    assert {s.kind for s in data.series} >= {"front", "measured", "true"}
    assert data.budgets == measured.budgets and data.budget_units == "ms"
    front = measured.pareto_front()
    on_front = next(s for s in data.series if s.kind == "front")
    assert list(on_front.keys) == list(front["key"])
    assert all(k in h for k, h in zip(on_front.keys, on_front.hover))
    assert png_size(draw(data, tmp_path / "d.png")) == (800, 500)
