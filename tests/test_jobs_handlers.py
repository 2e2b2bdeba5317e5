"""The handler registry and the built-in handlers, called the way the worker calls them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pcloud.core.i18n import translated
from pcloud.jobs import handlers
from pcloud.jobs.handlers import JobContext, JobFailed, get_handler, job_handler, registered_handlers
from pcloud.jobs.worker import maintenance
from tests.conftest import serve_in_background


def test_builtins_are_registered() -> None:
    names = set(registered_handlers())
    assert {"demoJobHandler", "httpJobHandler", "jobLogCleanHandler", "actionLogCleanHandler"} <= names


def test_decorator_registers_a_handler_called_with_a_context() -> None:
    @job_handler("testEchoHandler", description="echo")
    def echo(ctx: JobContext) -> str:
        return f"{ctx.param}:{ctx.shard_index}/{ctx.shard_total}"

    spec = get_handler("testEchoHandler")
    assert spec is not None and spec.description == "echo"
    assert spec.func(JobContext(param="x", shard_index=1, shard_total=3)) == "x:1/3"


def test_entry_point_group_registers_callables(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeEntryPoint:
        name = "pluginHandler"

        def load(self) -> Any:
            return lambda ctx: "from plugin"

    monkeypatch.setattr(handlers, "_entry_points_loaded", False)
    monkeypatch.setattr(handlers, "entry_points",
                        lambda group: [FakeEntryPoint()] if group == "pcloud.job_handlers" else [])
    spec = get_handler("pluginHandler")
    assert spec is not None and spec.func(JobContext()) == "from plugin"
    handlers._REGISTRY.pop("pluginHandler", None)


@pytest.mark.no_database
def test_the_handler_modules_setting_registers_handlers_in_every_process_not_only_the_worker() -> None:
    """A review: PCLOUD_JOB_HANDLER_MODULES was read by the worker alone, so the console refused a job on one of
    its handlers (JobHandler「testEcho」未注册). A fresh process, as a web worker starts, now finds them."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    probe = "from pcloud.jobs import handlers; print(handlers.get_handler('testEcho') is not None)"
    env = {**os.environ, "PCLOUD_JOB_HANDLER_MODULES": " tests.job_handlers , "}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "True", done.stderr[-2000:]


def test_demo_handler_prints_its_parameter(capsys: pytest.CaptureFixture[str]) -> None:
    assert handlers.demo_job_handler(JobContext(param="hello")) == "demo ok"
    assert "param='hello'" in capsys.readouterr().out


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        _Recorder.seen.append({"method": self.command, "path": self.path, "body": body,
                               "x": self.headers.get("X-Token")})
        status = 500 if self.path.startswith("/fail") else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"pong")

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    serve_in_background(server)
    _Recorder.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_http_handler_sends_method_headers_and_body_to_an_allowed_host(http_server: str) -> None:
    param = json.dumps({"url": f"{http_server}/hook", "method": "POST", "headers": {"X-Token": "t1"},
                        "body": {"a": 1}})
    ctx = JobContext(param=param, config={"PCLOUD_JOB_HTTP_ALLOWED_HOSTS": http_server.split("/")[2]})
    assert handlers.http_job_handler(ctx) == "HTTP 200"
    assert _Recorder.seen == [{"method": "POST", "path": "/hook", "body": '{"a": 1}', "x": "t1"}]


def test_http_handler_accepts_xxl_job_lines(http_server: str) -> None:
    param = f"url: {http_server}/lines\nmethod: put\ndata: hello\nworld"
    handlers.http_job_handler(JobContext(param=param, config={
        "PCLOUD_JOB_HTTP_ALLOWED_HOSTS": f"*:{http_server.rsplit(':', 1)[1]},127.0.0.1"}))
    assert _Recorder.seen[0] == {"method": "PUT", "path": "/lines", "body": "hello\nworld", "x": None}


def test_http_handler_fails_on_an_error_status(http_server: str) -> None:
    with pytest.raises(JobFailed, match="HTTP 500"):
        handlers.http_job_handler(JobContext(param=f"{http_server}/fail".join(["url: ", ""]),
                                             config={"PCLOUD_JOB_HTTP_ALLOWED_HOSTS": http_server.split("/")[2]}))


