"""The handler registry and the built-in handlers, called the way the worker calls them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pcloud.jobs import handlers
from pcloud.jobs.handlers import JobContext, JobFailed, get_handler, job_handler, registered_handlers
from pcloud.jobs.worker import maintenance


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
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Recorder.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_http_handler_sends_method_headers_and_body_to_an_allowed_host(http_server: str) -> None:
    param = json.dumps({"url": f"{http_server}/hook", "method": "POST", "headers": {"X-Token": "t1"},
                        "body": {"a": 1}})
    ctx = JobContext(param=param, config={"PCLOUD_JOB_HTTP_ALLOWED_HOSTS": "127.0.0.1"})
    assert handlers.http_job_handler(ctx) == "HTTP 200"
    assert _Recorder.seen == [{"method": "POST", "path": "/hook", "body": '{"a": 1}', "x": "t1"}]


def test_http_handler_accepts_xxl_job_lines(http_server: str) -> None:
    param = f"url: {http_server}/lines\nmethod: put\ndata: hello\nworld"
    handlers.http_job_handler(JobContext(param=param, config={"PCLOUD_JOB_HTTP_ALLOWED_HOSTS": "*"}))
    assert _Recorder.seen[0] == {"method": "PUT", "path": "/lines", "body": "hello\nworld", "x": None}


def test_http_handler_fails_on_an_error_status(http_server: str) -> None:
    with pytest.raises(JobFailed, match="HTTP 500"):
        handlers.http_job_handler(JobContext(param=f"{http_server}/fail".join(["url: ", ""]),
                                             config={"PCLOUD_JOB_HTTP_ALLOWED_HOSTS": "127.0.0.1"}))


@pytest.mark.parametrize(("allowed", "url"), [
    ("", "http://127.0.0.1/x"),
    ("example.com", "http://127.0.0.1/x"),
    ("*.example.com", "http://example.org/x"),
    ("*", "file:///etc/passwd"),
])
def test_http_handler_refuses_hosts_outside_the_allow_list(allowed: str, url: str, http_server: str) -> None:
    with pytest.raises(JobFailed, match="允许列表"):
        handlers.http_job_handler(JobContext(param=json.dumps({"url": url}),
                                             config={"PCLOUD_JOB_HTTP_ALLOWED_HOSTS": allowed}))
    assert _Recorder.seen == []


def test_host_allow_list_patterns() -> None:
    assert handlers.host_allowed("https://api.example.com/x", "*.example.com")
    assert handlers.host_allowed("https://example.com/x", "a.org, example.com")
    assert not handlers.host_allowed("https://evilexample.com/x", "*.example.com")


def test_job_log_clean_handler_deletes_old_runs_and_their_output(app: Any) -> None:
    from pcloud.core.timefmt import utcnow
    from pcloud.extensions import db
    from pcloud.jobs.models import JobLog, JobLogLine

    with app.app_context():
        now = utcnow()
        old = JobLog(job_group=1, job_id=1, trigger_type="CRON", schedule_time=now - timedelta(days=40),
                     trigger_time=now - timedelta(days=40), status="DONE", handle_code=200)
        still_running = JobLog(job_group=1, job_id=1, trigger_type="CRON", schedule_time=now - timedelta(days=41),
                               trigger_time=now - timedelta(days=41), status="RUNNING")
        new = JobLog(job_group=1, job_id=1, trigger_type="CRON", schedule_time=now, trigger_time=now,
                     status="DONE", handle_code=200)
        db.session.add_all([old, still_running, new])
        db.session.flush()
        db.session.add_all([JobLogLine(log_id=old.id, line_no=1, content="a"),
                            JobLogLine(log_id=new.id, line_no=1, content="b")])
        db.session.commit()
        assert "删除 1 条" in maintenance.job_log_clean_handler(JobContext(param="30"))
        assert sorted(r.id for r in db.session.query(JobLog)) == sorted([new.id, still_running.id])
        assert [r.content for r in db.session.query(JobLogLine)] == ["b"]
        with pytest.raises(JobFailed):
            maintenance.job_log_clean_handler(JobContext(param="abc"))
