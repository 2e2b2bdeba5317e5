"""A wheel of the project, installed away from this checkout, migrates and serves pages.

`templates/` and `migrations/` live at the top of the repository; pyproject ships them inside the
package. Without that, `pip install .` would give a PCloud that can neither migrate nor render.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.no_database]

CHECK = """
import sys
import pcloud
assert "{site}" in pcloud.__file__, pcloud.__file__
from pcloud import create_app
app = create_app()
client = app.test_client()
page = client.get("/login")
assert page.status_code == 200, page.status_code
assert "登录" in page.get_data(as_text=True)
english = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
assert "PCloud Console" in english, "the English catalogue is not in the wheel"
assert client.get("/static/js/app.js").status_code == 200
print("served from", pcloud.__file__)
"""


def test_wheel_installs_migrates_and_serves_a_page(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    site = tmp_path / "site"
    # Built from a copy of the checkout without what a build leaves behind: setuptools keeps build/lib, so a file
    # renamed since an earlier build (a migration) would ship twice, as two heads.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", ".hypothesis", ".pytest_cache", ".ruff_cache",
        "instance", "node_modules"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(wheels), str(source)], check=True, capture_output=True, cwd=tmp_path)
    wheel = next(wheels.glob("pcloud-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, cwd=tmp_path)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    # The wheel first on the path, the checkout nowhere on it: the installed copy must stand alone.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PCLOUD_INSTANCE_DIR")}
    env.update(PYTHONPATH=str(site), PCLOUD_ADMIN_PASSWORD="Wheel-pass-1", PCLOUD_BCRYPT_ROUNDS="4")
    init = subprocess.run([sys.executable, "-c", "from pcloud import main; main()", "init"],
                          capture_output=True, text=True, cwd=run_dir, env=env, timeout=300)
    assert init.returncode == 0, init.stderr[-2000:]
    assert "super administrator created" in init.stdout
    assert (run_dir / "instance" / "pcloud.db").exists()  # ./instance of where it runs, not the package
    served = subprocess.run([sys.executable, "-c", CHECK.replace("{site}", str(site))], capture_output=True,
                            text=True, cwd=run_dir, env=env, timeout=120)
    assert served.returncode == 0, served.stderr[-2000:]


def test_make_run_announces_the_address_it_really_serves(tmp_path: Path) -> None:
    """`PORT=5001 make run` used to print :5000; the sign-in lines name the PORT the Procfile serves, and are
    printed once a server answers there (so they come after the servers' start-up output)."""
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from tests.conftest import serve_in_background

    env = {**os.environ, "PORT": "5001"}
    dry = subprocess.run(["make", "-n", "-C", str(ROOT), "run"], capture_output=True, text=True, env=env, timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert "pcloud init" in dry.stdout and "honcho start" in dry.stdout
    assert "[dev]" not in dry.stdout  # running installs only what running needs
    assert "${PORT:-5000}" in (ROOT / "Procfile").read_text()

    class Login(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the handler's name
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    helper = subprocess.run(["make", "-s", "-C", str(ROOT), "--eval",
                             "print-sign-in: ; @printf '%s' \"$$SIGN_IN_LINES\"", "print-sign-in"],
                            capture_output=True, text=True, timeout=60).stdout
    server = HTTPServer(("127.0.0.1", 0), Login)
    serve_in_background(server)
    port = server.server_address[1]
    try:
        shown = subprocess.run([sys.executable, "-c", helper], capture_output=True, text=True, timeout=60,
                               env={**os.environ, "PORT": str(port), "PCLOUD_BIND": "127.0.0.1"}).stdout
    finally:
        server.shutdown()
        server.server_close()
    assert f"http://127.0.0.1:{port}" in shown and ":5000" not in shown
    assert "pcloud reset-password" in shown


def test_every_folder_of_templates_and_static_files_is_a_listed_package() -> None:
    """An unlisted folder is still shipped, but with a setuptools warning per folder on every install (they
    once buried the first password `make run` prints)."""
    import tomllib

    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed, data = set(setuptools["packages"]), set(setuptools["package-data"])
    folders = {"pcloud.templates." + p.name for p in (ROOT / "templates").iterdir() if p.is_dir()}
    folders |= {"pcloud." + ".".join(p.relative_to(ROOT / "pcloud").parts)
                for folder in ("static", "translations")
                for p in (ROOT / "pcloud" / folder).rglob("*") if p.is_dir()} | {"pcloud.static", "pcloud.translations"}
    assert sorted(folders - listed) == [] and sorted(folders - data) == []


def test_every_python_package_is_listed() -> None:
    """The package list is written out (templates and migrations live outside `pcloud/`): a module package
    left out of it is missing from the wheel, and the installed app fails to import."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    packages = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "pcloud").rglob("__init__.py")}
    assert sorted(packages - listed) == []