@pytest.mark.parametrize(("allowed", "url"), [
    ("", "http://127.0.0.1/x"),
    ("example.com", "http://127.0.0.1/x"),
    ("*.example.com", "http://example.org/x"),
    ("*", "file:///etc/passwd"),
])
def test_http_handler_refuses_hosts_outside_the_allow_list(allowed: str, url: str, http_server: str) -> None:
    with pytest.raises(JobFailed, match="允许列表|只允许 http"):
        handlers.http_job_handler(JobContext(param=json.dumps({"url": url}),
                                             config={"PCLOUD_JOB_HTTP_ALLOWED_HOSTS": allowed}))
    assert _Recorder.seen == []


def _http_job(url: str, allowed: str) -> str:
    return handlers.http_job_handler(JobContext(param=json.dumps({"url": url}),
                                                config={"PCLOUD_JOB_HTTP_ALLOWED_HOSTS": allowed}))


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_http_job_redirects_to_an_internal_service_are_not_followed(status: int, outbound: Any) -> None:
    with pytest.raises(JobFailed) as failed:
        _http_job(outbound.redirect(status, f"{outbound.internal}/admin/secret"),
                  f"127.0.0.1,127.0.0.1:{outbound.front_port}")
    assert re.search(f"HTTP {status}.*重定向不会被跟随", translated(str(failed.value)))  # stored as said (core.i18n)
    assert outbound.hits == []


def test_http_job_redirect_to_ftp_is_not_followed(outbound: Any) -> None:
    with pytest.raises(JobFailed) as failed:
        _http_job(outbound.redirect(302, "ftp://127.0.0.1/etc/passwd"), f"127.0.0.1,127.0.0.1:{outbound.front_port}")
    assert "重定向不会被跟随" in translated(str(failed.value))


def test_http_job_reaches_only_the_listed_port(outbound: Any) -> None:
    for allowed in (f"127.0.0.1:{outbound.front_port}", "127.0.0.1", "*", f"*:{outbound.front_port}"):
        with pytest.raises(JobFailed, match="允许列表"):
            _http_job(f"{outbound.internal}/admin/secret", allowed)
    assert outbound.hits == []
    assert _http_job(f"{outbound.internal}/ok", f"127.0.0.1:{outbound.internal_port}") == "HTTP 200"
    assert outbound.hits == ["/ok"]


def test_http_job_host_resolving_to_an_internal_address_needs_that_address_listed(outbound: Any) -> None:
    url = f"http://localhost:{outbound.internal_port}/admin"
    for allowed in (f"localhost,localhost:{outbound.internal_port}", f"*:{outbound.internal_port}"):
        with pytest.raises(JobFailed, match="内部地址"):
            _http_job(url, allowed)
    assert outbound.hits == []
    assert _http_job(url, f"localhost:{outbound.internal_port},127.0.0.0/8,::1") == "HTTP 200"
    assert outbound.hits == ["/admin"]


def test_egress_rule_entries_and_addresses() -> None:
    from pcloud.core import egress

    def refusal(url: str, allowed: str) -> str | None:
        try:
            egress.check_url(url, allowed)
        except egress.EgressRefused as exc:
            return str(exc)
        return None

    assert refusal("http://127.0.0.1/", "127.0.0.1") is None
    assert refusal("https://[::1]:8443/", "[::1]:8443") is None
    assert refusal("http://10.1.2.3:8080/", "10.0.0.0/8:8080") is None
    assert "允许列表" in (refusal("http://10.1.2.3:8081/", "10.0.0.0/8:8080") or "")
    # "³" is no port: an entry that allows nothing, not an error
    assert "允许列表" in (refusal("http://10.1.2.3:8080/", "10.0.0.0/8:³") or "")
    for internal in ("127.0.0.1", "10.0.0.1", "169.254.169.254", "192.168.1.1", "224.0.0.1", "0.0.0.0",
                     "[::1]", "[::ffff:127.0.0.1]", "[fe80::1]", "100.64.0.1"):
        assert "内部地址" in (refusal(f"http://{internal}/", "*") or ""), internal
    assert "只允许 http" in (refusal("ftp://example.com/", "*") or "")
    assert "只允许 http" in (refusal("file:///etc/passwd", "*") or "")
    assert "允许列表" in (refusal("https://evilexample.com/x", "*.example.com") or "")
    assert "允许列表" in (refusal("http://127.0.0.1/", "") or "")


