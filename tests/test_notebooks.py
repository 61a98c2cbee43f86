"""The notebooks (``notebooks/``): every cell runs, and each ``.py`` and its ``.ipynb`` hold the same cells.

Each notebook runs in a fresh kernel in its quick mode (``JAXGAN_NOTEBOOK_QUICK=1``: fewer iterations
and seeds, nothing written into the repository); a failing cell, or a failing ``assert`` in one,
fails the test. The committed ``.ipynb`` must hold the outputs of a full run of the same cells as
its ``.py``, and the folder's README must list it.
"""

import jupytext
import nbformat
import pytest

from notebooks.execute import NOTEBOOKS, execute, paired_ipynb

SOURCES = sorted(p.with_suffix(".py") for p in NOTEBOOKS.glob("*.ipynb"))
IDS = [p.stem for p in SOURCES]


def cells(notebook):
    """``(type, source)`` of each cell: what a reader sees, without outputs and metadata."""
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def stdout_of(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def test_there_are_notebooks():
    assert SOURCES, f"no .ipynb in {NOTEBOOKS}"


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_every_cell_runs_in_quick_mode(source):
    notebook = execute(source, quick=True, timeout=300)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code)
    assert "quick run" in stdout_of(code[0]), stdout_of(code[0])


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_the_py_and_the_ipynb_hold_the_same_cells(source):
    assert source.is_file(), f"{paired_ipynb(source).name} has no paired {source.name}"
    from_py, from_ipynb = jupytext.read(source), jupytext.read(paired_ipynb(source))
    for notebook in (from_py, from_ipynb):  # what `jupytext --sync` pairs them by
        assert notebook.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    assert cells(from_py) == cells(from_ipynb), (
        f"{source.name} and {paired_ipynb(source).name} differ: run `jupytext --sync {source}` "
        f"and execute it again (`python notebooks/execute.py {source}`)")


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_the_ipynb_holds_a_full_runs_outputs(source):
    notebook = nbformat.read(paired_ipynb(source), as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), "not run top to bottom"
    assert not any(o.get("output_type") == "error" for cell in code for o in cell.outputs)
    assert "full run" in stdout_of(code[0]), stdout_of(code[0])
    assert any("image/png" in o.get("data", {}) for cell in code for o in cell.outputs), "no figure"


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_the_readme_lists_the_notebook(source):
    assert paired_ipynb(source).name in (NOTEBOOKS / "README.md").read_text()
