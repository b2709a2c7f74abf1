"""The HTML report of a real calibration and sweep, opened in headless Chromium with the network
cut off: every section is there, every figure drew its points, a sortable table sorts, nothing is
loaded from the network, and a screenshot is not blank."""

from __future__ import annotations

import re

import numpy as np
import pytest
from browser import Tree, dump_dom, page_requests, require, screenshot

import iqnas
from iqnas.plotdata import pareto_data
from iqnas.reporting.build import SECTIONS

#: the figures of an nb201 report with a budget and a sweep (no depth/width: not a macro space)
FIGURES = {"progress", "front", "main-effects", "interactions", "cost-help-lat-fpga", "quality"}


@pytest.fixture(scope="module")
def chromium() -> str:
    return require()


@pytest.fixture(scope="module")
def rendered(nb201_run, chromium, tmp_path_factory):
    log = tmp_path_factory.mktemp("netlog") / "net.json"
    dom = dump_dom(chromium, nb201_run["report"], net_log=log)
    tree = Tree()
    tree.feed(dom)
    return {"dom": dom, "tree": tree, "log": log}


def test_every_section_is_present_in_the_rendered_page(rendered):
    tree = rendered["tree"]
    sections = [a["data-section"] for t, a, _, _ in tree.elements
                if t == "section" and "data-section" in a]
    assert sections == [sid for sid, _ in SECTIONS]
    titles = [a for t, a, _, _ in tree.elements if t == "title"]
    assert titles and "NB201 test run" in rendered["dom"]


def test_every_figure_drew_its_points(rendered, nb201_run):
    tree = rendered["tree"]
    figures = {a["data-figure"]: a for t, a, _, _ in tree.elements
               if t == "figure" and "data-figure" in a}
    assert set(figures) == FIGURES
    for name, attrs in figures.items():
        # plotly replaced the empty div by its SVG: a main-svg per figure, then the marks
        assert tree.classes(name, "main-svg") >= 1, name
        points, cells = int(attrs["data-points"]), int(attrs["data-cells"])
        if "heatmap" in attrs["data-kind"]:
            assert cells > 0 and tree.classes(name, "hm") == 1, name
            images = [t for t, _, f, _s in tree.elements if f == name and t == "image"]
            assert images, f"{name}: the heatmap drew no image"
        else:
            assert points > 0, name
            assert tree.classes(name, "point") == points, name
    # the counts come from the data: 40 out-of-fold points per model, 24 non-reference options
    assert int(figures["quality"]["data-points"]) == 2 * 40
    assert int(figures["main-effects"]["data-points"]) == 6 * 4
    assert tree.classes("main-effects", "errorbar") == 6 * 4  # the bootstrap intervals
    sweep = iqnas.sweeps.load_sweep(
        nb201_run["sweep"], {m: iqnas.QuadraticForm.load(nb201_run["models"] / f"{m}.json")
                             for m in ("test_acc_c100", "help_lat_fpga")},
        iqnas.oracles.nb201("cifar100"))
    data = pareto_data(sweep)
    assert int(figures["front"]["data-points"]) == data.n_points
    kinds = {s.kind for s in data.series}
    assert {"front", "measured", "true"} <= kinds
    text = " ".join(rendered["tree"].text)
    # axis titles carry their units; the baseline is there (the oracle is a table)
    for label in ("help_lat_fpga (ms)", "(%)", "random search, expected", "this run"):
        assert label in rendered["dom"], label
    assert "All metrics measured" in text


def test_the_page_loads_nothing_from_the_network(rendered, nb201_run, chromium, tmp_path):
    assert page_requests(rendered["log"]) == []
    # the check can fail: a page with an external image is caught
    probe = tmp_path / "probe.html"
    probe.write_text('<html><body><img src="https://example.com/x.png"></body></html>')
    dump_dom(chromium, probe, net_log=tmp_path / "probe.json")
    assert page_requests(tmp_path / "probe.json") == ["https://example.com/x.png"]
    html = nb201_run["report"].read_text()
    # no reference a browser would load: no src/href/url() other than in-page anchors...
    tags = re.sub(r"<script>.*?</script>", "", html, flags=re.S)
    links = re.findall(r"""\b(?:src|href)\s*=\s*["']?([^"'\s>]*)""", tags)
    assert links and all(link.startswith("#") for link in links), links
    assert "url(" not in tags and "@import" not in tags
    # ...and no URL at all outside plotly.js itself (one inline bundle in <head>)
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    bundle = max(scripts, key=len)
    assert "plotly" in bundle[:2000].lower()
    rest = html.replace(bundle, "")
    assert "http://" not in rest and "https://" not in rest


def test_samples_table_has_every_sample_and_sorts(nb201_run, chromium, tmp_path):
    page = tmp_path / "sorted.html"
    html = nb201_run["report"].read_text()
    # click the header of the accuracy column twice (descending), after the page's scripts
    click = ("<script>var th = document.querySelectorAll('#samples-table th')[3];"
             "th.click(); th.click();</script></body>")
    page.write_text(html.replace("</body>", click))
    tree = Tree()
    tree.feed(dump_dom(chromium, page))
    rows, current = [], None
    for tag, attrs, _, section in tree.elements:
        if section != "samples":
            continue
        if tag == "tr":
            current = []
            rows.append(current)
        elif tag == "td" and current is not None:
            current.append(attrs.get("data-value"))
    rows = [r for r in rows if r]
    assert len(rows) == 40
    acc = np.array([float(r[3]) for r in rows])
    assert np.all(np.diff(acc) <= 0) and acc[0] > acc[-1]
    with iqnas.calibration.open_store(nb201_run["store"]) as st:
        samples = st.samples()
    samples = samples[samples["test_acc_c100"].notna()]  # the trained ones, not the look-ups
    assert sorted(acc.tolist(), reverse=True) == sorted(samples["test_acc_c100"], reverse=True)


def test_screenshot_is_not_blank(nb201_run, chromium, tmp_path):
    from PIL import Image

    png = screenshot(chromium, nb201_run["report"], tmp_path / "shot.png")
    img = np.asarray(Image.open(png).convert("RGB"), dtype=float)
    assert img.shape == (3000, 1280, 3)
    assert img.std() > 20  # a blank page has variance 0
    # every section's plot area: not one colour
    colours = np.unique(img.reshape(-1, 3)[::7], axis=0)
    assert len(colours) > 200


def test_figures_folder_has_the_same_figures(nb201_run):
    from PIL import Image

    names = {p.stem for p in nb201_run["figures"].glob("*.png")}
    assert names == FIGURES  # --figures: each of the report's figures, drawn by matplotlib
    for p in nb201_run["figures"].glob("*.png"):
        with Image.open(p) as img:
            assert img.format == "PNG" and img.size == (800, 500)
