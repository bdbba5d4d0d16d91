"""``__version__`` comes from the ground-level fraud_jlab.version, never from the package root."""

from __future__ import annotations

import ast
from pathlib import Path

import fraud_jlab
from fraud_jlab import version

PACKAGE = Path(fraud_jlab.__file__).resolve().parent


def _imports_root_version(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "fraud_jlab"
            and node.level == 0
            and any(alias.name == "__version__" for alias in node.names)
        ):
            return True
        if isinstance(node, ast.Import) and any(a.name == "fraud_jlab" for a in node.names):
            return True
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "__version__"
            and isinstance(node.value, ast.Name)
            and node.value.id == "fraud_jlab"
        ):
            return True
    return False


def test_no_module_below_the_root_imports_the_root_for_its_version() -> None:
    offenders = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if path.parent != PACKAGE and _imports_root_version(ast.parse(path.read_text()))
    ]
    assert offenders == []


def test_the_root_reexports_the_ground_level_version() -> None:
    assert fraud_jlab.__version__ == version.__version__ and version.__version__
