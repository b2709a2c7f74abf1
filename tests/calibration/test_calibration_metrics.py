"""quality_report against hand-computed values; the DataFrame and rich renderings."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rich.console import Console

import iqnas
from iqnas.calibration.metrics import quality_report, render_reports, report_table

TRUE = [1.0, 2.0, 3.0, 4.0]
PRED = [1.05, 1.7, 3.95, 3.9]  # errors .05, -.3, .95, -.1; rows 3 and 4 swap order


def test_quality_report_hand_computed():
    rep = quality_report(TRUE, PRED)
    assert rep["n"] == 4
    assert rep["kendall_tau"] == pytest.approx(4 / 6)  # 5 concordant, 1 discordant of 6 pairs
    assert rep["spearman"] == pytest.approx(1 - 6 * 2 / (4 * 15))  # rank differences 0,0,1,1
    assert rep["rmse"] == pytest.approx(math.sqrt((0.0025 + 0.09 + 0.9025 + 0.01) / 4))
    assert rep["mae"] == pytest.approx((0.05 + 0.3 + 0.95 + 0.1) / 4)
    assert rep["r2"] == pytest.approx(1 - 1.005 / 5.0)
    assert rep["within_10pct"] == 0.5  # .05 <= .1 and .1 <= .4 pass; .3 > .2 and .95 > .3 fail
    # Pearson from its definition: mean(t) = 2.5, mean(p) = 2.65
    dt = np.array(TRUE) - 2.5
    dp = np.array(PRED) - 2.65
    assert rep["pearson"] == pytest.approx((dt @ dp) / math.sqrt((dt @ dt) * (dp @ dp)))


def test_quality_report_edge_cases():
    rep = quality_report([1.0, 2.0, 3.0], [5.0, 5.0, 5.0])
    assert math.isnan(rep["kendall_tau"]) and math.isnan(rep["pearson"])
    assert rep["mae"] == pytest.approx(3.0)
    perfect = quality_report([-2.0, 1.0, 7.0], [-2.0, 1.0, 7.0])
    assert perfect["kendall_tau"] == 1.0 and perfect["rmse"] == 0.0
    assert perfect["within_10pct"] == 1.0  # |true| is used for negative values
    with pytest.raises(iqnas.InputError, match="y_true has 2 values, y_pred has 3"):
        quality_report([1, 2], [1, 2, 3])
    with pytest.raises(iqnas.InputError, match=r"y_pred\[1\] is nan"):
        quality_report([1, 2], [1, float("nan")])


def test_report_table_and_rich_rendering():
    reports = {"ridge": quality_report(TRUE, PRED), "exact": quality_report(TRUE, TRUE)}
    df = report_table(reports)
    assert list(df.index) == ["ridge", "exact"] and df.index.name == "model"
    assert list(df.columns)[:3] == ["n", "kendall_tau", "spearman"]
    assert df.loc["ridge", "within_10pct"] == 0.5 and df.loc["exact", "rmse"] == 0.0
    assert df["n"].tolist() == [4, 4]
    table = render_reports(reports, title="nb201")
    assert table.row_count == 2 and table.columns[1].header == "n"
    console = Console(record=True, width=200)
    console.print(table)
    text = console.export_text()
    assert "ridge" in text and "0.667" in text and "Kendall tau" in text and "nb201" in text
    with pytest.raises(iqnas.InputError, match="report 'bad'"):
        report_table({"bad": 3.0})


def test_rank_statistics_ignore_floating_point_noise_on_ties():
    """An exact model's predictions of tied true values differ in the last bits; the rank
    statistics must still be 1 (FPGA latency of NB201: 84 distinct values, exactly linear)."""
    rng = np.random.default_rng(0)
    t = rng.choice([1.5, 2.90576, 3.25, 4.0], size=200)
    p = t * (1 + rng.choice([-1, 0, 1], size=200) * 2.0 ** -50)
    assert len(np.unique(p)) > len(np.unique(t))
    rep = quality_report(t, p)
    assert rep["kendall_tau"] == pytest.approx(1.0) and rep["spearman"] == pytest.approx(1.0)
    worse = quality_report(t, t + rng.normal(scale=0.5, size=200))
    assert worse["kendall_tau"] < 0.9  # real disagreements still count
