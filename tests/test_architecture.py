"""The direction of dependencies, read from the code's own imports (top-level and inside functions).

- `pcloud.core` knows no module: modules plug into it (the guard, the recorder's sink, the sidebar)
  through the application factory.
- No module imports the factory (`pcloud/__init__.py`'s create_app, MODULES...).
- A service never imports a front door (`api`, `views`, `forms`): rules flow request -> service.
- A module's front doors never import another module's front doors.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pcloud"
CORE_MAY_IMPORT = {"core", "config", "extensions"}
FRONT_DOORS = {"api", "views", "forms"}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found.extend((node.lineno, f"{node.module}.{a.name}") for a in node.names)
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names)
    return [(line, name) for line, name in found if name == "pcloud" or name.startswith("pcloud.")]


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _where(path: Path) -> tuple[str, str]:
    """(module, room) of a source file: ('users', 'service'); ('', 'cli') for top-level files."""
    rel = path.relative_to(PACKAGE).with_suffix("").parts
    return (rel[0], rel[1] if len(rel) > 1 else "__init__") if len(rel) > 1 else ("", rel[0])


def test_core_imports_no_module() -> None:
    bad = []
    for path in (PACKAGE / "core").rglob("*.py"):
        for line, name in _imports(path):
            parts = name.split(".")
            if len(parts) > 1 and parts[1] not in CORE_MAY_IMPORT:
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}")
    assert not bad, "\n".join(bad)


def test_no_module_imports_the_factory() -> None:
    factory_names = {"create_app", "MODULES", "MIGRATIONS_DIR", "TEMPLATES_DIR"}
    bad = []
    for path in _sources():
        module, _ = _where(path)
        if not module:
            continue  # cli.py and wsgi-level code may build an app
        for line, name in _imports(path):
            if name.startswith("pcloud.") and name.split(".", 1)[1] in factory_names:
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}")
    assert not bad, "\n".join(bad)


def test_services_and_models_import_no_front_door() -> None:
    bad = []
    for path in _sources():
        module, room = _where(path)
        if room in FRONT_DOORS or not module:
            continue
        for line, name in _imports(path):
            parts = name.split(".")
            if len(parts) > 2 and parts[1] != "core" and parts[2] in FRONT_DOORS:
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}")
    assert not bad, "\n".join(bad)


def test_front_doors_do_not_import_other_modules_front_doors() -> None:
    bad = []
    for path in _sources():
        module, room = _where(path)
        if room not in FRONT_DOORS:
            continue
        for line, name in _imports(path):
            parts = name.split(".")
            if len(parts) > 2 and parts[1] not in (module, "core") and parts[2] in FRONT_DOORS:
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}")
    assert not bad, "\n".join(bad)
