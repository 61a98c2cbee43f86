"""The architecture, checked on every run: the import contracts of ``pyproject.toml`` hold, and no module
of ``jaxgan`` or ``experiments`` is part of an import cycle.

Imports inside functions count as imports (grimp, import-linter's graph library, reads every import
statement of a module), so an import moved into a function does not hide a dependency.
"""

import os
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("jaxgan", "experiments")


def strongly_connected_components(graph) -> list[list[str]]:
    """Tarjan's strongly connected components of ``graph``'s modules under "imports directly".

    Args:
        graph: a ``grimp.ImportGraph``.

    Returns:
        The components, each a sorted list of module names; a module in no cycle is a component of
        its own. Iterative, so a long import chain cannot exceed Python's recursion limit.
    """
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    for root in sorted(graph.modules):
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        while work:
            module, imported = work[-1]
            for other in imported:
                if other not in index:
                    index[other] = low[other] = len(index)
                    stack.append(other)
                    on_stack.add(other)
                    work.append((other, iter(sorted(graph.find_modules_directly_imported_by(other)))))
                    break
                if other in on_stack:
                    low[module] = min(low[module], index[other])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == module:
                            break
                    components.append(sorted(component))
    return components


def import_cycles(graph) -> list[list[str]]:
    """The components of more than one module: each is a set of modules that import one another."""
    return sorted(c for c in strongly_connected_components(graph) if len(c) > 1)


def test_the_tests_import_this_repositorys_packages():
    """``tests/jaxgan`` is the package ``tests.jaxgan``: it never shadows ``jaxgan``, and the tests (and
    the import graph below) see the packages of this checkout, not an installed copy."""
    import experiments
    import jaxgan
    import tests.jaxgan

    assert Path(jaxgan.__file__).resolve() == ROOT / "jaxgan" / "__init__.py"
    assert Path(experiments.__file__).resolve() == ROOT / "experiments" / "__init__.py"
    assert Path(tests.jaxgan.__file__).resolve() == ROOT / "tests" / "jaxgan" / "__init__.py"


def test_import_contracts_hold():
    """``lint-imports`` in the repository root: the contracts of ``[tool.importlinter]`` are kept."""
    proc = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
         "--no-cache", "--no-logo"],
        cwd=ROOT, env={**os.environ, "COLUMNS": "120"}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ", 0 broken." in proc.stdout, proc.stdout


def test_no_module_is_in_an_import_cycle():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert {"jaxgan.steps", "experiments.toy_gan"} <= graph.modules
    cycles = import_cycles(graph)
    assert not cycles, "modules that import one another: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_cycle_finder_sees_cycles_through_imports_inside_functions(tmp_path, monkeypatch):
    """A package whose ``a`` imports ``b`` inside a function and ``b`` imports ``a`` at the top: one
    cycle {a, b}; ``c`` (imported, importing nothing back) is in none."""
    package = tmp_path / "cyclic_example"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyclic_example import c\n\n\ndef f():\n    from cyclic_example import b\n")
    (package / "b.py").write_text("import cyclic_example.a\n")
    (package / "c.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("cyclic_example", cache_dir=None)
    assert import_cycles(graph) == [["cyclic_example.a", "cyclic_example.b"]]
    (package / "a.py").write_text("from cyclic_example import c\n")
    assert import_cycles(grimp.build_graph("cyclic_example", cache_dir=None)) == []
