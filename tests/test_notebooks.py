"""The notebooks run top to bottom, each in a fresh kernel, and are committed without outputs.

Each notebook opens an in-memory database of its own and checks the numbers it shows with
assert cells, so a notebook whose story no longer holds fails here with the cell's traceback.
"""
from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from segwork.config import PROJECT_DIR

NOTEBOOK_DIR = PROJECT_DIR / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 300  # a guard against a hung kernel, not a speed test


def test_the_notebooks_are_found():
    assert [p.name for p in NOTEBOOKS] == ["01_quick_start.ipynb", "02_real_shop.ipynb",
                                           "03_beyond_the_three_queries.ipynb", "04_segments_through_time.ipynb",
                                           "05_define_your_own_segments.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, cell in enumerate(nb.cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; run `jupyter nbconvert --clear-output --inplace {path}`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_in_a_fresh_kernel(path):
    nb = nbformat.read(path, as_version=4)
    # The kernel finds segwork however the venv was made; it starts in notebooks/ like Jupyter's.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_DIR), os.environ.get("PYTHONPATH")]))}
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        pytest.fail(f"{path.name} failed:\n{exc}", pytrace=False)
