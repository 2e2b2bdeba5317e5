"""Fixtures: an app on a fresh database (SQLite by default, PostgreSQL when PCLOUD_TEST_DATABASE_URL
names one), clients, a signed-in API helper and page helper per role, and a live gunicorn server.

Each xdist worker gets its own database; the schema comes from the real migrations once per worker,
and every test starts from empty tables plus the built-ins `pcloud init` creates.
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
ADMIN_PHONE = "13800000000"
ADMIN_PASSWORD = "Admin12345"


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _database_url(tmp_root: Path) -> str:
    pg = os.environ.get("PCLOUD_TEST_DATABASE_URL")
    if not pg:
        return f"sqlite:///{tmp_root / f'pcloud-test-{_worker()}.db'}"
    from pcloud.config import normalise_database_url

    url = make_url(normalise_database_url(pg))
    # One database per worker and per run, so two runs on one server never drop each other's.
    run = (os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex)[:8]
    name = f"{url.database or 'pcloud'}_{_worker()}_{run}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    _created_databases.append((url.set(database="postgres"), name))
    return url.set(database=name).render_as_string(hide_password=False)


_created_databases: list[Any] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The order xdist hands whole files out in (`--dist loadfile --no-loadscope-reorder`, the Makefile's): the
    files with the most slow tests first (worker processes, fuzzers: few tests, minutes each), then the rest, most
    tests first. Each file's tests stay together and in order. Handed out by their number of tests only, the slow
    files came late, and the last of them kept one test worker busy alone for the last minute of a pass."""
    def file_of(item: pytest.Item) -> str:
        return item.nodeid.split("::", 1)[0]

    counts: dict[str, int] = {}
    slow_counts: dict[str, int] = {}
    for item in items:
        name = file_of(item)
        counts[name] = counts.get(name, 0) + 1
        slow_counts[name] = slow_counts.get(name, 0) + (item.get_closest_marker("slow") is not None)
    items.sort(key=lambda item: (-slow_counts[file_of(item)], -counts[file_of(item)], file_of(item)))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop this run's PostgreSQL databases (left over only if the run was killed)."""
    for admin_url, name in _created_databases:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except Exception:  # noqa: BLE001 - cleanup must not fail the run
            pass
        finally:
            admin.dispose()


