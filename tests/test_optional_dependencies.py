"""A solve-only install (no torch, cvxpy or matplotlib) solves, explains, sweeps and reads the
NB201 table; the parts that need an extra say which one to install. ``import iqnas`` stays
light."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import iqnas

REPO = Path(__file__).resolve().parents[1]
BUDGETS = [2.5, 3.0, 3.5, 4.0]
KEY = "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|avg_pool_3x3~1|nor_conv_1x1~2|"

# the problem of the README's example: a random pairwise accuracy form, a linear latency budget
PROBLEM = """
import numpy as np
import iqnas

space = iqnas.spaces.get("nb201")
rng = np.random.default_rng(0)
accuracy = iqnas.QuadraticForm(space, intercept=70.0, linear=rng.normal(size=30),
                               pairwise=0.1 * rng.normal(size=(30, 30)))
latency = iqnas.QuadraticForm(space, intercept=1.0, linear=np.abs(rng.normal(size=30)),
                              units="ms")
problem = iqnas.Problem(space, objective=accuracy, constraints={"latency_ms": (latency, 3.0)})
"""

# runs with torch, cvxpy and matplotlib unimportable, as if they were not installed; writes
# what it found to the file named by its argument
CHILD = """
import contextlib
import importlib.util
import io
import json
import sys

HIDDEN = ("torch", "cvxpy", "matplotlib")


class Hide:
    # a finder of sys.meta_path that does not see the HIDDEN packages
    def __init__(self, finder):
        self.finder = finder

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in HIDDEN:
            return None
        return self.finder.find_spec(name, path, target)

    def invalidate_caches(self):
        getattr(self.finder, "invalidate_caches", lambda: None)()


assert not any(name in sys.modules for name in HIDDEN)
sys.meta_path[:] = [Hide(finder) for finder in sys.meta_path]
{problem}
from iqnas.calibration import proxies
from iqnas.cli import main
from iqnas.plots import plot_pareto


def failure(call):
    try:
        call()
    except Exception as exc:  # the type and message are checked by the test
        return [type(exc).__name__, str(exc)]
    return None


def command(argv):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return [code, err.getvalue().strip()]


out = {{}}
res = iqnas.solve(problem, solver="scip", time_limit=60, gap=0.0, seed=0)
out["solve"] = [str(res.status), res.objective, res.architecture.key]
table = iqnas.explain(accuracy, resources={{"latency_ms": latency}})
out["explain"] = table.to_json(orient="split")
sw = iqnas.sweep(problem, "latency_ms", {budgets}, progress=False)
out["sweep"] = sw.to_dataframe()[["budget", "objective", "key"]].values.tolist()
oracle = iqnas.oracles.get("nb201", "nb201", dataset="cifar100")
out["measure"] = oracle.measure({key!r})
out["table"] = [list(oracle.table().shape), oracle.table().loc[{key!r}].to_dict()]

accuracy.save("acc.json")
latency.save("lat.json")
out["cli"] = {{
    "solve": command(["solve", "--space", "nb201", "--objective", "acc.json",
                      "--constraint", "lat=lat.json:3.0"]),
    "cvxpy": command(["solve", "--space", "nb201", "--objective", "acc.json", "--solver", "cvxpy"]),
    "plot": command(["sweep", "--space", "nb201", "--objective", "acc.json", "--constraint",
                     "lat=lat.json", "--resource", "lat", "--budgets", "2.5:3.5:3",
                     "--plot", "front.png"]),
}}
out["errors"] = {{
    "build": failure(lambda: iqnas.builders.build("nb201", {key!r})),
    "build_module": failure(lambda: __import__("iqnas.builders.nb201")),
    "proxies": failure(lambda: iqnas.oracles.get("proxies", "nb201")),
    "naswot": failure(lambda: proxies.naswot(None, None)),
    "cvxpy": failure(lambda: iqnas.solve(problem, solver="cvxpy")),
    "cvxpy_module": failure(lambda: __import__("iqnas.solvers.cvxpy_milp")),
    "cvxpy_instance": failure(lambda: iqnas.solve(problem, solver=iqnas.solvers.Cvxpy())),
    "cvxpy_configured": failure(lambda: iqnas.solvers.Cvxpy(solver="HIGHS").solve(
        problem, iqnas.solvers.SolveOptions())),
    "plot": failure(lambda: plot_pareto(sw, "front.png")),
}}
out["available"] = iqnas.solvers.names(available_only=True)
out["configured"] = repr(iqnas.solvers.Cvxpy(solver="HIGHS"))
out["hidden"] = [n not in sys.modules and importlib.util.find_spec(n) is None for n in HIDDEN]
with open(sys.argv[1], "w") as fh:
    json.dump(out, fh)
