"""The import graph of ``fraud_jlab``, read from the AST of every module (lazy imports included).

* No cycle between packages (a package is the first level below ``fraud_jlab``: ``tracking``,
  ``promotion``, ...; a top-level module such as ``errors.py`` is a package of its own).
* The core -- everything except ``server/``, ``magic/``, ``widgets/`` and ``demo/`` -- imports
  no tornado, Jupyter, ipywidgets or IPython, so it runs in a plain Python process.
* Nothing below the root imports the package root ``fraud_jlab`` itself (``import fraud_jlab``,
  ``from fraud_jlab import name`` for a name that is not a submodule): the root re-exports from
  below, so an arrow from below back up to it is a cycle through ``__init__``.

``TYPE_CHECKING``-only imports count too: they are arrows a reader follows all the same.

``KNOWN_BACK_ARROWS`` and ``KNOWN_ROOT_IMPORTS`` list the violations that exist today, each with
its reason; the tests require the lists to be exact, so a new violation fails and so does a fixed
one that is still listed (remove it then).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "fraud_jlab"
PACKAGE = "fraud_jlab"
#: The outer layer: these may use Jupyter, tornado, ipywidgets and IPython.
UI_PACKAGES = frozenset({"server", "magic", "widgets", "demo"})
#: Top-level import names the core must not use.
UI_LIBRARIES = (
    "tornado",
    "jupyter",
    "jupyter_server",
    "jupyter_core",
    "jupyter_client",
    "jupyterlab",
    "ipywidgets",
    "IPython",
    "ipykernel",
    "notebook",
)


#: Package arrows that close a cycle today, and why they are not yet removed.
KNOWN_BACK_ARROWS: dict[tuple[str, str], str] = {}
#: Modules below the root that import the root, and why.
KNOWN_ROOT_IMPORTS: dict[str, str] = {}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported module, dotted (absolute)
    line: int


def module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def imports_of(
    source: str, module: str, is_package: bool, submodules: frozenset[str]
) -> Iterator[Import]:
    """Every import in ``source`` (module ``module``), resolved to absolute dotted names.

    ``from pkg import name`` yields ``pkg.name`` when that is a module in ``submodules``,
    else ``pkg``.
    """
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = (
                _resolve(module, is_package, node.level, node.module)
                if node.level
                else node.module or ""
            )
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield Import(module, candidate if candidate in submodules else base, node.lineno)


def scan(root: Path) -> list[Import]:
    files = sorted(p for p in root.rglob("*.py") if "labextension" not in p.parts)
    names = {p: module_name(p, root) for p in files}
    submodules = frozenset(names.values())
    found: list[Import] = []
    for path, name in names.items():
        found.extend(
            imports_of(
                path.read_text(encoding="utf-8"), name, path.name == "__init__.py", submodules
            )
        )
    return found


def package_of(module: str) -> str | None:
    """``fraud_jlab.tracking.sqlite.store`` -> ``tracking``; the root -> ``None``."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        raise ValueError(module)
    return parts[1] if len(parts) > 1 else None


def package_edges(found: list[Import]) -> dict[tuple[str, str], list[Import]]:
    edges: dict[tuple[str, str], list[Import]] = {}
    for imp in found:
        if imp.target.split(".")[0] != PACKAGE:
            continue
        src, dst = package_of(imp.module), package_of(imp.target)
        if src is None or dst is None or src == dst:
            continue
        edges.setdefault((src, dst), []).append(imp)
    return edges