def is_postgres() -> bool:
    return bool(os.environ.get("PCLOUD_TEST_DATABASE_URL"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _database_url(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("instance")
    os.environ["PCLOUD_INSTANCE_DIR"] = str(path)
    return path


TEST_CONFIG = {
    "SECRET_KEY": "test-secret-key",
    "PCLOUD_BCRYPT_ROUNDS": 4,
    "PCLOUD_SMS_SENDER": "tests.sms_file:MemorySmsSender",
}


@pytest.fixture(scope="session")
def app(database_url: str, instance_dir: Path) -> Any:
    from flask_migrate import upgrade

    from pcloud import MIGRATIONS_DIR, create_app

    application = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    with application.app_context():
        upgrade(directory=MIGRATIONS_DIR)
    return application


def wipe(app: Any) -> None:
    """Empty every table, then recreate what `pcloud init` creates (built-ins and the admin). Slow (menus and
    resources synced through the ORM): run once per database to prepare the state `reset_database` copies."""
    from pcloud.access import permissions
    from pcloud.cli import ensure_first_admin, run_sync
    from pcloud.extensions import db

    with app.app_context():
        tables = [t for t in db.metadata.sorted_tables]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(tables):
                    conn.execute(table.delete())
                conn.execute(text("DELETE FROM sqlite_sequence")) if conn.execute(text(
                    "SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first() else None
        permissions.invalidate()
        run_sync()
        ensure_first_admin(ADMIN_PHONE, ADMIN_PASSWORD)
        db.session.remove()


class PreparedDatabase:
    """The state `pcloud init` leaves in an empty database, prepared once per database, and put back before
    each test by a copy instead of being rebuilt (the rebuild syncs menus and resources through the ORM).

    - SQLite: a copy of the prepared file, written back with SQLite's backup API. The API writes through the
      database's own locking, so the connections that stay open (this app's pool, a live server's workers, a
      job worker) simply read the new content; copying the file under them would corrupt their view.
    - PostgreSQL: the prepared rows and sequence values, captured once; a reset is one transaction that
      empties the tables the test used and inserts the captured rows again with triggers off
      (`session_replication_role`, which needs a superuser, as CI's and the dev server's role are), so the
      kept counts (sys_user_tally) are copied as they were, not counted twice. Unlike a template database or
      a rolled-back transaction this works while live servers and worker processes hold connections to the
      same database. A table with planner statistics or grown past a few pages is truncated, so the next
      test's estimates start from nothing as on a fresh database; a small one is emptied with DELETE, as
      truncating some forty tables per test costs most of a second.
    """

    SMALL_TABLE_BYTES = 8 * 8192

    def __init__(self, app: Any, sqlite_path: str | None = None,
                 rows: list[tuple[Any, list[dict[str, Any]]]] | None = None, sequences_sql: str = "") -> None:
        self.app = app
        self.sqlite_path = sqlite_path
        self.rows = rows or []
        self.sequences_sql = sequences_sql
        self.survey_sql = ""

    @classmethod
    def prepare(cls, app: Any) -> PreparedDatabase | None:
        """Build the state with `wipe` and capture it; None where a copy cannot be restored (a PostgreSQL
        role that is not a superuser): every test then pays for `wipe`."""
        from pcloud.extensions import db

        wipe(app)
        with app.app_context():
            engine = db.engine
            if engine.dialect.name == "sqlite":
                live = engine.url.database
                template = f"{live}.prepared"
                with closing(sqlite3.connect(live)) as src, closing(sqlite3.connect(template)) as dst:
                    src.backup(dst)
                return cls(app, sqlite_path=template)
            with engine.connect() as conn:
                if not conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
                    return None
                rows = [(table, [dict(row) for row in conn.execute(table.select()).mappings()])
                        for table in db.metadata.sorted_tables]
                sequences = conn.execute(text(
                    "SELECT format('%I.%I', schemaname, sequencename) AS name, coalesce(last_value, start_value) "
                    "AS value, last_value IS NOT NULL AS called FROM pg_sequences "
                    "WHERE schemaname = current_schema()")).all()
        sequences_sql = "SELECT " + ", ".join(
            f"setval('{s.name}', {int(s.value)}, {'true' if s.called else 'false'})" for s in sequences)
        prepared = cls(app, rows=[(table, found) for table, found in rows if found], sequences_sql=sequences_sql)
        prepared.survey_sql = " UNION ALL ".join(
            f"SELECT '{t.name}' AS name, c.reltuples >= 0 OR pg_relation_size(c.oid) > {cls.SMALL_TABLE_BYTES} "
            f"AS truncate, EXISTS (SELECT 1 FROM \"{t.name}\") AS used FROM pg_class c "
            f"WHERE c.oid = '\"{t.name}\"'::regclass" for t in db.metadata.sorted_tables)
        return prepared

    def restore(self) -> None:
        from pcloud.extensions import db

        with self.app.app_context():
            if self.sqlite_path:
                with closing(sqlite3.connect(self.sqlite_path)) as src, \
                        closing(sqlite3.connect(db.engine.url.database)) as dst:
                    src.backup(dst)
                return
            refill = {table.name for table, _ in self.rows}
            with db.engine.begin() as conn:
                conn.execute(text("SET LOCAL session_replication_role = replica"))  # no triggers, no FK checks
                survey = conn.execute(text(self.survey_sql)).all()
                truncate = [row.name for row in survey if row.truncate and (row.used or row.name in refill)]
                if truncate:
                    conn.execute(text("TRUNCATE " + ", ".join(f'"{name}"' for name in truncate) + " CASCADE"))
                for row in survey:
                    if row.used and row.name not in truncate:
                        conn.execute(text(f'DELETE FROM "{row.name}"'))
                for table, found in self.rows:
                    conn.execute(table.insert(), found)
                conn.execute(text(self.sequences_sql))


_prepared: dict[int, PreparedDatabase | None] = {}


def reset_database(app: Any) -> None:
    """Put the database back to what `pcloud init` leaves (see PreparedDatabase), and drop this process's
    caches of it."""
    from pcloud.access import permissions
    from pcloud.extensions import db
    from tests.sms_file import MemorySmsSender

    if id(app) not in _prepared:
        _prepared[id(app)] = PreparedDatabase.prepare(app)
    else:
        prepared = _prepared[id(app)]
        prepared.restore() if prepared else wipe(app)
    permissions.invalidate()
    with app.app_context():
        # Written through the app's engine, so the caches that watch its writes see a change; and a version
        # no live server has cached yet, so servers kept across tests reload their grants.
        with db.engine.begin() as conn:
            fresh = {"v": int(time.time() * 1000) % 2_000_000_000}
            conn.execute(text("UPDATE sys_perm_version SET version = :v WHERE id = 1"), fresh)
            # the same for the dictionaries' and parameters' version: a restored counter would repeat a version
            # that a process has cached with another test's rows
            conn.execute(text("UPDATE sys_setting_version SET version = :v WHERE id = 1"), fresh)
        db.session.remove()
    MemorySmsSender.sent.clear()


@pytest.fixture(autouse=True)
def clean_db(request: pytest.FixtureRequest) -> Iterator[None]:
    if "app" in request.fixturenames or "client" in request.fixturenames or "api" in request.fixturenames:
        reset_database(request.getfixturevalue("app"))
    yield


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


class ApiClient:
    """JSON calls with an optional bearer token; `.data(...)` asserts 200 and returns the payload."""

    def __init__(self, client: Any, token: str | None = None):
        self.client = client
        self.token = token

    def _headers(self, token: str | None) -> dict[str, str]:
        tok = token if token is not None else self.token
        return {"Authorization": f"Bearer {tok}"} if tok else {}

    def call(self, method: str, path: str, json: Any = None, token: str | None = None,
             headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.open(path, method=method, json=json, headers={**self._headers(token), **(headers or {})},
                                **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.call("POST", path, json if json is not None else {}, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.call("PUT", path, json if json is not None else {}, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("DELETE", path, **kw)

    def data(self, method: str, path: str, json: Any = None) -> Any:
        resp = self.call(method, path, json)
        body = resp.get_json()
        assert resp.status_code == 200, (resp.status_code, body)
        assert body["code"] == 200 and body["msg"] == "success"
        return body["data"]

    def sign_in(self, phone: str = ADMIN_PHONE, password: str = ADMIN_PASSWORD) -> str:
        resp = self.client.post("/api/oauth/token", json={"phone": phone, "password": password,
                                                         "grantType": "ADMIN"})
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()["data"]["token"]


def open_client(app: Any, name: str) -> tuple[int, ApiClient]:
    """A new open-platform account (no grants), signed in with its secureId and secureKey: (its id, a client)."""
    from pcloud.extensions import db
    from pcloud.openplatform import service

    with app.app_context():
        account, key = service.create_account({"name": name})
        db.session.commit()
        account_id, secure_id = account.id, account.secure_id
        db.session.remove()
    client = ApiClient(app.test_client())
    resp = client.client.post("/api/oauth/token", json={"secureId": secure_id, "secureKey": key, "grantType": "OPEN"})
    assert resp.status_code == 200, resp.get_json()
    client.token = resp.get_json()["data"]["token"]
    return account_id, client


def user_numbered(app: Any, wanted: int) -> int:
    """The live user whose id is `wanted`, adding users until one has it (ids only grow): for tests of a rule that
    must never take an open-platform account's id for a user's."""
    from sqlalchemy import select

    from pcloud.extensions import db
    from pcloud.users.models import User
    from tests.factories import make_user

    with app.app_context():
        found = db.session.execute(select(User.id).where(User.id == wanted, User.deleted_at.is_(None))).scalar()
        db.session.remove()
    while found is None:
        made = make_user(app)
        assert made <= wanted, f"user ids passed {wanted}"
        found = made if made == wanted else None
    return found


def api_error(resp: Any, code: int) -> dict[str, Any]:
    """An API refusal: the HTTP status and the envelope's code agree, it says why, and carries no data."""
    body = resp.get_json()
    assert resp.status_code == code and body["code"] == code, (resp.status_code, body)
    assert body["msg"] and body["data"] is None
    return body


def race(app: Any, token: str, calls: list[tuple[str, str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """The API calls (method, path, JSON) sent at once, each from its own test client and thread, released
    together by a barrier so their checks and writes overlap; (status, envelope) of each, in order."""
    from concurrent.futures import ThreadPoolExecutor

    barrier = threading.Barrier(len(calls))

    def send(call: tuple[str, str, Any]) -> tuple[int, dict[str, Any]]:
        client = ApiClient(app.test_client(), token)
        barrier.wait()
        resp = client.call(*call)
        return resp.status_code, resp.get_json()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(send, calls))


def assert_one_won(answers: list[tuple[int, dict[str, Any]]], msg: str, status: int = 409) -> None:
    """One call of a race succeeded; each other one was refused with `status` and the service's own `msg` in
    the envelope (the refusal the check before the write gives), never a 500 or the generic lost-race text."""
    statuses = sorted(code for code, _ in answers)
    assert statuses == [200] + [status] * (len(answers) - 1), answers
    for code, body in answers:
        if code != 200:
            assert (body["code"], body["msg"], body["data"]) == (status, msg, None), body


def assert_races_keep_one(app: Any, token: str, create: Callable[[int], tuple[str, str, Any]],
                          modify: Callable[[int, int], tuple[str, str, Any]] | None, msg: Callable[[int], str],
                          live_values: Callable[[], list[Any]], rounds: int = 3, racers: int = 3) -> None:
    """The house rule for a unique value: `racers` creates of value n at once (`create(n)`: the call) leave one
    row, one 200 and the rest 409 with `msg(n)`; then two records, each modified into value n at once
    (`modify(record id, n)`), the same. `live_values()`: the unique values of the live rows, checked to hold
    each value once."""
    for n in range(rounds):
        assert_one_won(race(app, token, [create(n)] * racers), msg(n))
    if modify is not None:
        records = []
        for n in (900, 901):
            resp = ApiClient(app.test_client(), token).call(*create(n))
            assert resp.status_code == 200, resp.get_json()
            data = resp.get_json()["data"]
            records.append(data if isinstance(data, int) else data["id"])
        for n in range(rounds, 2 * rounds):
            assert_one_won(race(app, token, [modify(record, n) for record in records]), msg(n))
    values = live_values()
    assert len(values) == len(set(values)), sorted(values)


@pytest.fixture
def anon(client: Any) -> ApiClient:
    return ApiClient(client)


@pytest.fixture
def api(client: Any) -> ApiClient:
    """Signed in as the super administrator created by init."""
    helper = ApiClient(client)
    helper.token = helper.sign_in()
    return helper


CSRF_RE = re.compile(r'name="(?:[\w-]+-)?csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token on the page"
    return match.group(1)


class PageClient:
    """A browser-like test client: signs in through the form and submits forms with their CSRF token."""

    def __init__(self, client: Any):
        self.client = client

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, **kw)

    def submit(self, form_page: str, action: str | None = None, data: dict[str, Any] | None = None,
               **kw: Any) -> Any:
        page = self.client.get(form_page)
        token = csrf_from(page.get_data(as_text=True))
        return self.client.post(action or form_page, data={"csrf_token": token, **(data or {})}, **kw)

    def sign_in(self, phone: str = ADMIN_PHONE, password: str = ADMIN_PASSWORD) -> Any:
        token = csrf_from(self.client.get("/login").get_data(as_text=True))
        return self.client.post("/login?tab=password", data={"pw-csrf_token": token, "pw-phone": phone,
                                                              "pw-password": password})


@pytest.fixture
def pages(app: Any) -> PageClient:
    """A page client signed in as the super administrator."""
    helper = PageClient(app.test_client())
    resp = helper.sign_in()
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return helper


@pytest.fixture
def anon_pages(app: Any) -> PageClient:
    return PageClient(app.test_client())


# ---------------------------------------------------------------------------------------------
# English pages (docs/API.md, "Languages"): any Chinese left on a page rendered in English is a miss.

# U+3000 (the ideographic space) is left out: it is the tree pickers' indentation (app.js), not Chinese text.
_CJK = re.compile(r"[\u3001-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
# Said in Chinese on purpose: an element marked lang="zh" (the language menu's 简体中文, a dictionary item's
# Chinese label), and the source strings that key the scripts' English (base.html's js-texts).
_MEANT_CHINESE = re.compile(r'<(\w+)\b[^>]*\blang="zh[^"]*"[^>]*>.*?</\1>'
                            r'|<script id="js-texts"[^>]*>.*?</script>', re.S)
# A choice's value is sent back, never shown (the operation log's filter sends the stored title).
_OPTION_VALUE = re.compile(r'(<option\b[^>]*\bvalue=")[^"]*(")')


def chinese_on_page(html: str) -> list[str]:
    """Each place (with a little context) where a page shows a Chinese character it was not meant to."""
    rest = _OPTION_VALUE.sub(r"\1\2", _MEANT_CHINESE.sub("", html))
    return [rest[max(0, m.start() - 40):m.end() + 40].replace("\n", " ") for m in _CJK.finditer(rest)]


def english_form(response: Any, status: int = 200) -> str:
    """A page's HTML (entities decoded), asserting its status and that it shows no Chinese it was not meant to."""
    from html import unescape

    html = unescape(response.get_data(as_text=True))
    assert response.status_code == status, html[:300]
    assert not chinese_on_page(html), chinese_on_page(html)
    return html


def english_page(client: PageClient, url: str, status: int = 200) -> str:
    """`english_form` of the page at `url`."""
    return english_form(client.get(url), status)


def set_language(client: Any, code: str) -> None:
    """What the language menu does: the `lang` cookie."""
    client.set_cookie("lang", code)


def name_setup_data_in_english(app: Any) -> None:
    """Rename what `pcloud init` wrote in the deployment's language (the administrator's name, the built-in roles'
    names), as an administrator may, so that any Chinese left on an English page is the console's own, not data."""
    from pcloud.extensions import db
    from pcloud.roles.models import Role
    from pcloud.users.models import User

    with app.app_context():
        for user in db.session.scalars(db.select(User)):
            user.name = f"User {user.id}"
        for role in db.session.scalars(db.select(Role)):
            role.name = role.role_code.removeprefix("ROLE_").replace("_", " ").title()
        db.session.commit()
        db.session.remove()


@pytest.fixture
def english_pages(app: Any) -> PageClient:
    """The super administrator's page client in English, signed in after setup's data was named in English
    (`name_setup_data_in_english`), so that what it records (the operation log's operator) is English too."""
    name_setup_data_in_english(app)
    helper = PageClient(app.test_client())
    set_language(helper.client, "en")
    resp = helper.sign_in()
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    helper.get("/")  # the sign-in's welcome flash
    return helper


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_in_background(server: Any) -> Any:
    """Serve an http.server in a daemon thread. `shutdown()` waits for the serving loop's next poll, half a
    second by default: polled every 50 ms, a test's teardown does not wait for it."""
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {port}")


class LiveServer:
    def __init__(self, url: str, proc: subprocess.Popen[bytes]):
        self.url = url
        self.proc = proc


def start_server(database_url: str, instance_dir: Path, workers: int = 2, extra_env: dict[str, str] | None = None,
                 log_path: Path | None = None) -> LiveServer:
    """gunicorn serving the app on a free port against the given database (its stderr into `log_path`)."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PCLOUD_SECRET_KEY": TEST_CONFIG["SECRET_KEY"],
           "PCLOUD_BCRYPT_ROUNDS": "4", "PCLOUD_SMS_SENDER": "tests.sms_file:FileSmsSender",
           "PCLOUD_INSTANCE_DIR": str(instance_dir), **(extra_env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--preload", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level",
         "warning", "wsgi:app"], cwd=ROOT, env=env,
        stderr=log_path.open("ab") if log_path else None)
    try:
        wait_for_port(port)
        _wait_for_workers(f"http://127.0.0.1:{port}", workers)
    except (TimeoutError, OSError):
        proc.kill()
        raise
    return LiveServer(f"http://127.0.0.1:{port}", proc)


def _wait_for_workers(url: str, workers: int, timeout: float = 90.0) -> None:
    """The port opens before the workers have imported the app (seconds on a busy machine): send one request
    per worker at once and wait for every answer, so a test's own timeouts measure the app, not the boot."""
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    def ping(_: int) -> int:
        with urllib.request.urlopen(f"{url}/login", timeout=timeout) as resp:
            return resp.status

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(ping, range(workers)))


def stop_server(server: LiveServer) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(10)
    except subprocess.TimeoutExpired:
        server.proc.kill()


@pytest.fixture(scope="module")
def live_server(app: Any, database_url: str, instance_dir: Path) -> Iterator[LiveServer]:
    server = start_server(database_url, instance_dir)
    yield server
    stop_server(server)


def sidebar_links(html: str) -> list[tuple[str, str, int]]:
    """(href, text, depth) of every link in the page's sidebar, in order; markup details ignored."""
    from html.parser import HTMLParser

    links: list[tuple[str, str, int]] = []

    class _Parser(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.in_sidebar = 0
            self.depth = 0
            self.href: str | None = None
            self.text = ""

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            values = dict(attrs)
            if tag == "aside" and values.get("id") == "sidebar":
                self.in_sidebar = 1
            elif self.in_sidebar and tag == "li":
                match = re.search(r"depth-(\d)", values.get("class") or "")
                self.depth = int(match.group(1)) if match else 0
            elif self.in_sidebar and tag == "a":
                self.href, self.text = values.get("href"), ""

        def handle_endtag(self, tag: str) -> None:
            if tag == "aside":
                self.in_sidebar = 0
            elif tag == "a" and self.href is not None:
                links.append((self.href, self.text.strip(), self.depth))
                self.href = None

        def handle_data(self, data: str) -> None:
            if self.href is not None:
                self.text += data

    _Parser().feed(html)
    return links


# Statements a request runs at most once, never per row, depending on when it comes rather than on what it shows: the
# two version rows' reads (see statements_run), the database clock's measure (core.clock, once a minute per process)
# and a session's last-seen stamp (auth.service.LAST_SEEN_EVERY).
_TIMED = ("sys_perm_version", "sys_setting_version", "SELECT clock_timestamp()", "UPDATE auth_session SET last_seen_at")


def is_timed_read(statement: str) -> bool:
    """One of the statements a request runs at most once, at times (`_TIMED`), so not a list's cost per row."""
    return any(mark in statement for mark in _TIMED)


def statements_seen(app: Any, call: Callable[[], Any]) -> list[str]:
    """The SQL statements the app's engine runs during `call()` in this thread, in order.

    The app (and its engine) serves the whole pass, so a thread an earlier test left working on it (a segment's
    preload, an alarm's send) may run a statement meanwhile: CI once counted one in an idle worker's tick."""
    import threading

    from sqlalchemy import event

    from pcloud.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[str] = []
    caller = threading.get_ident()

    def note(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if threading.get_ident() == caller:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


def statements_run(app: Any, call: Callable[[], Any]) -> int:
    """How many SQL statements the app's engine runs during `call()` (a list page's N+1 check).

    Left out (`is_timed_read`): the reads of the two version rows (`sys_perm_version`: the signed-in principal's
    lookup; `sys_setting_version`: whether the kept dictionaries and parameters still hold), whose running depends on
    when PostgreSQL's change notification of the test's own seeding arrives, which is asynchronous (before the
    warm-up call or between it and the counted one); the database clock's measure and a session's last-seen stamp,
    due once a minute whatever the request. Each runs at most once per request, never per row."""
    return len([s for s in statements_seen(app, call) if not is_timed_read(s)])


def cpu_seconds(call: Callable[[], Any]) -> tuple[float, Any]:
    """(CPU seconds of this process while `call()` ran, what it returned), the garbage collected first.

    A budget measures the request, not a collection of the whole worker's garbage that happens to fall inside it:
    late in a pass one made a 0.03 s import refusal cost 0.48 s."""
    import gc

    gc.collect()
    start = time.process_time()
    outcome = call()
    return time.process_time() - start, outcome


def least_cpu_seconds(call: Callable[[], Any], runs: int = 3) -> tuple[float, Any]:
    """The least `cpu_seconds` of `runs` calls after one unmeasured call, and the last outcome: for a call that
    does the same work each time (a refusal, a read), so neither a first call's imports and caches nor the other
    pass's load on the machine decide a budget."""
    call()
    measured = [cpu_seconds(call) for _ in range(runs)]
    return min(seconds for seconds, _ in measured), measured[-1][1]


def user_keyword_plans(app: Any, call: Callable[[], Any]) -> list[list[str]]:
    """SQLite: the plan (EXPLAIN QUERY PLAN, one detail a line) of every SELECT `call()` runs that reads `sys_user`
    with a keyword (a LIKE): a list's count and its page. Left out: the sample of the list's first rows that judges
    whether the matches are plainly many (core.paging.sample_estimate, its matches counted by a CASE)."""
    from pcloud.core.dbstats import captured_selects, plan
    from pcloud.extensions import db

    with app.app_context():
        engine = db.engine
    with captured_selects(engine) as seen:
        call()
    return [plan(engine, sql, params) for sql, params in seen
            if re.search(r"FROM sys_user\b", sql) and " LIKE " in sql and "CASE WHEN" not in sql]


def starts_from_the_users_trigram_index(steps: list[str]) -> bool:
    """Whether a SQLite plan reads the users' FTS table and drives no scan of `sys_user` (the whole table, or one
    of its indexes read in order): the keyword's matches are the candidates, not every user."""
    return (any("sys_user_fts VIRTUAL TABLE" in step for step in steps)
            and not any(re.match(r"SCAN sys_user( |$)", step) for step in steps))


def logged_actions(app: Any, prefix: str = "") -> list[tuple[str, str]]:
    """(title, status) of every operation-log row whose title starts with `prefix`, oldest first; sign-ins
    (the fixtures') left out."""
    from sqlalchemy import select

    from pcloud.actionlog.models import ActionLog
    from pcloud.extensions import db

    with app.app_context():
        rows = db.session.execute(select(ActionLog.title, ActionLog.status).where(
            ActionLog.title.startswith(prefix), ActionLog.title != "登录").order_by(ActionLog.id)).all()
        db.session.remove()
    return [(row.title, row.status) for row in rows]


def last_action(app: Any) -> tuple[str, str, str] | None:
    """(title, status, msg) of the newest operation-log row, or None when nothing was logged; its msg as the Chinese
    page says it (a sentence is stored as its source string and values, core.i18n.stored)."""
    from sqlalchemy import select

    from pcloud.actionlog.models import ActionLog
    from pcloud.core.i18n import translated
    from pcloud.extensions import db

    with app.test_request_context(headers={"Accept-Language": "zh"}):
        row = db.session.execute(select(ActionLog.title, ActionLog.status, ActionLog.msg)
                                 .order_by(ActionLog.id.desc()).limit(1)).first()
        msg = translated(row.msg) if row else None
        db.session.remove()
    return (row.title, row.status, msg) if row else None


def assert_refused(app: Any, resp: Any, title: str, status: int, msg: str) -> None:
    """One refused action as its user and its auditor see it. The answer carries the refusal's status: an API
    call also in its envelope, with the refusal's message; a page shows the message. And the newest
    operation-log row is this action, logged `fail` with the refusal's exact message."""
    from html import unescape

    if resp.is_json:
        body = resp.get_json()
        assert (resp.status_code, body["code"], body["msg"]) == (status, status, msg), (resp.status_code, body)
    else:
        html = unescape(resp.get_data(as_text=True))
        assert resp.status_code == status, (resp.status_code, html[:2000])
        assert msg in html
    assert last_action(app) == (title, "fail", msg)


def assert_save_after_delete_keeps_typed(pages: PageClient, edit_url: str, delete: Any, data: dict[str, Any],
                                         typed: str, noun: str) -> None:
    """An edit form open while someone deletes its record: the save says so (404) and shows the form
    again with what was typed, instead of a bare 404 that loses it."""
    assert pages.get(edit_url).status_code == 200
    delete()
    resp = pages.submit(edit_url, data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 404, resp.status_code
    assert f"该{noun}已被删除" in html and f'value="{typed}"' in html


class OutboundServers:
    """Two local HTTP servers for the egress rule (issue 19, finding 4): `internal` stands for a service
    on the server's own network and records every request it gets; `front` answers `/to/<status>?<url>`
    with that redirect status to `<url>`, and 200 "front" otherwise."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import unquote

        hits: list[str] = []
        self.hits = hits

        class Internal(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                hits.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"internal secret")

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        class Front(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                if self.path.startswith("/to/"):
                    status, _, target = self.path[4:].partition("?")
                    self.send_response(int(status))
                    self.send_header("Location", unquote(target))
                    self.end_headers()
                    return
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"front")

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.servers = [ThreadingHTTPServer(("127.0.0.1", 0), handler) for handler in (Internal, Front)]
        for server in self.servers:
            serve_in_background(server)
        self.internal_port = self.servers[0].server_address[1]
        self.front_port = self.servers[1].server_address[1]
        self.internal = f"http://127.0.0.1:{self.internal_port}"
        self.front = f"http://127.0.0.1:{self.front_port}"

    def redirect(self, status: int, target: str) -> str:
        from urllib.parse import quote

        return f"{self.front}/to/{status}?{quote(target, safe='')}"

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


@pytest.fixture
def outbound() -> Iterator[OutboundServers]:
    servers = OutboundServers()
    yield servers
    servers.close()
