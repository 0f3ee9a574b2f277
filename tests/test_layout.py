"""Guard the package layering and the absence of import cycles.

The first-party packages form a strict stack, lowest to highest::

    data  <  signals  <  strategies  <  engine  <  flowbt

A module may import modules from its own layer or from lower layers, never from a higher
one (``bench/`` and ``tests/`` sit above everything and are not scanned). The layer of a
module is the first component of its dotted name.

On top of the layering, the module-level import graph must be acyclic: two modules that
import each other (directly or through a chain) are one module in disguise and make import
order fragile.

Everything here is read with :mod:`ast`; the code under test is never imported. *Every*
``import`` / ``from ... import`` node counts: module level, inside functions and classes,
under ``if TYPE_CHECKING:`` and inside ``try`` blocks. A lazy import still couples the two
modules, so it has to respect the same rules.

The scanner functions take the repository root as an argument so the tests at the bottom
can check the scanner itself against small fake trees written to ``tmp_path``.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: First-party layers, lowest first.
LAYERS: tuple[str, ...] = ("data", "signals", "strategies", "engine", "flowbt")
RANK: dict[str, int] = {name: rank for rank, name in enumerate(LAYERS)}

#: Folders (relative to the root) that hold no code worth scanning.
SKIP_DIRS: tuple[tuple[str, ...], ...] = (("data", "bundled"),)


@dataclass(frozen=True, order=True)
class Import:
    """One first-party import edge: ``source`` (in ``path`` at ``line``) imports ``target``."""

    source: str
    target: str
    path: str  # relative to the scanned root, POSIX style
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.target}"


# --------------------------------------------------------------------------------------------
# scanning


def _skipped(rel: Path) -> bool:
    parts = rel.parts
    if "__pycache__" in parts:
        return True
    return any(parts[: len(skip)] == skip for skip in SKIP_DIRS)


def module_name(rel: Path) -> str:
    """Dotted module name of a file path relative to the root (``pkg/__init__.py`` -> ``pkg``)."""
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def find_modules(root: Path) -> dict[str, Path]:
    """Every module under the layer packages that exist in ``root``, by dotted name."""
    modules: dict[str, Path] = {}
    for layer in LAYERS:
        base = root / layer
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(root)
            if not _skipped(rel):
                modules[module_name(rel)] = path
    return modules


def _package_of(module: str, path: Path) -> str:
    """The package a module's relative imports are resolved against."""
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _absolute(node: ast.ImportFrom, module: str, path: Path) -> str | None:
    """The absolute dotted name ``from <this> import ...`` refers to (``None`` if unresolvable)."""
    if node.level == 0:
        return node.module
    package = _package_of(module, path).split(".")
    if node.level - 1 > len(package) - 1:
        return None  # climbs above the top-level package: not a valid import anyway
    base = package[: len(package) - (node.level - 1)]
    if node.module:
        base = [*base, *node.module.split(".")]
    return ".".join(base)


def _most_specific(name: str, modules: dict[str, Path]) -> str:
    """The longest prefix of ``name`` that is a module in the tree (``name`` itself if none)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return name


def _targets(
    node: ast.Import | ast.ImportFrom, module: str, path: Path, modules: dict[str, Path]
) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield _most_specific(alias.name, modules)
        return
    base = _absolute(node, module, path)
    if base is None or base == "__future__":
        return
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        if alias.name != "*" and submodule in modules:
            yield submodule
        else:
            yield _most_specific(base, modules)


def scan_imports(root: Path) -> list[Import]:
    """All first-party imports of every scanned module under ``root``, sorted.

    Imports of anything outside the layer packages (stdlib, numpy, ...) are dropped, and so
    are self-imports (a package ``__init__`` importing a name from itself).
    """
    modules = find_modules(root)
    found: set[Import] = set()
    for module, path in modules.items():
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in _targets(node, module, path, modules):
                if target.split(".")[0] in RANK and target != module:
                    found.add(Import(module, target, rel, node.lineno))
    return sorted(found)


# --------------------------------------------------------------------------------------------
# checks


def layer_violations(imports: Iterable[Import]) -> list[Import]:
    """Imports whose target sits in a higher layer than the importing module."""
    return [
        imp for imp in imports if RANK[imp.target.split(".")[0]] > RANK[imp.source.split(".")[0]]
    ]


def import_graph(imports: Iterable[Import]) -> dict[str, set[str]]:
    """Module -> the modules it imports (every module seen appears as a key)."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        graph.setdefault(imp.source, set()).add(imp.target)
        graph.setdefault(imp.target, set())
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), each sorted, singletons included."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0

    for start in sorted(graph):
        if start in index:
            continue
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def cycle_path(graph: dict[str, set[str]], members: Iterable[str]) -> list[str]:
    """A shortest concrete cycle through the first member, staying inside the component."""
    inside = set(members)
    start = min(inside)
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph.get(node, ())):
            if child not in inside:
                continue
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    return [start]  # unreachable for a real component of two or more modules


