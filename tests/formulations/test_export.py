"""Problem.write / --write-model: the LP and MPS files read back by SCIP (and HiGHS) give the
optimum iqnas proves, at an architecture that decodes to the same objective value."""

from __future__ import annotations

import numpy as np
import pytest
from pyscipopt import Model

import iqnas
from iqnas.cli import main
from iqnas.errors import InputError
from iqnas.formulations import compiled_form
from iqnas.formulations.export import variable_names
from iqnas.testing.instances import make_instance


def _nb201_problem(sense="maximize", seed=3):
    space = iqnas.spaces.get("nb201")
    rng = np.random.default_rng(seed)
    f = iqnas.QuadraticForm(space, 2.5, rng.normal(size=30), rng.normal(size=(30, 30)))
    g = iqnas.QuadraticForm(space, 0.5, np.abs(rng.normal(size=30)),
                            np.abs(rng.normal(size=(30, 30))) * (rng.random((30, 30)) < 0.2))
    C = space.enumerate_choices()
    budget = float(np.quantile(g.evaluate(choices=C), 0.3))
    p = iqnas.Problem(space, f, {"lat": (g, budget)}, sense=sense)
    return p.excluding([iqnas.solve(p, "exhaustive").architecture])  # one no-good row too


def _read_back(path, problem, products):
    """SCIP's optimum of the file and the architecture its x variables decode to."""
    m = Model()
    m.hideOutput()
    m.readProblem(str(path))
    m.optimize()
    assert m.getStatus() == "optimal"
    names = variable_names(compiled_form(problem, products))[: problem.space.n_vars]
    by_name = {v.name: v for v in m.getVars()}
    x = np.round([m.getVal(by_name[n]) for n in names])
    value = m.getObjVal()
    m.freeProb()
    return value, problem.space.decode(x)


CASES = [("nb201-max", lambda: _nb201_problem()),
         ("nb201-min", lambda: _nb201_problem("minimize")),
         ("chain-0.05", lambda: make_instance("chain-0.05", 1).problem)]


RUNS = [(case, products, suffix) for case in CASES[:1] for products in ("linearize", "native")
        for suffix in ("lp", "mps")]
RUNS += [(CASES[1], "linearize", "lp"), (CASES[1], "native", "mps"), (CASES[2], "linearize", "mps"),
         (CASES[2], "native", "lp")]


@pytest.mark.parametrize(("case", "products", "suffix"), RUNS,
                         ids=[f"{c[0]}-{p}-{s}" for c, p, s in RUNS])
def test_written_model_has_the_same_optimum(case, products, suffix, tmp_path):
    problem = case[1]()
    ref = iqnas.solve(problem, "exhaustive" if problem.space.name == "nb201" else "scip")
    assert ref.status == "optimal"
    path = problem.write(tmp_path / f"model.{suffix}", products=products)
    value, arch = _read_back(path, problem, products)
    assert value == pytest.approx(ref.objective, rel=1e-9, abs=1e-9)
    assert not problem.violations(arch)
    assert problem.objective(problem.space.encode(arch)) == pytest.approx(ref.objective,
                                                                            rel=1e-9)


def test_native_keeps_quadratic_terms_and_linearized_has_none(tmp_path):
    problem = _nb201_problem()

    def body(path):
        return "\n".join(line for line in path.read_text().splitlines()
                         if not line.startswith("\\"))

    lin = body(problem.write(tmp_path / "lin.lp"))
    nat = body(problem.write(tmp_path / "nat.lp", products="native"))
    assert "[" not in lin and " y_" in lin
    assert "[" in nat and " y_" not in nat
    assert "QCMATRIX" in problem.write(tmp_path / "nat.mps", products="native").read_text()


@pytest.mark.parametrize("suffix", ["lp", "mps"])
def test_highs_reads_the_linearised_model(suffix, tmp_path):
    highspy = pytest.importorskip("highspy")
    problem = make_instance("chain-0.05", 2).problem
    ref = iqnas.solve(problem)
    path = problem.write(tmp_path / f"model.{suffix}")
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    assert h.readModel(str(path)) == highspy.HighsStatus.kOk
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    assert h.getInfo().objective_function_value == pytest.approx(ref.objective, rel=1e-7)


def test_bad_suffix_is_an_input_error_before_writing(tmp_path):
    with pytest.raises(InputError, match=r"\*\.lp"):
        _nb201_problem().write(tmp_path / "model.txt")
    assert not (tmp_path / "model.txt").exists()


def test_cli_write_model(tmp_path, capsys):
    problem = _nb201_problem().replace(exclude=())
    obj = problem.objective.save(tmp_path / "obj.json")
    lat = problem.constraints[0].form.save(tmp_path / "lat.json")
    budget = problem.constraints[0].budget
    path = tmp_path / "m.mps"
    code = main(["solve", "--space", "nb201", "--objective", str(obj), "--constraint",
                 f"lat={lat}:{budget!r}", "--write-model", str(path), "--quiet"])
    assert code == 0
    value, _ = _read_back(path, problem, "linearize")
    assert value == pytest.approx(iqnas.solve(problem, "exhaustive").objective, rel=1e-9)
    capsys.readouterr()
    assert main(["solve", "--space", "nb201", "--objective", str(obj),
                 "--write-model", str(tmp_path / "m.xyz")]) == 2
    assert not (tmp_path / "m.xyz").exists()


def test_write_is_atomic_and_a_missing_folder_is_an_input_error(tmp_path, monkeypatch):
    """A write that fails part-way leaves the old file as it was (no temporary file behind); a
    missing folder was a FileNotFoundError."""
    import os

    problem = _nb201_problem()
    with pytest.raises(InputError, match="the folder .*nodir does not exist"):
        problem.write(tmp_path / "nodir" / "m.lp")
    path = tmp_path / "m.lp"
    path.write_text("old model\n")
    os.chmod(path, 0o640)

    def fail(*_):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(os, "replace", fail)
        with pytest.raises(InputError, match="writing failed .No space left on device"):
            problem.write(path)
    assert path.read_text() == "old model\n" and [p.name for p in tmp_path.iterdir()] == ["m.lp"]
    problem.write(path)
    assert path.read_text().startswith("\\") and (path.stat().st_mode & 0o777) == 0o640
