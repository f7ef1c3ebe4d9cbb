"""The architecture rules that keep the core pure (STYLE.md conventions 1-3), checked on the source itself."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "monitor"
FORBIDDEN = ("playwright", "sqlalchemy", "alembic", "apprise", "fastapi", "starlette", "uvicorn")
PURE_CORE = ("monitor.domain", "monitor.classify", "monitor.catalog.schema", "monitor.chain", "monitor.alerts")
PURE = tuple(name for name in PURE_CORE if importlib.util.find_spec(name) is not None)
PLATFORM_FILES = sorted(p for p in (PACKAGE / "platforms").glob("*.py"))


def source(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    assert spec is not None, module
    assert spec.origin is not None, module
    return Path(spec.origin)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(path: Path) -> Iterator[tuple[str, bool]]:
    """(imported module, whether only under `if TYPE_CHECKING:`) for every import statement of a file."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    yield from imports_in(ast.parse(path.read_text(encoding="utf-8")), package)


def imports_in(tree: ast.AST, package: str) -> Iterator[tuple[str, bool]]:
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and _is_type_checking(node.test)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, id(node) in typing_only) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield _absolute(node, package), id(node) in typing_only


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    base = package.rsplit(".", node.level - 1)[0]
    return f"{base}.{node.module}" if node.module else base


def top(name: str) -> str:
    return name.split(".")[0]


def loaded_by(module: str) -> set[str]:
    """Top-level packages in sys.modules after importing module in a fresh interpreter."""
    code = f"import importlib, sys; importlib.import_module({module!r}); print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return {top(name) for name in out.stdout.split()}


def test_the_pure_core_is_there() -> None:
    assert set(PURE_CORE) - set(PURE) <= {"monitor.alerts"}


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_no_browser_database_notifier_or_web(module: str) -> None:
    direct = {top(name) for name, _ in imports(source(module))}
    assert not direct & set(FORBIDDEN)


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_load_none_of_them_even_indirectly(module: str) -> None:
    assert not loaded_by(module) & set(FORBIDDEN)


@pytest.mark.parametrize("path", PLATFORM_FILES, ids=lambda p: p.name)
def test_platform_modules_import_playwright_only_for_type_checking(path: Path) -> None:
    runtime = {top(name) for name, typing_only in imports(path) if not typing_only}
    assert "playwright" not in runtime
    assert not runtime & {"sqlalchemy", "alembic", "apprise", "fastapi", "starlette", "uvicorn"}


def test_the_platform_registry_loads_without_playwright() -> None:
    assert "playwright" not in loaded_by("monitor.platforms")


def test_the_engine_knows_no_particular_platform() -> None:
    """Adding a platform never touches runner, scheduler, storage or web: they go through the registry."""
    particular = {f"monitor.platforms.{p.stem}" for p in PLATFORM_FILES} - {
        "monitor.platforms.__init__",
        "monitor.platforms.base",
    }
    offenders = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in PACKAGE.rglob("*.py")
        if path.parent != PACKAGE / "platforms"
        for name, _ in imports(path)
        if name in particular
    ]
    assert offenders == []


def test_the_walker_sees_type_checking_blocks() -> None:
    tree = ast.parse(
        "import os\nif TYPE_CHECKING:\n    from playwright.async_api import Page\nelse:\n    import json\n"
        "def f():\n    from .base import Platform\n"
    )
    found = sorted(imports_in(tree, "monitor.platforms"))
    assert found == [("json", False), ("monitor.platforms.base", False), ("os", False), ("playwright.async_api", True)]
