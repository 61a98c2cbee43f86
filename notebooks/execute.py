"""Executes the notebooks of this folder from their ``.py`` sources and writes each ``.ipynb`` with its outputs.

Usage, from the repository's root::

    python notebooks/execute.py notebooks/toy_gan_lecture17.py   # the full run; its outputs go into the .ipynb

Each notebook runs in a fresh Python kernel (``ipykernel``, through ``nbclient``) whose working
directory is this folder and whose ``sys.path`` starts with the repository's root, so it imports the
``jaxgan`` of this checkout. Set ``JAXGAN_NOTEBOOK_QUICK=1`` for the shrunk run the tests use (then
nothing is written unless ``--write`` is given).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
QUICK_VARIABLE = "JAXGAN_NOTEBOOK_QUICK"

__all__ = ["NOTEBOOKS", "QUICK_VARIABLE", "ROOT", "execute", "main", "paired_ipynb", "write_pair"]


def paired_ipynb(source: Path) -> Path:
    """The ``.ipynb`` paired with a notebook's ``.py`` source."""
    return source.with_suffix(".ipynb")


def execute(source: Path, *, quick: bool, timeout: int = 900) -> nbformat.NotebookNode:
    """Runs the notebook of ``source`` (its ``.py``) cell by cell and returns it with its outputs.

    Args:
      source: the notebook's jupytext ``.py`` file.
      quick: run the shrunk version (``JAXGAN_NOTEBOOK_QUICK=1``).
      timeout: the most seconds one cell may take.

    Returns:
      The executed notebook.

    Raises:
      nbclient.exceptions.CellExecutionError: a cell failed (the error names the cell and its traceback).
    """
    notebook = jupytext.read(source)
    for number, cell in enumerate(notebook.cells):  # ids that do not change from one run to the next
        cell.id = f"cell-{number}"
    saved = {name: os.environ.get(name) for name in (QUICK_VARIABLE, "PYTHONPATH", "MPLBACKEND")}
    os.environ[QUICK_VARIABLE] = "1" if quick else "0"
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), saved["PYTHONPATH"]]))
    if not quick:
        os.environ.pop("MPLBACKEND", None)  # the kernel's inline backend: figures become outputs
    try:
        client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=False,
                                resources={"metadata": {"path": str(source.parent)}})
        client.execute()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return notebook


def write_pair(notebook: nbformat.NotebookNode, source: Path) -> None:
    """Writes an executed notebook as its ``.ipynb`` and its ``.py`` (the same cells, jupytext's header), as
    ``jupytext --sync`` would write them: the pair is then what ``--sync`` leaves unchanged."""
    jupytext.write(notebook, paired_ipynb(source))
    jupytext.write(notebook, source, fmt="py:percent")


def main(argv=None) -> int:
    """Executes each given notebook and writes its ``.ipynb``; prints how long each took."""
    parser = argparse.ArgumentParser(prog="python notebooks/execute.py", description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+", type=Path, help="the notebooks' .py files")
    parser.add_argument("--quick", action="store_true", help=f"the shrunk run ({QUICK_VARIABLE}=1)")
    parser.add_argument("--write", action="store_true", help="with --quick: write the .ipynb all the same")
    args = parser.parse_args(argv)
    for source in args.sources:
        if source.suffix != ".py" or not source.is_file():
            print(f"error: {source} is not a notebook's .py file; pass e.g. notebooks/toy_gan_lecture17.py",
                  file=sys.stderr)
            return 2
    for source in args.sources:
        started = time.perf_counter()
        notebook = execute(source.resolve(), quick=args.quick)
        seconds = time.perf_counter() - started
        if args.write or not args.quick:
            write_pair(notebook, source)
            print(f"{paired_ipynb(source)}: executed in {seconds:.0f} s and written")
        else:
            print(f"{source}: executed in {seconds:.0f} s (quick run, not written)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