def cycles(edges: Mapping[tuple[str, str], object]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    graph: dict[str, list[str]] = {}
    for a, b in edges:
        graph.setdefault(a, []).append(b)
        graph.setdefault(b, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(result)


def _where(imps: list[Import]) -> str:
    return ", ".join(f"{i.module}:{i.line} -> {i.target}" for i in imps[:3])


@pytest.fixture(scope="module")
def found() -> list[Import]:
    return scan(ROOT)


def test_no_cycle_between_packages(found: list[Import]) -> None:
    edges = package_edges(found)
    assert set(KNOWN_BACK_ARROWS) <= set(edges), "a known back arrow is gone: unlist it"
    edges = {arrow: imps for arrow, imps in edges.items() if arrow not in KNOWN_BACK_ARROWS}
    problems = []
    for component in cycles(edges):
        arrows = [
            f"{a} -> {b} ({_where(imps)})"
            for (a, b), imps in sorted(edges.items())
            if a in component and b in component
        ]
        problems.append(f"cycle {component}: " + "; ".join(arrows))
    assert problems == []


def test_the_core_imports_no_jupyter_tornado_or_widgets(found: list[Import]) -> None:
    bad = [
        f"{imp.module}:{imp.line} imports {imp.target}"
        for imp in found
        if package_of(imp.module) not in UI_PACKAGES and imp.target.split(".")[0] in UI_LIBRARIES
    ]
    assert bad == []


def test_nothing_below_the_root_imports_the_root(found: list[Import]) -> None:
    importers = {imp.module for imp in found if imp.module != PACKAGE and imp.target == PACKAGE}
    assert sorted(importers) == sorted(KNOWN_ROOT_IMPORTS)


# --- the checks can fail ------------------------------------------------------------------------


def _fake_package(tmp_path: Path, files: Mapping[str, str]) -> list[Import]:
    root = tmp_path / PACKAGE
    for rel, text in {"__init__.py": "", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return scan(root)


def test_a_cycle_through_a_lazy_relative_import_is_found(tmp_path: Path) -> None:
    found = _fake_package(
        tmp_path,
        {
            "a/__init__.py": "",
            "a/x.py": "from fraud_jlab.b import y\n",
            "b/__init__.py": "",
            "b/y.py": "def f() -> None:\n    from ..a import x\n",
            "c.py": "from fraud_jlab.a import x\n",
        },
    )
    assert cycles(package_edges(found)) == [["a", "b"]]


def test_a_ui_import_in_the_core_and_an_import_of_the_root_are_found(tmp_path: Path) -> None:
    found = _fake_package(
        tmp_path,
        {
            "core/__init__.py": "",
            "core/m.py": "import tornado.web\nfrom fraud_jlab import __version__\n",
            "core/n.py": "from fraud_jlab import core\nfrom . import m\n",
            "server/h.py": "from jupyter_server.base.handlers import APIHandler\n",
        },
    )
    ui = [i for i in found if i.target.split(".")[0] in UI_LIBRARIES]
    assert [(i.module, package_of(i.module) in UI_PACKAGES) for i in ui] == [
        ("fraud_jlab.core.m", False),
        ("fraud_jlab.server.h", True),
    ]
    assert [i.module for i in found if i.target == PACKAGE] == ["fraud_jlab.core.m"]


# --- the README's "parts" table -----------------------------------------------------------------

README = ROOT.parent / "README.md"


def readme_parts(text: str) -> dict[str, set[str]]:
    """``package -> may import`` from the README's "parts" table (rows naming ``fraud_jlab.x``)."""
    section = text.split("## The parts", 1)[1].split("\n## ", 1)[0]
    parts: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`fraud_jlab."):
            continue
        name = cells[0].strip("`").split(".", 1)[1]
        # "modelstore (only ...)": the first backticked word of each comma-separated item
        parts[name] = {m.group(1) for m in re.finditer(r"`(\w+)`", cells[2])}
    return parts


def test_the_readme_parts_table_matches_the_packages_and_their_imports(
    found: list[Import],
) -> None:
    parts = readme_parts(README.read_text(encoding="utf-8"))
    packages = {
        p.stem if p.is_file() else p.name
        for p in ROOT.iterdir()
        if (p.suffix == ".py" and p.name != "__init__.py" and not p.name.startswith("_"))
        or (p.is_dir() and (p / "__init__.py").exists())
    }
    assert set(parts) == packages
    extra = {f"{a} -> {b}" for (a, b) in package_edges(found) if b not in parts.get(a, set())}
    assert extra == set(), "imports the README's parts table does not allow"


def test_an_import_the_table_does_not_allow_is_found(tmp_path: Path) -> None:
    found = _fake_package(tmp_path, {"a.py": "from fraud_jlab import b\n", "b.py": ""})
    table = (
        "## The parts\n\n| package | what | may import |\n|---|---|---|\n"
        "| `fraud_jlab.a` | A | — |\n| `fraud_jlab.b` | B | `a` (only for `x.y`) |\n\n## Next\n"
    )
    parts = readme_parts(table)
    assert parts == {"a": set(), "b": {"a"}}
    assert [arrow for arrow in package_edges(found) if arrow[1] not in parts[arrow[0]]] == [
        ("a", "b")
    ]