"""


def _run(code: str, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter that imports iqnas from this checkout."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def without_extras(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("optional")
    code = CHILD.format(problem=textwrap.dedent(PROBLEM), budgets=BUDGETS, key=KEY)
    _run(code, str(work / "out.json"), cwd=work)
    out = json.loads((work / "out.json").read_text())
    out["files"] = sorted(p.name for p in work.iterdir())
    return out


@pytest.fixture(scope="module")
def here() -> dict:
    """The same problem and forms, built in this process (every extra installed)."""
    ns: dict = {}
    exec(PROBLEM, ns)
    return ns


def _exhaustive(problem: iqnas.Problem) -> iqnas.Result:
    return iqnas.solve(problem, solver="exhaustive")


def test_solve_explain_sweep_and_the_nb201_oracle_need_no_torch_or_cvxpy(without_extras, here):
    out = without_extras
    assert out["hidden"] == [True, True, True]  # torch, cvxpy, matplotlib stayed out of reach
    truth = _exhaustive(here["problem"])  # enumeration of all 15,625 cells
    status, objective, key = out["solve"]
    assert status == "optimal" and key == truth.architecture.key
    assert objective == pytest.approx(truth.objective, rel=1e-9, abs=1e-9)

    table = pd.read_json(io.StringIO(out["explain"]), orient="split")
    expected = iqnas.explain(here["accuracy"], resources={"latency_ms": here["latency"]})
    assert set(table["table"]) == {"main", "interactions", "coefficients", "resources"}
    np.testing.assert_allclose(table["value"].to_numpy(float), expected["value"].to_numpy(float),
                               rtol=1e-9, atol=1e-9)
    assert table["group"].fillna("").tolist() == expected["group"].fillna("").tolist()

    assert [row[0] for row in out["sweep"]] == BUDGETS
    for budget, objective, key in out["sweep"]:
        at = _exhaustive(iqnas.Problem(here["space"], objective=here["accuracy"],
                                       constraints={"latency_ms": (here["latency"], budget)}))
        assert key == at.architecture.key
        assert objective == pytest.approx(at.objective, rel=1e-9, abs=1e-9)

    oracle = iqnas.oracles.nb201("cifar100")
    assert out["measure"] == pytest.approx(oracle.measure(KEY))
    shape, row = out["table"]
    assert shape == [15625, len(oracle.metrics)]
    assert row == pytest.approx(out["measure"])
    assert out["measure"]["test_acc_c100"] == pytest.approx(
        oracle.table().loc[KEY, "test_acc_c100"])


@pytest.mark.parametrize("part, kind, extra", [
    ("build", "InputError", "torch"),
    ("build_module", "InputError", "torch"),
    ("proxies", "InputError", "torch"),
    ("naswot", "InputError", "torch"),
    ("cvxpy", "BackendUnavailableError", "cvxpy"),
    ("cvxpy_module", "BackendUnavailableError", "cvxpy"),
    ("cvxpy_instance", "BackendUnavailableError", "cvxpy"),
    ("cvxpy_configured", "BackendUnavailableError", "cvxpy"),
    ("plot", "InputError", "matplotlib"),
])
def test_parts_needing_an_extra_say_which_to_install(without_extras, part, kind, extra):
    error = without_extras["errors"][part]
    assert error is not None, f"{part} worked without {extra}"
    name, message = error
    assert name == kind
    install = {"matplotlib": "plots"}.get(extra, extra)
    assert message.endswith(f"needs {extra}: pip install 'iqnas[{install}]'"), message
    assert "\n" not in message


def test_the_command_line_solves_and_names_the_missing_extra(without_extras, here):
    cli = without_extras["cli"]
    assert cli["solve"][0] == 0
    assert cli["cvxpy"] == [2, "error: solver 'cvxpy' needs cvxpy: pip install 'iqnas[cvxpy]'"]
    assert cli["plot"] == [2, "error: --plot needs matplotlib: pip install 'iqnas[plots]'"]
    assert "front.png" not in without_extras["files"]  # refused before any work


def test_the_registry_lists_only_backends_that_can_run(without_extras):
    assert "scip" in without_extras["available"] and "exhaustive" in without_extras["available"]
    assert "cvxpy" not in without_extras["available"]
    # a cvxpy backend can be configured without cvxpy; solving says what to install
    assert without_extras["configured"] == "Cvxpy(solver='HIGHS')"


def test_import_iqnas_stays_light():
    heavy = ["pandas", "rich", "sqlite3", "torch", "cvxpy", "matplotlib"]
    code = ("import sys, json\nimport iqnas\n"
            f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))")
    assert json.loads(_run(code).stdout) == []
