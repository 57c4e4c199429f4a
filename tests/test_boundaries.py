"""The architecture's import boundaries, checked on the source (AST), so a violation fails the suite.

- The sandbox imports nothing from the portal, and the portal imports nothing from the sandbox: they meet
  only over HTTP.
- Among the portal's packages, only ``mintportal/mint/`` imports ``requests`` or ``authlib`` (the one place
  that speaks HTTP to Mint), except that ``sso/`` imports ``authlib`` (its OpenID Connect client) and nothing
  else of them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PORTAL_PACKAGES = ("mintportal", "workflows", "journeys", "accounts", "launches", "approvals", "operations", "sso")
HTTP_LIBRARIES = ("requests", "authlib")
MINT_CLIENT = ROOT / "mintportal" / "mint"
# What each package may import of HTTP_LIBRARIES besides the Mint client: single sign-on speaks OpenID Connect
# through authlib, but never requests directly.
HTTP_ALLOWED = {"sso": ("authlib",)}


def python_files(package: str) -> Iterator[Path]:
    yield from sorted((ROOT / package).rglob("*.py"))


def imported_roots(path: Path) -> set[str]:
    """The top-level package of every module ``path`` imports (absolute imports; relative ones stay inside)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            roots.add(node.args[0].value.split(".")[0])  # type: ignore[attr-defined]
    return roots


def _is_dynamic_import(node: ast.Call) -> bool:
    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
    return (name in {"import_module", "__import__"} and bool(node.args)
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str))


def violations(packages: tuple[str, ...], forbidden: tuple[str, ...], *, skip: Path | None = None) -> list[str]:
    found = []
    for package in packages:
        for path in python_files(package):
            if skip is not None and path.is_relative_to(skip):
                continue
            for root in sorted(imported_roots(path) & set(forbidden)):
                found.append(f"{path.relative_to(ROOT)} imports {root}")
    return found


def test_the_sandbox_imports_nothing_from_the_portal() -> None:
    assert violations(("sandbox",), PORTAL_PACKAGES) == []


@pytest.mark.parametrize("package", PORTAL_PACKAGES)
def test_the_portal_imports_nothing_from_the_sandbox(package: str) -> None:
    assert violations((package,), ("sandbox",)) == []


@pytest.mark.parametrize("package", PORTAL_PACKAGES)
def test_only_the_mint_client_imports_http_libraries(package: str) -> None:
    forbidden = tuple(library for library in HTTP_LIBRARIES if library not in HTTP_ALLOWED.get(package, ()))
    assert violations((package,), forbidden, skip=MINT_CLIENT) == []


def test_single_sign_on_uses_authlib_and_only_through_its_client_module() -> None:
    # The exception above is kept narrow: one module of sso/ speaks to the provider, and it does use authlib.
    importers = [path.relative_to(ROOT).as_posix() for path in python_files("sso")
                 if "authlib" in imported_roots(path)]
    assert importers == ["sso/client.py"]


def test_the_checker_sees_imports_of_every_form(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text("import requests.adapters\nfrom authlib.integrations import x\nfrom . import y\n"
                      "import importlib\nimportlib.import_module('sandbox.core')\n")
    assert imported_roots(source) == {"requests", "authlib", "importlib", "sandbox"}
