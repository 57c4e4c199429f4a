"""The architecture's import boundaries, checked on the source (AST), so a violation fails the suite.

- The sandbox imports nothing from the portal, and the portal imports nothing from the sandbox: they meet
  only over HTTP.
- Among the portal's packages, only ``mintportal/mint/`` imports ``requests`` or ``authlib`` (the one place
  that speaks HTTP to Mint), except that ``sso/`` imports ``authlib`` (its OpenID Connect client) and nothing
  else of them.
- The portal's apps form layers, each importing only from itself, the layers below it and mintportal's core:

      mintportal (core) → accounts → workflows → privacy → journeys → savedviews → launches → approvals → bulk
      → notifications → compliance → operations

  ``sso`` depends only on accounts and the core, and nothing but the project wiring imports it. The project
  wiring (mintportal's urls, context_processors, settings, celery, wsgi and asgi modules) sits on top: it may
  import any app, and nothing imports it. Every import counts, at module level or inside a function, since an
  import hidden in a function is still a dependency (and was how cycles crept in).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PORTAL_PACKAGES = (
    "mintportal", "workflows", "privacy", "journeys", "accounts", "savedviews", "launches", "approvals", "bulk",
    "notifications", "compliance", "operations", "sso",
)
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
        elif isinstance(node, ast.Call) and (module := _dynamic_import(node)):
            roots.add(module.split(".")[0])
    return roots


def _dynamic_import(node: ast.Call) -> str | None:
    """The module ``import_module("…")`` or ``__import__("…")`` names with a string constant, else None."""
    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
    if name not in {"import_module", "__import__"} or not node.args:
        return None
    argument = node.args[0]
    return argument.value if isinstance(argument, ast.Constant) and isinstance(argument.value, str) else None


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


# The layers, lowest first: a module may import its own layer and the ones before it.
LAYERS = (
    "mintportal", "accounts", "workflows", "privacy", "journeys", "savedviews", "launches", "approvals", "bulk",
    "notifications", "compliance", "operations",
)
# Apps outside the line, and the layers each may import besides itself.
SIDE_APPS = {"sso": ("mintportal", "accounts")}
# mintportal's modules that wire the project together: they sit on top of every app.
WIRING = frozenset({"urls", "context_processors", "settings", "celery", "wsgi", "asgi"})
# Imports allowed against the order, (path, imported module) -> why. An entry whose import is gone fails the
# suite (test_every_layer_exception_is_still_needed), so the list only shrinks.
LAYER_EXCEPTIONS: dict[tuple[str, str], str] = {
    # Celery's documented Django setup: the project package loads its Celery app so that shared_task binds to it.
    ("mintportal/__init__.py", "mintportal.celery"): "permanent",
}


def layer(module: str) -> str | None:
    """The layer a dotted module belongs to: its app, "wiring" for the project wiring, None outside the portal."""
    parts = module.split(".")
    if parts[0] == "mintportal" and len(parts) > 1 and parts[1] in WIRING:
        return "wiring"
    return parts[0] if parts[0] in LAYERS or parts[0] in SIDE_APPS else None


def may_import(importer: str, imported: str) -> bool:
    if importer == imported or importer == "wiring":
        return True
    if imported == "wiring":
        return False
    if importer in SIDE_APPS:
        return imported in SIDE_APPS[importer]
    if imported in SIDE_APPS:
        return False
    return LAYERS.index(imported) < LAYERS.index(importer)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted module) for every import in ``path``: module level or not, relative ones resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path).split(".") if path.is_relative_to(ROOT) else []
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                # ``from mintportal import urls`` imports the module mintportal.urls.
                wiring = module == "mintportal" and alias.name in WIRING
                yield node.lineno, f"{module}.{alias.name}" if wiring else module
        elif isinstance(node, ast.Call) and (dynamic := _dynamic_import(node)):
            yield node.lineno, dynamic


def layer_violations() -> list[str]:
    found = []
    for package in (*LAYERS, *SIDE_APPS):
        for path in python_files(package):
            if "migrations" in path.parts:
                continue
            importer = layer(module_name(path))
            for line, module in imports(path):
                imported = layer(module)
                if importer is None or imported is None or may_import(importer, imported):
                    continue
                relative = path.relative_to(ROOT).as_posix()
                if (relative, module) in LAYER_EXCEPTIONS:
                    continue
                found.append(f"{relative}:{line}: {importer} imports {imported} ({module})")
    return found


def test_every_import_follows_the_layer_order() -> None:
    found = layer_violations()
    assert not found, "imports against the layer order:\n" + "\n".join(found)


def test_every_layer_exception_is_still_needed() -> None:
    # An exception whose import is gone must leave the list, so that it cannot quietly allow a new one.
    present = {(path.relative_to(ROOT).as_posix(), module)
               for package in (*LAYERS, *SIDE_APPS) for path in python_files(package)
               for _, module in imports(path)}
    assert sorted(set(LAYER_EXCEPTIONS) - present) == []


def test_the_layer_checker_flags_imports_against_the_order() -> None:
    assert may_import("journeys", "workflows")
    assert may_import("approvals", "launches")
    assert may_import("sso", "accounts")
    assert may_import("wiring", "operations")
    assert not may_import("accounts", "journeys")
    assert not may_import("workflows", "journeys")
    assert not may_import("mintportal", "accounts")
    assert not may_import("journeys", "wiring")
    assert not may_import("operations", "sso")
    assert not may_import("sso", "workflows")
    assert layer("mintportal.urls") == "wiring"
    assert layer("mintportal.mint.client") == "mintportal"
    assert layer("django.db") is None


def test_the_layer_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text("def f():\n    from journeys.services.sync import x\n    import launches.tasks\n"
                      "from mintportal import urls\n")
    assert sorted(module for _, module in imports(source)) == ["journeys.services.sync", "launches.tasks",
                                                               "mintportal.urls"]


def test_the_checker_sees_imports_of_every_form(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text("import requests.adapters\nfrom authlib.integrations import x\nfrom . import y\n"
                      "import importlib\nimportlib.import_module('sandbox.core')\n")
    assert imported_roots(source) == {"requests", "authlib", "importlib", "sandbox"}