def import_cycles(imports: Iterable[Import]) -> list[list[str]]:
    """Every import circle as a concrete path (first module repeated at the end)."""
    graph = import_graph(imports)
    cycles = [
        cycle_path(graph, component)
        for component in strongly_connected(graph)
        if len(component) > 1
    ]
    return sorted(cycles)


def describe_cycles(imports: Iterable[Import]) -> list[str]:
    """One readable line per import circle."""
    graph = import_graph(imports)
    lines = []
    for component in strongly_connected(graph):
        if len(component) < 2:
            continue
        path = cycle_path(graph, component)
        line = " -> ".join(path)
        if len(component) > len(path) - 1:  # the path does not visit every member
            line += f"   (component of {len(component)}: {', '.join(component)})"
        lines.append(line)
    return sorted(lines)


# --------------------------------------------------------------------------------------------
# the guard on the real tree


def test_scanner_sees_the_real_packages() -> None:
    modules = find_modules(REPO)
    for layer in LAYERS:
        if (REPO / layer).is_dir():
            assert layer in modules, f"{layer}/__init__.py not found by the scanner"
    assert not any(name.startswith("data.bundled") for name in modules)


def test_no_upward_imports() -> None:
    violations = layer_violations(scan_imports(REPO))
    assert not violations, (
        f"{len(violations)} import(s) reach a higher layer "
        f"(allowed direction: {' <- '.join(LAYERS)}):\n" + "\n".join(map(str, violations))
    )


def test_no_import_cycles() -> None:
    cycles = describe_cycles(scan_imports(REPO))
    assert not cycles, f"{len(cycles)} import circle(s):\n" + "\n".join(cycles)


# --------------------------------------------------------------------------------------------
# self-tests of the scanner on fake trees


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


CLEAN_TREE: dict[str, str] = {
    "data/__init__.py": "from __future__ import annotations\nfrom data.core import load\n",
    "data/core.py": "import json\nimport numpy as np\n\ndef load():\n    return np, json\n",
    "data/bundled/junk.py": "import engine\n",  # skipped folder
    "data/__pycache__/stale.py": "import engine\n",  # skipped folder
    "signals/__init__.py": (
        "from signals.registry import register\nfrom signals import helper\n\n"
        "def helper():\n    return register\n"
    ),
    "signals/registry.py": "from data import load\nimport data.core\n\ndef register():\n    return load\n",
    "engine/__init__.py": "",
    "engine/run.py": (
        "from typing import TYPE_CHECKING\n"
        "from . import sim\n"
        "from .sim import step\n"
        "import signals.registry\n"
        "if TYPE_CHECKING:\n    import strategies.base\n"
    ),
    "engine/sim.py": "import pandas.api.types\n\ndef step():\n    import data.core\n",
    "strategies/__init__.py": "",
    "strategies/base.py": "from signals import registry\n",
    "bench/speed.py": "import engine.run\nimport flowbt\n",  # not scanned
}


def test_clean_fake_tree_has_nothing_to_report(tmp_path: Path) -> None:
    root = _write(tmp_path, CLEAN_TREE)
    imports = scan_imports(root)
    assert layer_violations(imports) == []
    assert import_cycles(imports) == []
    assert describe_cycles(imports) == []
    assert set(find_modules(root)) == {
        "data",
        "data.core",
        "signals",
        "signals.registry",
        "engine",
        "engine.run",
        "engine.sim",
        "strategies",
        "strategies.base",
    }


