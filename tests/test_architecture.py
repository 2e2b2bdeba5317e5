"""The direction of dependencies, read from the code's own imports (top-level and inside functions).

- `pcloud.core` knows no module: modules plug into it (the guard, the recorder's sink, the sidebar)
  through the application factory.
- No module imports the factory (`pcloud/__init__.py`'s create_app, MODULES...).
- A service never imports a front door (`api`, `views`, `forms`): rules flow request -> service.
- A module's front doors never import another module's front doors.
- Packages depend in one direction: each imports only packages listed below it in `pcloud.PACKAGE_ORDER`
  (the order in `pcloud/__init__.py`'s docstring), whether the import sits at the top of a file or inside
  a function. The models (every `<module>/models.py` and `pcloud/models.py`) are one level just above core,
  so any service may query any table; a model imports only core and models.
- A page or API (`views`, `api`) reads another module's tables only through that module's service.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pcloud import PACKAGE_ORDER

pytestmark = pytest.mark.no_database

PACKAGE = Path(__file__).resolve().parent.parent / "pcloud"
CORE_MAY_IMPORT = {"core", "config", "extensions"}
FRONT_DOORS = {"api", "views", "forms"}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module != "pcloud":  # `from pcloud import users` names the package users, not the factory
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


def _is_factory(name: str) -> bool:
    """Does the imported name reach the factory (`import pcloud`, `from pcloud import create_app`), rather than a
    package or module inside it (`from pcloud import users`, `import pcloud.models`)?"""
    parts = name.split(".")
    return len(parts) == 1 or (len(parts) == 2 and not (PACKAGE / parts[1]).is_dir()
                               and not (PACKAGE / f"{parts[1]}.py").is_file())


def test_no_module_imports_the_factory() -> None:
    """Only the entry points (wsgi.py, the console script's `pcloud.main`) build an app; cli.py included,
    no file of the package imports the factory."""
    bad = []
    for path in _sources():
        if path == PACKAGE / "__init__.py":
            continue
        for line, name in _imports(path):
            if _is_factory(name):
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


def _is_models(name: str) -> bool:
    """`pcloud.models`, `pcloud.users.models` or a name imported from one (`pcloud.users.models.User`)."""
    parts = name.split(".")[1:]
    return parts[:1] == ["models"] or (len(parts) > 1 and parts[0] != "core" and parts[1] == "models")


def _level(name: str) -> int | None:
    """Position of a dotted module name (`pcloud.users.service`) in PACKAGE_ORDER: the factory's imports are
    its level, models are the models' level; else the longest listed prefix wins (`jobs.worker` is listed
    apart from `jobs`)."""
    if _is_factory(name):
        return PACKAGE_ORDER.index("factory")
    parts = name.split(".")[1:]
    if parts and parts[0] in CORE_MAY_IMPORT:
        return PACKAGE_ORDER.index("core")  # config.py and extensions.py are the core's level
    if _is_models(name):
        return PACKAGE_ORDER.index("models")
    for size in range(len(parts), 0, -1):
        key = ".".join(parts[:size])
        if key in PACKAGE_ORDER:
            return PACKAGE_ORDER.index(key)
    return None


def _file_level(path: Path) -> int | None:
    rel = path.relative_to(PACKAGE).with_suffix("").parts
    name = "pcloud." + ".".join(rel[:-1] if rel[-1] == "__init__" else rel)
    return PACKAGE_ORDER.index("factory") if name == "pcloud." else _level(name)


def test_every_package_has_a_place_in_the_order() -> None:
    missing = sorted({str(p.relative_to(PACKAGE)) for p in _sources() if _file_level(p) is None})
    assert not missing, f"add these to PACKAGE_ORDER in pcloud/__init__.py: {missing}"


def test_packages_import_only_packages_below_them() -> None:
    bad = []
    for path in _sources():
        mine = _file_level(path)
        assert mine is not None
        for line, name in _imports(path):
            theirs = _level(name)
            if theirs is None or theirs <= mine:
                continue
            bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} ({PACKAGE_ORDER[mine]}) imports {name} "
                       f"({PACKAGE_ORDER[theirs]}, higher)")
    assert not bad, "\n".join(bad)


def test_the_order_check_sees_function_local_imports(tmp_path: Path) -> None:
    """The parser finds an import inside a function, so hiding a cycle there does not get past the check."""
    source = tmp_path / "x.py"
    source.write_text("def f():\n    from pcloud.users import service\n    return service\n", encoding="utf-8")
    assert (2, "pcloud.users") in _imports(source)
    assert _level("pcloud.users.service") > _level("pcloud.depts.service")  # type: ignore[operator]


def test_models_sit_just_above_core() -> None:
    """A service below users may read the users' table (no plug from above), and a model is below every service."""
    assert _level("pcloud.users.models.User") < _level("pcloud.roles.service") < _level("pcloud.users")  # type: ignore[operator]
    assert _level("pcloud.models") == _level("pcloud.jobs.models") == PACKAGE_ORDER.index("core") + 1
    assert _level("pcloud.core.models") == PACKAGE_ORDER.index("core")


def test_the_order_check_sees_imports_of_the_factory(tmp_path: Path) -> None:
    """`import pcloud` and `from pcloud import create_app` are imports of the factory, the top of the order;
    `from pcloud import users` is not."""
    source = tmp_path / "x.py"
    source.write_text("import pcloud\nfrom pcloud import create_app\nfrom pcloud import users\n", encoding="utf-8")
    found = _imports(source)
    assert [name for _, name in found if _is_factory(name)] == ["pcloud", "pcloud.create_app"]
    assert _level("pcloud.create_app") == _level("pcloud") == PACKAGE_ORDER.index("factory")
    assert _level("pcloud.users") == PACKAGE_ORDER.index("users")


def test_pages_and_apis_do_not_import_other_modules_models() -> None:
    bad = []
    for path in _sources():
        module, room = _where(path)
        if room not in {"api", "views"}:
            continue
        for line, name in _imports(path):
            parts = name.split(".")
            if _is_models(name) and len(parts) > 2 and parts[1] != module:
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}")
    assert not bad, "\n".join(bad)


def test_no_two_files_import_each_other() -> None:
    """No import circle between files, through any number of steps (as jobs/handlers.py <-> jobs/service.py,
    or the factory <-> cli.py, once were): each file can be read knowing only what it imports."""
    files = {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
             for p in _sources()}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        graph[name] = set()
        for _, imported in _imports(path):
            parts = imported.split(".")
            target = next((".".join(parts[:k]) for k in range(len(parts), 0, -1) if ".".join(parts[:k]) in files),
                          None)
            if target and target != name:
                graph[name].add(target)
    circles = []
    for start in graph:  # a depth-first walk from each file back to itself: small graph, plain search
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    circles.append(" -> ".join([*path, start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    assert not circles, "\n".join(sorted(set(circles)))


def test_every_paged_list_page_goes_to_its_last_page_past_the_end() -> None:
    """A page view that reads a page number (core.pages.list_args) sends a number past the last page to the last
    page (core.pages.past_the_end), as docs/UX.md says: three lists had been missed (a review)."""
    missing = []
    for path in sorted(PACKAGE.glob("*/views.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                called = {call.func.id for call in ast.walk(node)
                          if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)}
                if "list_args" in called and "past_the_end" not in called:
                    missing.append(f"{path.parent.name}.views.{node.name}")
    assert not missing, missing
