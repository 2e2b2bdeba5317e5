"""Several hosts on one PostgreSQL, with default settings (issue 20, item 8).

Two "hosts": each a gunicorn (2 workers) and a `pcloud worker`, with an instance directory and an upload
directory of its own, sharing nothing but the database; host B's clock is 45 s behind. What one host answers,
the other honours from its very next request: a revocation answered by A is refused by B with 0 requests
passing after the answer; an avatar uploaded through A is served by B; ids are unique across both; each fire
runs once; `pcloud init` runs on both at once; both keep the database's time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import ROOT, TEST_CONFIG, LiveServer, is_postgres, start_server

pytestmark = pytest.mark.skipif(not is_postgres(), reason="several hosts share one PostgreSQL; SQLite is one host")

PCLOUD = str(Path(sys.executable).parent / "pcloud")
ADMIN_PHONE, ADMIN_PASSWORD = "13800000000", "Admin12345"
USER_PASSWORD = "Passw0rd1"
BURST = 24  # requests sent to the other host right after the answer, 4 at a time (both of its workers)
# Host B's processes read their wall clock this far behind (tests/skewed_clock), so every test here also shows
# that the cluster keeps one time: the database's.
SKEW_SECONDS = 45


@dataclass
class Host:
    name: str
    instance_dir: Path
    env: dict[str, str]
    server: LiveServer | None = None
    worker: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url


@dataclass
class Cluster:
    database_url: str
    hosts: list[Host]
    init_results: list[subprocess.CompletedProcess[bytes]]
    admin_token: str = ""

    def call(self, host: Host, method: str, path: str, token: str | None = None, json: Any = None
             ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(method, f"{host.url}{path}", json=json, headers=headers, timeout=30)

    def data(self, host: Host, method: str, path: str, json: Any = None, token: str | None = None) -> Any:
        resp = self.call(host, method, path, token or self.admin_token, json)
        body = resp.json()
        assert resp.status_code == 200 and body["code"] == 200, (path, resp.status_code, body)
        return body["data"]

    def sign_in(self, host: Host, phone: str, password: str) -> str:
        return self.data(host, "POST", "/api/oauth/token",
                         {"phone": phone, "password": password, "grantType": "ADMIN"}, token="")["token"]

    def statuses(self, host: Host, method: str, path: str, token: str, count: int = BURST) -> list[int]:
        """`count` calls, 4 at a time, so that both gunicorn workers of the host answer some."""
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(lambda _: self.call(host, method, path, token).status_code, range(count)))


def _fresh_database(base_url: str) -> tuple[str, Any]:
    url = make_url(base_url)
    name = f"{url.database or 'pcloud'}_multihost_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False), (admin, name)


def _host_env(database_url: str, instance_dir: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "PCLOUD_INSTANCE_DIR": str(instance_dir),
            "PCLOUD_UPLOAD_DIR": str(instance_dir / "uploads"), "PCLOUD_SECRET_KEY": TEST_CONFIG["SECRET_KEY"],
            "PCLOUD_ADMIN_PASSWORD": ADMIN_PASSWORD, "PCLOUD_BCRYPT_ROUNDS": "4", "PYTHONPATH": str(ROOT),
            "PCLOUD_JOB_HANDLER_MODULES": "tests.job_handlers", "PCLOUD_WORKER_HEARTBEAT_SECONDS": "1",
            "PCLOUD_WORKER_SHUTDOWN_GRACE": "2"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    from pcloud.config import normalise_database_url

    base = os.environ["PCLOUD_TEST_DATABASE_URL"]  # the suite's PostgreSQL server, a database of our own
    database_url, (admin, name) = _fresh_database(normalise_database_url(base))
    hosts = []
    for host_name in ("host-a", "host-b"):
        instance_dir = tmp_path_factory.mktemp(host_name)
        env = _host_env(database_url, instance_dir)
        if host_name == "host-b":
            env.update(PYTHONPATH=f"{ROOT / 'tests' / 'skewed_clock'}{os.pathsep}{env['PYTHONPATH']}",
                       PCLOUD_TEST_CLOCK_BEHIND=str(SKEW_SECONDS))
        hosts.append(Host(host_name, instance_dir, env))
    try:
        # `pcloud init` on both hosts at once, on the empty database.
        inits = [subprocess.Popen([PCLOUD, "init"], cwd=ROOT, env=h.env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT) for h in hosts]
        results = [subprocess.CompletedProcess(p.args, p.wait(120), p.communicate()[0]) for p in inits]
        cluster = Cluster(database_url, hosts, results)
        if all(r.returncode == 0 for r in results):
            for host in hosts:  # the workers boot while the servers do
                log = (host.instance_dir / "worker.log").open("wb")
                host.worker = subprocess.Popen([PCLOUD, "worker", "--name", host.name], cwd=ROOT, env=host.env,
                                               stdout=log, stderr=subprocess.STDOUT)
            with ThreadPoolExecutor(2) as pool:
                servers = list(pool.map(lambda h: start_server(database_url, h.instance_dir, 2, h.env), hosts))
            for host, server in zip(hosts, servers, strict=True):
                host.server = server
            cluster.admin_token = cluster.sign_in(hosts[0], ADMIN_PHONE, ADMIN_PASSWORD)
        yield cluster
    finally:
        # All at once, so that the shutdowns overlap; gunicorn's quick shutdown (SIGINT): the database goes next.
        processes = [p for h in hosts for p in (h.worker, h.server.proc if h.server else None) if p is not None]
        for host in hosts:
            if host.worker is not None:
                host.worker.terminate()
            if host.server is not None:
                host.server.proc.send_signal(signal.SIGINT)
        for proc in processes:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def ready(cluster: Cluster) -> Cluster:
    assert cluster.admin_token, "the hosts did not start (see test_init_on_both_hosts_at_once)"
    return cluster


def test_init_on_both_hosts_at_once(cluster: Cluster) -> None:
    for result in cluster.init_results:
        assert result.returncode == 0, result.stdout.decode(errors="replace")[-3000:]
    engine = create_engine(cluster.database_url)
    try:
        with engine.connect() as conn:
            admins = conn.execute(text("SELECT count(*) FROM sys_user WHERE phone = :p"), {"p": ADMIN_PHONE})
            assert admins.scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        engine.dispose()


def _super_admin_role(cluster: Cluster) -> int:
    items = cluster.data(cluster.hosts[0], "POST", "/api/admin/role/page", {"roleCode": "ROLE_SUPER_ADMIN"})
    return next(r["id"] for r in items if r["roleCode"] == "ROLE_SUPER_ADMIN")


def _user(cluster: Cluster, phone: str) -> tuple[int, str]:
    """A new super admin (id, token signed in on host A), warmed on both hosts."""
    a, b = cluster.hosts
    uid = cluster.data(a, "POST", "/api/admin/system/user/create",
                       {"phone": phone, "name": f"u{phone[-4:]}", "password": USER_PASSWORD,
                        "roleIds": [_super_admin_role(cluster)]})
    token = cluster.sign_in(a, phone, USER_PASSWORD)
    for host in (a, b):  # both workers of both hosts have served (and may keep) the principal
        assert set(cluster.statuses(host, "POST", "/api/admin/system/user/page", token, 8)) == {200}
    return uid, token


@pytest.mark.parametrize("action", ["sign-out", "force offline", "disable", "role removal"])
def test_what_one_host_answers_the_other_refuses_at_once(ready: Cluster, action: str) -> None:
    a, b = ready.hosts
    phone = {"sign-out": "13900007001", "force offline": "13900007002", "disable": "13900007003",
             "role removal": "13900007004"}[action]
    uid, token = _user(ready, phone)
    if action == "sign-out":
        assert ready.call(a, "POST", "/api/oauth/logout", token).status_code == 200
    elif action == "force offline":
        ready.data(a, "GET", f"/api/admin/system/user/{uid}/offline")
    elif action == "disable":
        ready.data(a, "PUT", "/api/admin/system/user/modify", {"id": uid, "state": 1})
    else:
        ready.data(a, "PUT", "/api/admin/system/user/modify", {"id": uid, "roleIds": []})
    refused = 403 if action == "role removal" else 401
    answered = ready.statuses(b, "POST", "/api/admin/system/user/page", token)
    assert answered == [refused] * BURST, f"{answered.count(200)} requests passed on the other host"
    assert set(ready.statuses(a, "POST", "/api/admin/system/user/page", token, 8)) == {refused}


def _open_token(ready: Cluster, name: str) -> tuple[int, str]:
    """An OPEN account granted the ID service, with a token warmed on both hosts."""
    a, b = ready.hosts
    acct = ready.data(a, "POST", "/api/open/admin/account/create", {"name": name})
    entries = [e["id"] for e in ready.data(a, "POST", "/api/open/admin/resource/list", {})
               if e["resourceUrl"].startswith("/api/integration/segment/")]
    ready.data(a, "POST", "/api/open/admin/resource/grant", {"accountId": acct["id"], "resourceIds": entries})
    token = ready.data(a, "POST", "/api/oauth/token", {"grantType": "OPEN", "secureId": acct["secureId"],
                                                        "secureKey": acct["secureKey"]}, token="")["token"]
    for host in (a, b):
        assert set(ready.statuses(host, "GET", "/api/integration/segment/get/multihost", token, 8)) == {200}
    return acct["id"], token


def test_a_key_reset_on_one_host_is_refused_by_the_other_at_once(ready: Cluster) -> None:
    a, b = ready.hosts
    ready.data(a, "POST", "/api/integration/admin/segment/create", {"bizTag": "multihost", "step": 10})
    account_id, token = _open_token(ready, "multihost-reset")
    ready.data(a, "POST", f"/api/open/admin/account/{account_id}/resetKey")
    answered = ready.statuses(b, "GET", "/api/integration/segment/get/multihost", token)
    assert answered == [401] * BURST, f"{answered.count(200)} requests passed on the other host"


def test_ids_are_unique_across_both_hosts(ready: Cluster) -> None:
    a, b = ready.hosts
    ready.data(a, "POST", "/api/integration/admin/segment/create", {"bizTag": "unique", "step": 7})

    def take(i: int) -> list[str]:
        host = (a, b)[i % 2]
        if i % 5 == 0:
            return ready.data(host, "GET", "/api/integration/segment/batch/unique/13")
        return [ready.data(host, "GET", "/api/integration/segment/get/unique")]

    with ThreadPoolExecutor(6) as pool:
        ids = [int(x) for batch in pool.map(take, range(200)) for x in batch]
    assert len(ids) == len(set(ids)) == 40 * 13 + 160


def test_each_fire_runs_once_with_a_worker_on_each_host(ready: Cluster) -> None:
    from pcloud import create_app
    from pcloud.extensions import db
    from pcloud.jobs import service
    from tests import job_handlers  # noqa: F401 - the handlers the console checks a job against

    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": ready.database_url})
    engine = create_engine(ready.database_url)
    try:
        deadline = time.monotonic() + 30
        while True:  # both hosts' workers registered
            with engine.connect() as conn:
                nodes = set(conn.execute(text("SELECT name FROM job_registry")).scalars())
            if {"host-a", "host-b"} <= nodes:
                break
            assert time.monotonic() < deadline, f"nodes registered: {nodes}"
            time.sleep(0.2)
        with app.app_context():
            group = _executor(engine) or service.create_executor(
                {"appname": "pcloud-executor", "title": "pcloud-executor", "address_type": 0}).id
            ids = [service.create_job({"job_group": group, "job_desc": f"multihost {i}", "author": "tester",
                                       "schedule_type": "CRON", "schedule_conf": "* * * * * ?",
                                       "executor_route_strategy": "ROUND", "executor_handler": "testNoop",
                                       "trigger_status": 1}).id for i in range(6)]
            db.session.commit()
        deadline = time.monotonic() + 30
        while True:  # four fires of each job, whoever schedules them (awaited, not slept: about 4 s)
            with engine.connect() as conn:
                fired = conn.execute(text("SELECT job_id, count(*) FROM job_log WHERE job_id = ANY(:ids) "
                                          "GROUP BY job_id"), {"ids": ids}).all()
            if len(fired) == len(ids) and all(count >= 4 for _, count in fired):
                break
            assert time.monotonic() < deadline, f"fires so far: {fired}"
            time.sleep(0.2)
        with app.app_context():
            for job_id in ids:
                service.stop_job(job_id)
            db.session.commit()
            db.session.remove()
        deadline = time.monotonic() + 30
        while True:
            with engine.connect() as conn:
                runs = conn.execute(text("SELECT job_id, schedule_time, status, handle_code, executor_address "
                                         "FROM job_log WHERE job_id = ANY(:ids)"), {"ids": ids}).all()
            if runs and all(r.status == "DONE" for r in runs):
                break
            assert time.monotonic() < deadline, "runs not done"
            time.sleep(0.2)
        fires = [(r.job_id, r.schedule_time) for r in runs]
        assert len(fires) == len(set(fires)), "a fire ran twice"
        assert {r.job_id for r in runs} == set(ids) and all(r.handle_code == 200 for r in runs)
        assert all(sum(1 for r in runs if r.job_id == j) >= 4 for j in ids)
        assert {r.executor_address for r in runs} == {"host-a", "host-b"}
    finally:
        engine.dispose()
        with app.app_context():
            db.engine.dispose()


def _executor(engine: Any) -> int | None:
    with engine.connect() as conn:
        return conn.execute(text("SELECT id FROM job_group WHERE appname = 'pcloud-executor' "
                                 "AND deleted_at IS NULL")).scalar()


def test_a_host_whose_clock_is_behind_keeps_the_databases_time(ready: Cluster) -> None:
    """Times are stamped and compared by the database server's clock: a host whose own clock is off does not
    have its worker listed dead by the others, nor sessions that end early (the multi-host review)."""
    a, b = ready.hosts
    probe = subprocess.run([sys.executable, "-c", "import time; print(time.time())"], env=b.env,
                           capture_output=True, text=True, check=True)
    assert float(probe.stdout) < time.time() - SKEW_SECONDS + 5, "host B's clock is not behind"
    engine = create_engine(ready.database_url)
    try:
        deadline = time.monotonic() + 30
        while True:  # host B's worker has sent a heartbeat
            with engine.connect() as conn:
                age = conn.execute(text("SELECT extract(epoch FROM timezone('UTC', clock_timestamp()) - heartbeat_at)"
                                        " FROM job_registry WHERE name = 'host-b'")).scalar()
            if age is not None:
                break
            assert time.monotonic() < deadline, "host B's worker did not register"
            time.sleep(0.2)
        assert -2 < age < 10, f"host B's heartbeat is {age:.0f} s old by the database's clock"
        from pcloud import create_app
        from pcloud.extensions import db
        from pcloud.jobs import service

        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": ready.database_url})
        with app.app_context():  # what the console's node lists read
            assert "host-b" in {node.name for node in service.live_nodes("pcloud-executor")}
            db.engine.dispose()
        signed_in = {host.name: ready.sign_in(host, ADMIN_PHONE, ADMIN_PASSWORD) for host in (a, b)}
        with engine.connect() as conn:  # the two sessions just opened: one on each host, as long as each other
            lifetimes = conn.execute(text("SELECT extract(epoch FROM expires_at - timezone('UTC', clock_timestamp()))"
                                          " FROM auth_session ORDER BY id DESC LIMIT 2")).scalars().all()
        assert max(lifetimes) - min(lifetimes) < 10, lifetimes
        assert set(ready.statuses(b, "POST", "/api/admin/system/user/page", signed_in["host-b"], 4)) == {200}
    finally:
        engine.dispose()


def test_an_avatar_uploaded_through_one_host_is_served_by_the_other(ready: Cluster) -> None:
    """Uploads live in the database (sys_upload), not on a host's disk: each host has an upload directory
    of its own here, and still serves what the other stored."""
    import io

    from PIL import Image

    a, b = ready.hosts
    picture = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(picture, "PNG")
    resp = requests.post(f"{a.url}/api/admin/upload", files={"file": ("a.png", picture.getvalue(), "image/png")},
                         headers={"Authorization": f"Bearer {ready.admin_token}"}, timeout=30)
    assert resp.status_code == 200, resp.text
    url = resp.json()["data"]["url"]
    path = url[url.index("/api/oss/files/"):]
    served = {host.name: requests.get(f"{host.url}{path}", timeout=30) for host in (a, b)}
    assert {name: r.status_code for name, r in served.items()} == {"host-a": 200, "host-b": 200}
    assert served["host-a"].content == served["host-b"].content and served["host-b"].content