def test_job_log_clean_handler_deletes_old_runs_and_their_output(app: Any) -> None:
    from pcloud.core.timefmt import utcnow
    from pcloud.extensions import db
    from pcloud.jobs.models import JobRun, JobRunLine

    with app.app_context():
        now = utcnow()
        old = JobRun(job_group=1, job_id=1, trigger_type="CRON", schedule_time=now - timedelta(days=40),
                     trigger_time=now - timedelta(days=40), status="DONE", handle_code=200)
        still_running = JobRun(job_group=1, job_id=1, trigger_type="CRON", schedule_time=now - timedelta(days=41),
                               trigger_time=now - timedelta(days=41), status="RUNNING")
        new = JobRun(job_group=1, job_id=1, trigger_type="CRON", schedule_time=now, trigger_time=now,
                     status="DONE", handle_code=200)
        db.session.add_all([old, still_running, new])
        db.session.flush()
        db.session.add_all([JobRunLine(log_id=old.id, line_no=1, content="a"),
                            JobRunLine(log_id=new.id, line_no=1, content="b")])
        db.session.commit()
        assert "删除 1 条" in translated(maintenance.job_log_clean_handler(JobContext(param="30")))
        assert sorted(r.id for r in db.session.query(JobRun)) == sorted([new.id, still_running.id])
        assert [r.content for r in db.session.query(JobRunLine)] == ["b"]
        with pytest.raises(JobFailed):
            maintenance.job_log_clean_handler(JobContext(param="abc"))


def test_retention_handlers_never_go_below_the_configured_retention(app: Any) -> None:
    from pcloud.actionlog.models import ActionLog
    from pcloud.core.timefmt import utcnow
    from pcloud.extensions import db
    from pcloud.jobs.models import JobRun

    with app.app_context():
        now = utcnow()
        db.session.add_all([ActionLog(user_id=1, name="n", phone="13800000000", title=f"t{days}", method="POST",
                                      path="/api/x", status="success", cost_ms=1,
                                      gmt_created_date=now - timedelta(days=days)) for days in (2, 200)])
        db.session.add_all([JobRun(job_group=1, job_id=1, trigger_type="CRON", schedule_time=now - timedelta(days=d),
                                   trigger_time=now - timedelta(days=d), status="DONE", handle_code=200)
                            for d in (2, 40)])
        db.session.commit()
        assert "删除 1 条" in translated(maintenance.action_log_clean_handler(JobContext(param="1")))  # kept 180 days
        assert [r.title for r in db.session.query(ActionLog).filter(ActionLog.title.in_(("t2", "t200")))] == ["t2"]
        assert "删除 1 条" in translated(maintenance.job_log_clean_handler(JobContext(param="1")))  # kept 30 days
        assert db.session.query(JobRun).count() == 1


def test_the_connection_goes_to_the_checked_address_without_a_second_lookup(outbound: Any) -> None:
    """DNS rebinding: the socket is opened to an address the rule checked, never to a new resolution of
    the name (here a name no resolver knows: a second lookup would fail)."""
    from pcloud.core import egress

    destination = egress.check_url(f"{outbound.internal}/pinned", f"127.0.0.1:{outbound.internal_port}")
    assert destination.addresses == ("127.0.0.1",)
    renamed = egress.Destination("http", "rebound.invalid", destination.port, "/pinned", destination.addresses)
    conn = egress._CheckedConnection(renamed, timeout=5)
    try:
        conn.request("GET", "/pinned")
        assert conn.getresponse().status == 200
    finally:
        conn.close()
    assert outbound.hits == ["/pinned"]
