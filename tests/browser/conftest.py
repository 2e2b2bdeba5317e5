"""Real-browser fixtures: Playwright driving Debian's Chromium against a live gunicorn server.

Chromium (its headless shell where installed) runs as root, so it needs --no-sandbox, and the flags that stop background
networking (this machine has no internet). Skipped with a message when Chromium is absent.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN_PASSWORD, ADMIN_PHONE, LiveServer, start_server, stop_server

# Debian's headless shell where installed: the same engine without the full browser's UI process, about a
# third less CPU for the browser tests; else Chromium itself, in its headless mode.
CHROMIUM = os.environ.get("PCLOUD_CHROMIUM") or next(
    (path for path in ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium") if os.path.exists(path)),
    "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)):
        pytest.skip("Chromium not installed (apt-get install -y chromium-headless-shell)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        args = CHROMIUM_ARGS if "headless-shell" in CHROMIUM else ["--headless=new", *CHROMIUM_ARGS]
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def live_server(app: Any, database_url: str, instance_dir: Path) -> Iterator[LiveServer]:
    """One server per test worker for every browser module (a module may still bring its own): it already
    outlives each test's reset (which bumps the grants' version, so the server reloads them), and booting
    gunicorn costs seconds. Only here: browser tests run on SQLite, while a PostgreSQL test that cuts this
    process's LISTEN connection must not find another server's listening there."""
    server = start_server(database_url, instance_dir)
    yield server
    stop_server(server)


@pytest.fixture
def page(browser: Any, live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (no cookies) on the live server; a screenshot is kept on failure."""
    context = browser.new_context(base_url=live_server.url, accept_downloads=True, locale="zh-CN")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


def sign_in(tab: Any, phone: str = ADMIN_PHONE, password: str = ADMIN_PASSWORD) -> None:
    """Sign in through the password tab of the sign-in page and wait for the home page."""
    tab.goto("/login")
    tab.locator("#pw-phone").fill(phone)
    tab.locator("#pw-password").fill(password)
    tab.locator("#login-password").click()
    tab.wait_for_url("**/")
    tab.get_by_test_id("current-user").wait_for()


def confirm_modal(tab: Any) -> None:
    """Accept the confirm-before-submit modal."""
    tab.locator("#confirmModal").wait_for(state="visible")
    tab.locator("#confirmOk").click()


def settle(tab: Any, url_glob: str) -> None:
    """After a click that navigates: wait for the new URL and for its scripts (confirm modal, pickers).

    `click()` returns once the navigation commits; the page's scripts at the end of <body> may not have
    run yet, and a button clicked then would submit without its confirmation.
    """
    tab.wait_for_url(url_glob)
    tab.wait_for_load_state("load")


def watch_console(tab: Any, form_4xx_expected: bool = False) -> list[str]:
    """Collect the tab's console errors and page errors from now on. With `form_4xx_expected`, a 4xx answer
    (a form submitted to fail validation, a refused action) is not one: the test submits it on purpose."""
    errors: list[str] = []

    def on_console(msg: Any) -> None:
        if msg.type == "error" and not (form_4xx_expected and re.search(r"status of 4\d\d", msg.text)):
            errors.append(msg.text)

    tab.on("console", on_console)
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors
