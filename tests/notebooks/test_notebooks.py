"""Every notebook under notebooks/ runs top to bottom; a failing cell fails the test.

Each notebook runs in a fresh kernel started from this interpreter (a kernelspec written to a
temporary ``JUPYTER_PATH``, so the user's Jupyter configuration is neither read for the kernel
nor changed), with the working directory and ``TMPDIR`` in pytest's temporary directory, and
under a time limit for the whole notebook.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
KERNEL = "iqnas-notebook-test"
#: seconds for a whole notebook (each is meant to run in about a minute on a quiet machine)
NOTEBOOK_TIMEOUT = 300
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture()
def kernel_env(tmp_path, monkeypatch) -> Path:
    """A kernelspec for this interpreter under a temporary JUPYTER_PATH; TMPDIR in tmp_path."""
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "iqnas tests", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    work = tmp_path / "work"
    (work / "tmp").mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(work / "tmp"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("IQNAS_NOTEBOOK_QUICK", "1")  # notebooks that train: the reduced run
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")
    return work


def run_notebook(path: Path, cwd: Path, timeout: float = NOTEBOOK_TIMEOUT):
    """Execute every code cell in order; fail with the first failing cell and its error."""
    nb = nbformat.read(str(path), as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name=KERNEL, timeout=timeout,
                                     shutdown_kernel="immediate",
                                     resources={"metadata": {"path": str(cwd)}})
    deadline = time.monotonic() + timeout
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"{path.name}: over the {timeout} s limit before cell {index}")
            client.timeout = max(1, int(left))
            try:
                client.execute_cell(cell, index)
            except nbclient.exceptions.CellTimeoutError:
                pytest.fail(f"{path.name}: cell {index} ran past the notebook's {timeout} s "
                            f"limit:\n{cell.source}")
            except nbclient.exceptions.CellExecutionError as err:
                pytest.fail(f"{path.name}: cell {index} failed:\n{_ANSI.sub('', str(err))}",
                            pytrace=False)
    return nb


def test_notebooks_exist():
    names = {p.stem for p in PATHS}
    assert {"quickstart", "interpretability", "budget_sweeps", "data_aware"} <= names, names


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_committed_notebook_has_no_outputs(path):
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_runs_top_to_bottom(path, kernel_env):
    nb = run_notebook(path, kernel_env)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    # the notebooks write only into their own temporary directories
    assert not any(p.is_file() for p in kernel_env.iterdir())


def test_a_failing_cell_fails_with_its_error(tmp_path, kernel_env):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("raise ValueError(f'broken {x + 1}')"),
                nbformat.v4.new_code_cell("never = True")]
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, str(path))
    with pytest.raises(pytest.fail.Exception, match=r"cell 1 failed:(.|\n)*ValueError: broken 2"):
        run_notebook(path, kernel_env)
    with pytest.raises(pytest.fail.Exception, match="limit"):
        nb.cells = [nbformat.v4.new_code_cell("import time; time.sleep(30)")]
        nbformat.write(nb, str(path))
        run_notebook(path, kernel_env, timeout=3)
