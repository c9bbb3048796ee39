"""The direction of imports inside mockserver/ (docs/architecture.md), read from the code itself.

Every import counts: module level, inside functions, and under `if TYPE_CHECKING:`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

LAYER_OF_PREFIX = (
    ("mockserver.http.app", "app"),  # the composition root: providers + control plane on the HTTP layer
    ("mockserver.core", "core"),
    ("mockserver.http", "http"),
    ("mockserver.providers", "providers"),
    ("mockserver.controlplane", "controlplane"),
    ("mockserver.testkit", "testkit"),
    ("mockserver.tools", "tools"),
    ("mockserver.cli", "entry"),
    ("mockserver", "entry"),  # the package's facade, mockserver/__init__.py
)
MAY_IMPORT = {
    "core": {"core"},
    "http": {"core", "http"},
    "providers": {"core", "http", "providers"},
    "controlplane": {"core", "http", "controlplane"},
    "app": {"core", "http", "providers", "controlplane"},
    "testkit": {"core", "http", "providers", "app", "testkit"},
    "tools": {"core", "http", "providers", "controlplane", "app", "testkit", "tools"},
    "entry": {"core", "http", "providers", "controlplane", "app", "testkit", "tools"},
}
"""Which layers each layer may import. Only the entry points (the CLI) reach tools/."""


def modules(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file under `package_dir` (a package named after it)."""
    found = {}
    for path in package_dir.rglob("*.py"):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """The known modules `name` imports, wherever the import statement stands."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = name if is_package else name.rpartition(".")[0]
            if node.level:
                parts = base.split(".")
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in known else module for a in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            # `from . import x` inside a package names its parent: that is no dependency on the parent.
            if target and target != name and not name.startswith(target + "."):
                yield target


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    found = modules(package_dir)
    return {name: set(imports_of(name, path, set(found))) for name, path in found.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer(module: str) -> str:
    for prefix, name in LAYER_OF_PREFIX:
        if module == prefix or module.startswith(prefix + "."):
            return name
    raise AssertionError(f"{module} belongs to no layer: add it to docs/architecture.md and LAYER_OF_PREFIX")


def violations(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if layer(target) not in MAY_IMPORT[layer(module)]:
                found.append(f"{module} ({layer(module)}) imports {target} ({layer(target)})")
    return found


def test_mockserver_imports_run_one_way() -> None:
    graph = import_graph(ROOT / "mockserver")
    assert len(graph) > 50  # the walk found the code
    assert cycles(graph) == []
    assert violations(graph) == []


def test_core_knows_no_http_and_no_provider() -> None:
    graph = import_graph(ROOT / "mockserver")
    core = {target for module, targets in graph.items() if layer(module) == "core" for target in targets}
    assert {layer(target) for target in core} <= {"core"}


def test_the_engine_and_the_judge_stand_alone() -> None:
    for package, forbidden in (("reference_engine", ("mockserver", "contracts")), ("contracts", ("mockserver",
                                                                                              "reference_engine"))):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
                assert not [n for n in names if n.split(".")[0] in forbidden], f"{path} imports {names}"


def test_mockserver_has_at_most_eight_top_level_entries() -> None:
    entries = [p.name for p in (ROOT / "mockserver").iterdir() if p.name != "__pycache__"]
    assert len(entries) <= 8, sorted(entries)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"core/__init__.py": "", "core/a.py": "from ..http import b\n", "http/__init__.py": "",
          "http/b.py": "X = 1\n"}, "violation"),
        ({"core/__init__.py": "", "core/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
          "    from . import b\n", "core/b.py": "def f():\n    from .a import x\n"}, "cycle"),
        ({"core/__init__.py": "", "core/a.py": "from . import b\n", "core/b.py": "X = 1\n"}, "clean"),
    ],
)
def test_the_checker_catches_planted_problems(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    package = tmp_path / "mockserver"
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    (package / "__init__.py").write_text("")
    graph = import_graph(package)
    found = "cycle" if cycles(graph) else "violation" if violations(graph) else "clean"
    assert found == expected
