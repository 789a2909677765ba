"""The layout the architecture promises: the package's import graph is a DAG (imports
inside functions count; ``if TYPE_CHECKING:`` blocks do not run and do not), kernels are
@njit code only, and no module outgrows one sitting."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "fastkmeans"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> set[str]:
    """Every fastkmeans module that ``path`` imports, at any depth of its code."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    modules = {_module_name(p) for p in PACKAGE.rglob("*.py")}
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "fastkmeans")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "fastkmeans":
                if node.module is not None:
                    found.add(target)
                for a in node.names:  # "from . import _minibatch" names a module
                    if f"{target}.{a.name}" in modules:
                        found.add(f"{target}.{a.name}")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return {m for m in found if m in modules and m != name}


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def test_the_import_graph_has_no_cycle():
    graph = _graph()
    state: dict[str, int] = {}
    path: list[str] = []

    def walk(m: str) -> None:
        state[m] = 1
        path.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycle = [*path[path.index(n) :], n]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if n not in state:
                walk(n)
        path.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            walk(m)


def test_the_cycle_check_sees_imports_inside_functions():
    graph = _graph()
    assert "fastkmeans._predict" in graph["fastkmeans.model"]  # inside KMeansModel.predict
    assert "fastkmeans._fit" in graph["fastkmeans.params"]  # inside KMeansParams.fit
    assert "fastkmeans.params" not in graph["fastkmeans.model"]  # only under TYPE_CHECKING


def test_lower_layers_never_reach_up():
    graph = _graph()
    for kernel in (m for m in graph if m.startswith("fastkmeans.kernels")):
        assert all(
            n.startswith("fastkmeans.kernels") or n == "fastkmeans._config" for n in graph[kernel]
        ), kernel
    for low in ("fastkmeans._assign", "fastkmeans._sources.base", "fastkmeans._sources.dask"):
        assert not graph[low] & {"fastkmeans.model", "fastkmeans.params", "fastkmeans._fit"}


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_modules_and_functions_stay_readable(path):
    lines = path.read_text().splitlines()
    assert len(lines) <= 500, f"{path.name}: {len(lines)} lines"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            doc = node.body[0]
            if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant):
                length -= doc.end_lineno - doc.lineno + 1  # the docstring does not count
            assert length <= 80, f"{path.name}:{node.name} has {length} lines of code"
            assert len(node.args.args) <= 15, f"{path.name}:{node.name} takes {len(node.args.args)}"
