"""``load_sweep``: a sweep file read back with its forms equals the sweep that wrote it; files of
other forms, other spaces or unfinished sweeps are refused."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import iqnas
from iqnas.errors import InputError
from iqnas.sweeps import load_sweep

RES = "help_lat_fpga"


@pytest.fixture(scope="module")
def written(tmp_path_factory, linear_accuracy, fpga_form, params_form, nb201_oracle):
    out = tmp_path_factory.mktemp("load") / "sweep.jsonl"
    problem = iqnas.Problem(linear_accuracy.space, linear_accuracy,
                            {RES: (fpga_form, 3.0), "params_M_c100": (params_form, 0.8)})
    sw = iqnas.sweep(problem, RES, [2.0, 3.0, 4.0, 6.0], oracle=nb201_oracle, out=out,
                     objective_metric="test_acc_c100", progress=False)
    forms = {"acc": linear_accuracy, RES: fpga_form, "params_M_c100": params_form}
    return sw, out, forms


def test_round_trip(written, nb201_oracle):
    sw, out, forms = written
    head = json.loads(out.read_text().splitlines()[0])
    assert head["objective"] == {"name": "acc", "units": "%"}
    assert head["constraints"] == [{"name": RES, "units": "ms", "budget": None},
                                   {"name": "params_M_c100", "units": "M", "budget": 0.8}]
    back = load_sweep(out, forms, nb201_oracle, objective_metric="test_acc_c100")
    cols = [c for c in sw.to_dataframe().columns if c != "time"]
    pd.testing.assert_frame_equal(back.to_dataframe()[cols], sw.to_dataframe()[cols])
    pd.testing.assert_frame_equal(back.true_front(), sw.true_front())
    assert list(back.pareto_front()["key"]) == list(sw.pareto_front()["key"])
    assert back.problem.constraint("params_M_c100").budget == 0.8
    assert load_sweep(out, forms).truth is None


def test_files_written_before_the_header_named_the_problem(written, tmp_path):
    sw, out, forms = written
    lines = out.read_text().splitlines(keepends=True)
    head = json.loads(lines[0])
    del head["objective"], head["constraints"]
    old = tmp_path / "old.jsonl"
    old.write_text(json.dumps(head) + "\n" + "".join(lines[1:]))
    with pytest.raises(InputError, match="no form named None"):
        load_sweep(old, forms)
    with pytest.raises(InputError, match="budget of constraint 'params_M_c100' is not"):
        load_sweep(old, forms, objective="acc")
    back = load_sweep(old, forms, objective="acc", budgets={"params_M_c100": 0.8})
    np.testing.assert_array_equal(back.to_dataframe()["objective"],
                                  sw.to_dataframe()["objective"])


def test_refused(written, tmp_path, params_form):
    sw, out, forms = written
    with pytest.raises(InputError, match="other forms or budgets"):
        load_sweep(out, {**forms, "params_M_c100": params_form * 2.0})
    with pytest.raises(InputError, match="no form named 'acc'"):
        load_sweep(out, {k: v for k, v in forms.items() if k != "acc"})
    ofa = iqnas.QuadraticForm(iqnas.spaces.get("ofa"), 1.0)
    with pytest.raises(InputError, match="over space 'nb201', form 'acc' over 'ofa'"):
        load_sweep(out, {**forms, "acc": ofa})
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(out.read_text().splitlines(keepends=True)[:-2]))
    with pytest.raises(InputError, match="has 2 of 4 points"):
        load_sweep(cut, forms)
    with pytest.raises(InputError, match="sweep file not found"):
        load_sweep(tmp_path / "none.jsonl", forms)
    (tmp_path / "x.jsonl").write_text('{"kind": "point"}\n')
    with pytest.raises(InputError, match="not an iqnas sweep file"):
        load_sweep(tmp_path / "x.jsonl", forms)


def test_a_configured_backend_comes_back_with_its_parameters(linear_accuracy, fpga_form,
                                                             tmp_path):
    out = tmp_path / "configured.jsonl"
    problem = iqnas.Problem(linear_accuracy.space, linear_accuracy, {RES: (fpga_form, 3.0)})
    solver = iqnas.solvers.Scip(triangle_cuts=False)
    sw = iqnas.sweep(problem, RES, [2.0, 4.0], solver=solver, out=out, progress=False)
    back = load_sweep(out, {"acc": linear_accuracy, RES: fpga_form})
    assert back.settings.backend.get_params() == solver.get_params()
    assert back.settings.identity() == sw.settings.identity()
    head = json.loads(out.read_text().splitlines()[0])
    head["settings"]["params"] = {"no_such_option": 1}
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join([json.dumps(head) + "\n"] + out.read_text().splitlines(True)[1:]))
    with pytest.raises(InputError, match="solver settings .* cannot be rebuilt"):
        load_sweep(bad, {"acc": linear_accuracy, RES: fpga_form})


def _toy_forms(options: list[int]) -> dict[str, iqnas.QuadraticForm]:
    """Forms over a user space named "toy": the same coefficients whatever ``options`` are."""
    space = iqnas.SearchSpace.from_dict({"name": "toy", "groups": [
        {"name": "width", "options": options}, {"name": "kernel", "options": [3, 5]}]})
    return {"acc": iqnas.QuadraticForm(space, 1.0, [1.0, 2.0, 3.0, 0.5, 1.5], name="acc"),
            "lat": iqnas.QuadraticForm(space, 0.0, [1.0, 2.0, 4.0, 1.0, 2.0], name="lat")}


def test_a_sweep_file_of_another_space_with_the_same_name_is_refused(tmp_path):
    forms, other = _toy_forms([8, 16, 32]), _toy_forms([8, 16, 64])
    space = forms["acc"].space
    assert space.content_hash() != other["acc"].space.content_hash()
    problem = iqnas.Problem(space, forms["acc"], {"lat": (forms["lat"], 3.0)})
    out = tmp_path / "toy.jsonl"
    sw = iqnas.sweep(problem, "lat", [2.0, 3.0, 5.0], out=out, progress=False)
    head = json.loads(out.read_text().splitlines()[0])
    assert head["space_hash"] == space.content_hash()
    back = load_sweep(out, forms)
    assert back.to_dataframe()["key"].tolist() == sw.to_dataframe()["key"].tolist()
    with pytest.raises(InputError) as info:
        load_sweep(out, other)
    text = str(info.value)
    assert text.startswith(f"sweep file {out} was solved on another space named 'toy' "
                           f"(content hash {space.content_hash()})") and "\n" not in text
    other_problem = iqnas.Problem(other["acc"].space, other["acc"], {"lat": (other["lat"], 3.0)})
    with pytest.raises(InputError, match="space_hash"):  # nor resumed on the other space
        iqnas.sweep(other_problem, "lat", [2.0, 3.0, 5.0], out=out, progress=False)


def test_a_sweep_file_from_before_the_space_hash_still_loads_and_resumes(tmp_path):
    forms = _toy_forms([8, 16, 32])
    problem = iqnas.Problem(forms["acc"].space, forms["acc"], {"lat": (forms["lat"], 3.0)})
    out = tmp_path / "toy.jsonl"
    sw = iqnas.sweep(problem, "lat", [2.0, 3.0, 5.0], out=out, progress=False)
    lines = out.read_text().splitlines(keepends=True)
    head = json.loads(lines[0])
    del head["space_hash"]
    old = tmp_path / "old.jsonl"
    old.write_text(json.dumps(head) + "\n" + "".join(lines[1:-1]))  # the last point missing
    again = iqnas.sweep(problem, "lat", [2.0, 3.0, 5.0], out=old, progress=False)
    assert again.resumed == 2
    back = load_sweep(old, _toy_forms([8, 16, 64]))  # nothing recorded to tell them apart
    assert back.to_dataframe()["objective"].tolist() == sw.to_dataframe()["objective"].tolist()