def test_clean_fake_tree_resolves_targets(tmp_path: Path) -> None:
    root = _write(tmp_path, CLEAN_TREE)
    edges = {(imp.source, imp.target) for imp in scan_imports(root)}
    assert edges == {
        ("data", "data.core"),
        # `from signals import helper` in signals/__init__.py is a self-import: dropped
        ("signals", "signals.registry"),
        ("signals.registry", "data"),  # `from data import load`: load is no module
        ("signals.registry", "data.core"),
        ("engine.run", "engine.sim"),  # both `from . import sim` and `from .sim import step`
        ("engine.run", "signals.registry"),
        ("engine.run", "strategies.base"),  # under TYPE_CHECKING, still counted
        ("engine.sim", "data.core"),  # inside a function, still counted
        ("strategies.base", "signals.registry"),  # `from signals import registry`: a module
    }


DIRTY_TREE: dict[str, str] = {
    "data/__init__.py": "",
    "data/a.py": (
        "import os\n\ndef late():\n    from engine.x import thing\n    return thing, os\n"
    ),
    "engine/__init__.py": "",
    "engine/x.py": "from engine.y import other\n\nthing = 1\n",
    "engine/y.py": (
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n\n"
        "if TYPE_CHECKING:\n"
        "    from engine import x\n\n"
        "other = 2\n"
    ),
    "signals/__init__.py": "",
    "signals/deep/__init__.py": "",
    "signals/deep/p.py": "try:\n    from ..deep.q import z\nexcept ImportError:\n    z = None\n",
    "signals/deep/q.py": "from . import p\nz = 3\n",
    "strategies/__init__.py": "",
    "strategies/s.py": "import data.a.nothing_there\nimport flowbt.api\n",
}


def test_dirty_fake_tree_upward_imports(tmp_path: Path) -> None:
    root = _write(tmp_path, DIRTY_TREE)
    violations = layer_violations(scan_imports(root))
    assert [str(v) for v in violations] == [
        "data/a.py:4 imports engine.x",
        # flowbt/ does not exist in this tree, an import of it is still an upward one
        "strategies/s.py:2 imports flowbt.api",
    ]


def test_dirty_fake_tree_cycles(tmp_path: Path) -> None:
    root = _write(tmp_path, DIRTY_TREE)
    imports = scan_imports(root)
    assert import_cycles(imports) == [
        ["engine.x", "engine.y", "engine.x"],
        ["signals.deep.p", "signals.deep.q", "signals.deep.p"],
    ]
    assert describe_cycles(imports) == [
        "engine.x -> engine.y -> engine.x",
        "signals.deep.p -> signals.deep.q -> signals.deep.p",
    ]
    # `import data.a.nothing_there` points at the most specific existing module only
    assert ("strategies.s", "data.a") in {(i.source, i.target) for i in imports}
    assert not any(i.target == "data" for i in imports)


def test_long_cycle_is_reported_as_one_path(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "engine/__init__.py": "",
            "engine/a.py": "import engine.b\n",
            "engine/b.py": "import engine.c\nimport engine.d\n",
            "engine/c.py": "import engine.a\n",
            "engine/d.py": "import engine.b\n",
        },
    )
    imports = scan_imports(root)
    assert import_cycles(imports) == [["engine.a", "engine.b", "engine.c", "engine.a"]]
    assert describe_cycles(imports) == [
        "engine.a -> engine.b -> engine.c -> engine.a"
        "   (component of 4: engine.a, engine.b, engine.c, engine.d)"
    ]


@pytest.mark.parametrize(
    ("rel", "source", "expected"),
    [
        ("engine/x.py", "from . import y", "engine.y"),
        ("engine/x.py", "from .y import f", "engine.y"),
        ("engine/x.py", "from . import f", "engine"),  # f is a name in engine/__init__.py
        ("engine/sub/__init__.py", "from . import m", "engine.sub.m"),
        ("engine/sub/__init__.py", "from .. import y", "engine.y"),
        ("engine/sub/m.py", "from ..y import f", "engine.y"),
        ("engine/sub/m.py", "from ...data import f", None),  # climbs out of the package
        ("engine/x.py", "import engine.sub.m.f", "engine.sub.m"),
        ("engine/x.py", "from engine.sub import *", "engine.sub"),
    ],
)
def test_relative_and_dotted_resolution(
    tmp_path: Path, rel: str, source: str, expected: str | None
) -> None:
    tree = {
        "engine/__init__.py": "f = 1\n",
        "engine/y.py": "f = 1\n",
        "engine/sub/__init__.py": "",
        "engine/sub/m.py": "f = 1\n",
        "engine/x.py": "",
    }
    tree[rel] = source + "\n"
    root = _write(tmp_path, tree)
    found = [imp.target for imp in scan_imports(root) if imp.path == rel]
    assert found == ([] if expected is None else [expected])
