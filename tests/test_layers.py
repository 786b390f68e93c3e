"""The packages are layered: `core` <- `index` <- `rag` <- `ui`.

`core` (settings, errors, offline guards, the Ollama transport) imports none of the
others; `index` imports `core` but never `rag` or `ui`. Every import is read from the
source with `ast` (lazy imports inside functions, `TYPE_CHECKING` blocks, relative imports
and `importlib.import_module("...")` with a literal name included), so a new one that
breaks the layering fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> the top-level packages it must never import
FORBIDDEN = {
    "core": {"index", "rag", "ui"},
    "index": {"rag", "ui"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module name `source` (the code of `module`) imports, relative ones resolved."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: max(0, len(base) - (node.level - 1))]
                name = ".".join(part for part in [*base, node.module or ""] if part)
            else:
                name = node.module or ""
            found.add(name)
            # `from pkg import submodule` imports pkg.submodule
            found.update(f"{name}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call):
            func = node.func
            called = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            if (
                called in {"import_module", "__import__"}
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


def violations(package: str) -> list[str]:
    forbidden = FORBIDDEN[package]
    out = []
    for path in sorted((ROOT / package).rglob("*.py")):
        module = _module_name(path)
        names = imported_modules(
            path.read_text(encoding="utf-8"), module, is_package=path.name == "__init__.py"
        )
        for name in sorted(names):
            if name.split(".")[0] in forbidden:
                out.append(f"{path.relative_to(ROOT)} imports {name}")
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_upper_ones(package: str) -> None:
    files = list((ROOT / package).rglob("*.py"))
    assert files, f"no Python files found under {package}/"
    assert violations(package) == []


@pytest.mark.parametrize(
    "source",
    [
        "import rag",
        "import rag.answer as answer",
        "from rag import answer",
        "from rag.errors import X",
        "def f():\n    from ui.app import launch",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from rag.schema import P",
        "from ...rag import answer",
        "import importlib\nimportlib.import_module('rag.cli')",
    ],
)
def test_the_checker_sees_every_form_of_import(source: str) -> None:
    names = imported_modules(source, "index.sub.mod")
    assert any(name.split(".")[0] == "rag" or name.split(".")[0] == "ui" for name in names), names


def test_relative_imports_resolve_inside_the_package() -> None:
    assert "index.catalog" in imported_modules("from .catalog import Catalog", "index.ingest")
    assert "index.catalog" in imported_modules("from . import catalog", "index", is_package=True)
    assert not any(
        name.startswith("rag") for name in imported_modules("from .x import y", "index.ingest")
    )
