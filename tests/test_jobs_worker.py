"""The job worker: child pool, route strategies, misfire plans, alarms (unit level), then the worker
itself with real processes on the test database (see the second half)."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from pcloud.core.i18n import translated
from pcloud.jobs.worker import alarms, misfire, routing
from pcloud.jobs.worker.pool import ChildPool, Outcome, descendants

# ------------------------------------------------------------------------------------------ child pool


class PoolProbe:
    def __init__(self) -> None:
        self.lines: dict[int, list[str]] = {}
        self.done: dict[int, Outcome] = {}
        self.pool = ChildPool("tests.job_handlers:invoke", min_size=2, max_size=4, spare=1,
                              on_line=lambda i, line: self.lines.setdefault(i, []).append(line),
                              on_done=lambda o: self.done.__setitem__(o.task_id, o))

    def run(self, task_id: int, handler: str, param: str | None = None, timeout: float = 0,
            wait: float = 60) -> Outcome:
        deadline = time.monotonic() + wait
        while not self.pool.submit(task_id, handler, param, timeout=timeout):
            assert time.monotonic() < deadline, "no child became ready"
            self.pool.poll(0.05)
        return self.wait(task_id, deadline)

    def wait(self, task_id: int, deadline: float) -> Outcome:
        while task_id not in self.done:
            assert time.monotonic() < deadline, f"task {task_id} did not end"
            self.pool.poll(0.05)
        return self.done[task_id]


@pytest.fixture(scope="module")
def probe() -> Iterator[PoolProbe]:
    p = PoolProbe()
    p.pool.start()
    yield p
    p.pool.shutdown(1)


def test_a_handler_runs_in_a_child_with_its_output_and_logging_captured(probe: PoolProbe) -> None:
    out = probe.run(1, "echo", "hello")
    assert (out.code, out.msg) == (200, "ok hello")
    lines = probe.lines[1]
    assert "echo hello" in lines and "to stderr" in lines
    assert any(line.endswith("tests.job_handlers: logged hello") and " INFO " in line for line in lines)


def test_children_are_warm_and_reused(probe: PoolProbe) -> None:
    pids = {probe.run(100 + i, "pid").msg for i in range(6)}
    assert len(pids) <= probe.pool.max_size
    before = probe.pool.replaced
    for i in range(6):
        probe.run(200 + i, "pid")
    assert probe.pool.replaced == before


def test_a_raising_handler_fails_with_its_traceback_in_the_log(probe: PoolProbe) -> None:
    out = probe.run(2, "boom", "x")
    assert (out.code, out.msg) == (500, "RuntimeError: boom x")
    assert "about to fail" in probe.lines[2]
    assert any("RuntimeError: boom x" in line for line in probe.lines[2])
    assert probe.run(3, "echo", "after").code == 200  # the same child goes on


def test_os_exit_fails_the_run_and_the_child_is_replaced(probe: PoolProbe) -> None:
    before = probe.pool.replaced
    scratch = {child.scratch for child in probe.pool.children}
    out = probe.run(4, "hard_exit", "7")
    assert out.code == 500 and "exit code 7" in translated(out.msg or "")
    assert probe.lines[4] == ["exiting hard"]
    assert probe.pool.replaced == before + 1
    # the dead child's temporary directory went with it, the others' stay
    assert [os.path.isdir(path) for path in scratch].count(False) == 1
    assert probe.run(5, "echo", "again").code == 200


def test_a_pool_starting_removes_the_directories_a_killed_worker_left(tmp_path: Any, monkeypatch: Any) -> None:
    """A worker killed with -9 takes its children with it, and a running script's files stayed in its child's
    directory; the next pool on the host removes them, and never a directory of a worker still running."""
    import subprocess
    import tempfile

    from pcloud.jobs.worker.pool import SCRATCH_PREFIX

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = tmp_path / f"{SCRATCH_PREFIX}{gone.pid}-abc"
    (dead / "pcloud-glue-x").mkdir(parents=True)
    (dead / "pcloud-glue-x" / "script.sh").write_text("secret=1")
    alive = tmp_path / f"{SCRATCH_PREFIX}{os.getpid()}-def"
    alive.mkdir()
    pool = ChildPool("tests.job_handlers:invoke", min_size=0)
    pool.start()
    pool.shutdown()
    assert not dead.exists() and alive.is_dir()


CHILD_RUNS_HTTP_HANDLER = """
from pcloud.jobs.worker import child
child.setup()
for param in ("method: GET", "url: http://10.0.0.1/x"):
    try:
        child.invoke({"id": 1, "handler": "httpJobHandler", "param": param, "context": {}})
    except Exception as exc:
        print(type(exc).__name__ + ": " + str(exc))
"""


def test_a_built_in_handlers_refusal_reaches_the_run_from_a_real_worker_child(app: Any, database_url: str,
                                                                                 instance_dir: Any) -> None:
    """Review (session 15): the app a worker child builds had no translations, so every refusal of
    httpJobHandler (no url, the egress rule, an HTTP error) reached the run log as "KeyError: 'babel'". The
    worker's own child, in its own process, says why."""
    import subprocess
    import sys

    from tests.conftest import ROOT, TEST_CONFIG

    env = {**os.environ, "DATABASE_URL": database_url, "PCLOUD_INSTANCE_DIR": str(instance_dir),
           "PCLOUD_SECRET_KEY": TEST_CONFIG["SECRET_KEY"], "PCLOUD_JOB_HTTP_ALLOWED_HOSTS": ""}
    done = subprocess.run([sys.executable, "-c", CHILD_RUNS_HTTP_HANDLER], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    missing_url, refused = done.stdout.strip().splitlines()
    assert missing_url == "QuietFailure: 参数缺少 url", done.stdout
    assert refused.startswith("QuietFailure: ") and "10.0.0.1" in refused and "babel" not in refused, refused


def test_timeout_kills_the_child_with_502(probe: PoolProbe) -> None:
    started = time.monotonic()
    out = probe.run(6, "sleep", "30", timeout=0.5)
    assert out.code == 502 and time.monotonic() - started < 10
    assert probe.lines[6] == ["sleeping 30.0"]


def test_kill_stops_a_run_with_503(probe: PoolProbe) -> None:
    deadline = time.monotonic() + 60
    while not probe.pool.submit(7, "sleep", "30"):
        probe.pool.poll(0.05)
    while not probe.lines.get(7):
        assert time.monotonic() < deadline
        probe.pool.poll(0.05)
    assert probe.pool.kill(7, 503, "killed by test")
    out = probe.wait(7, deadline)
    assert (out.code, out.msg) == (503, "killed by test")
    assert not probe.pool.kill(7)


def test_a_megabyte_of_output_arrives_whole(probe: PoolProbe) -> None:
    out = probe.run(8, "megabyte")
    assert out.code == 200
    lines = probe.lines[8]
    assert sum(1 for line in lines if line == "x" * 1023) == 1024
    assert "".join(line for line in lines if line.startswith("y")) == "y" * 100_000


# ------------------------------------------------------------------------------------------ routing

NODES = [routing.Node("node-b"), routing.Node("node-a"), routing.Node("node-c")]


def _pick(strategy: str, state: routing.RouteState | None = None, job_id: int = 1, nodes: Any = None,
          **kw: Any) -> list[routing.Assignment]:
    return routing.route(strategy, job_id, NODES if nodes is None else nodes, state or routing.RouteState(), **kw)


def test_first_last_and_no_nodes() -> None:
    assert _pick("FIRST") == [routing.Assignment("node-a")]
    assert _pick("LAST") == [routing.Assignment("node-c")]
    for strategy in routing.STRATEGIES:
        assert _pick(strategy, nodes=[]) == []
    with pytest.raises(ValueError):
        _pick("NOPE")


def test_round_cycles_through_every_node() -> None:
    state = routing.RouteState()
    picks = [_pick("ROUND", state)[0].node for _ in range(6)]
    assert Counter(picks) == {"node-a": 2, "node-b": 2, "node-c": 2}
    assert picks[:3] == picks[3:]


def test_random_uses_every_node() -> None:
    state = routing.RouteState()
    assert {_pick("RANDOM", state)[0].node for _ in range(200)} == {"node-a", "node-b", "node-c"}


def test_consistent_hash_is_stable_and_moves_few_jobs() -> None:
    names = ["node-a", "node-b", "node-c"]
    before = {job: routing.consistent_hash(job, names) for job in range(300)}
    assert before == {job: routing.consistent_hash(job, list(reversed(names))) for job in range(300)}
    assert set(before.values()) == set(names)
    after = {job: routing.consistent_hash(job, [*names, "node-d"]) for job in range(300)}
    moved = [job for job in before if before[job] != after[job]]
    assert all(after[job] == "node-d" for job in moved)
    assert len(moved) < 150


def test_least_frequently_and_recently_used() -> None:
    state = routing.RouteState()
    picks = [_pick("LEAST_FREQUENTLY_USED", state)[0].node for _ in range(6)]
    assert Counter(picks) == {"node-a": 2, "node-b": 2, "node-c": 2}
    state = routing.RouteState()
    picks = [_pick("LEAST_RECENTLY_USED", state)[0].node for _ in range(4)]
    assert picks == ["node-a", "node-b", "node-c", "node-a"]
    # a node that joins is the least recently used one
    picks = _pick("LEAST_RECENTLY_USED", state, nodes=[*NODES, routing.Node("node-d")])
    assert picks[0].node == "node-d"


def test_failover_skips_stale_nodes_and_busyover_skips_busy_ones() -> None:
    nodes = [routing.Node("node-a", 20.0), routing.Node("node-b", 1.0), routing.Node("node-c", 2.0)]
    assert _pick("FAILOVER", nodes=nodes)[0].node == "node-b"
    assert _pick("FAILOVER", nodes=[routing.Node("node-a", 25.0)])[0].node == "node-a"
    assert _pick("BUSYOVER", is_busy=lambda n: n in {"node-a", "node-b"})[0].node == "node-c"
    assert _pick("BUSYOVER", is_busy=lambda n: True)[0].node == "node-a"


def test_sharding_broadcast_gives_each_node_its_shard() -> None:
    assert _pick("SHARDING_BROADCAST") == [routing.Assignment("node-a", 0, 3), routing.Assignment("node-b", 1, 3),
                                          routing.Assignment("node-c", 2, 3)]


# ------------------------------------------------------------------------------------------ misfire

T0 = datetime(2026, 1, 1, 12, 0, 0)
GRACE = timedelta(seconds=5)


def _every(seconds: int) -> Any:
    return lambda t: t + timedelta(seconds=seconds)


def _grid(seconds: int) -> Any:
    """A cron-like schedule: every multiple of `seconds` after T0."""
    return lambda t: T0 + timedelta(seconds=((t - T0).total_seconds() // seconds + 1) * seconds)


def test_a_due_fire_runs_with_its_planned_time() -> None:
    plan = misfire.plan_fires("CRON", T0, T0 + timedelta(seconds=0.2), GRACE, "DO_NOTHING", _every(60))
    assert plan.fires == [(T0, "CRON")] and plan.next_time == T0 + timedelta(seconds=60) and not plan.misfired


def test_a_short_stall_catches_up_every_fire() -> None:
    plan = misfire.plan_fires("FIX_RATE", T0, T0 + timedelta(seconds=3.5), GRACE, "DO_NOTHING", _every(1))
    assert plan.fires == [(T0 + timedelta(seconds=i), "FIX_RATE") for i in range(4)]
    assert plan.next_time == T0 + timedelta(seconds=4)


def test_do_nothing_skips_missed_fires_and_keeps_the_phase() -> None:
    now = T0 + timedelta(seconds=63.5)
    plan = misfire.plan_fires("FIX_RATE", T0, now, GRACE, "DO_NOTHING", _every(10))
    assert plan.misfired and plan.fires == [(T0 + timedelta(seconds=60), "FIX_RATE")]
    assert plan.next_time == T0 + timedelta(seconds=70)


def test_fire_once_now_runs_one_misfire_run() -> None:
    now = T0 + timedelta(seconds=65.5)
    plan = misfire.plan_fires("CRON", T0, now, GRACE, "FIRE_ONCE_NOW", _grid(30))
    assert plan.misfired and plan.fires == [(T0, "MISFIRE")]
    assert plan.next_time == T0 + timedelta(seconds=90)


def test_a_schedule_that_ends() -> None:
    plan = misfire.plan_fires("CRON", T0, T0, GRACE, "DO_NOTHING", lambda t: None)
    assert plan.fires == [(T0, "CRON")] and plan.next_time is None
    assert misfire.resume_after("FIX_RATE", T0, T0 + timedelta(days=1), _every(1)) == T0 + timedelta(days=1, seconds=1)


# ------------------------------------------------------------------------------------------ alarms

ALARM = {"logId": 42, "jobId": 7, "jobGroup": 1, "appname": "demo", "jobDesc": "夜间对账", "triggerType": "CRON",
         "scheduleTime": "2026-01-01T12:00:00", "executorAddress": "node-a", "handleCode": 500,
         "handleMsg": "RuntimeError: boom", "alarmEmail": "ops@example.com, dev@example.com"}


class SmtpSink:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, SmtpSink]]:
    from aiosmtpd.controller import Controller

    from tests.conftest import free_port

    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, sink
    controller.stop()


class WebhookSink(BaseHTTPRequestHandler):
    received: list[Any] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802 - http.server hook
        body = self.rfile.read(int(self.headers["Content-Length"]))
        WebhookSink.received.append((self.headers["Content-Type"], json.loads(body)))
        self.send_response(WebhookSink.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook_server() -> Iterator[str]:
    WebhookSink.received = []
    WebhookSink.status = 200
    server = HTTPServer(("127.0.0.1", 0), WebhookSink)
    serve_in_background(server)
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def _collect(sender: alarms.AlarmSender, n: int = 1, wait: float = 20) -> list[tuple[int, int | None]]:
    got: list[tuple[int, int | None]] = []
    deadline = time.monotonic() + wait
    while len(got) < n:
        assert time.monotonic() < deadline
        got += sender.results()
        time.sleep(0.02)
    return got


def test_alarm_email_and_webhook_are_received(smtp_server: tuple[int, SmtpSink], webhook_server: str) -> None:
    port, sink = smtp_server
    sender = alarms.AlarmSender(alarms.AlarmSettings(smtp_host="127.0.0.1", smtp_port=port,
                                                     smtp_from="jobs@example.com", webhook=webhook_server,
                                                     allowed_hosts=webhook_server.split("/")[2]))
    sender.submit(dict(ALARM))
    assert _collect(sender) == [(42, alarms.ALARM_SENT)]
    sender.close()
    (envelope,) = sink.messages
    assert envelope.mail_from == "jobs@example.com"
    assert envelope.rcpt_tos == ["ops@example.com", "dev@example.com"]
    text = envelope.content.decode()
    assert "=?utf-8?" in text  # a Chinese subject, encoded
    import email

    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert "夜间对账" in mail["Subject"] and "RuntimeError: boom" in mail.get_content()
    ((ctype, payload),) = WebhookSink.received
    assert ctype.startswith("application/json") and payload["logId"] == 42 and payload["handleCode"] == 500


def test_a_failing_alarm_is_recorded_and_never_blocks(webhook_server: str) -> None:
    from tests.conftest import free_port

    WebhookSink.status = 500
    sender = alarms.AlarmSender(alarms.AlarmSettings(smtp_host="127.0.0.1", smtp_port=free_port(), timeout=2,
                                                     webhook=webhook_server,
                                                     allowed_hosts=webhook_server.split("/")[2]))
    started = time.monotonic()
    for i in range(3):
        sender.submit({**ALARM, "logId": i})
    assert time.monotonic() - started < 0.5  # submitting never waits for the network
    assert sorted(_collect(sender, 3)) == [(0, 3), (1, 3), (2, 3)]
    sender.close()


def test_an_alarm_webhook_obeys_the_egress_rule(outbound: Any) -> None:
    """Issue 19, finding 4: a webhook that redirects inward is a failed alarm, not a call inside."""
    front = f"127.0.0.1:{outbound.front_port}"
    for status in (302, 307):
        hook = outbound.redirect(status, f"{outbound.internal}/admin/secret")
        settings = alarms.AlarmSettings.from_env({"PCLOUD_ALARM_WEBHOOK": hook,
                                                  "PCLOUD_JOB_HTTP_ALLOWED_HOSTS": f"127.0.0.1,{front}"})
        assert alarms.deliver(settings, ALARM) == alarms.ALARM_FAILED
    assert outbound.hits == []
    not_listed = alarms.AlarmSettings.from_env({"PCLOUD_ALARM_WEBHOOK": f"{outbound.internal}/hook"})
    assert alarms.deliver(not_listed, ALARM) == alarms.ALARM_FAILED
    assert outbound.hits == []
    listed = alarms.AlarmSettings.from_env({"PCLOUD_ALARM_WEBHOOK": f"{outbound.front}/hook",
                                            "PCLOUD_JOB_HTTP_ALLOWED_HOSTS": front})
    assert alarms.deliver(listed, ALARM) == alarms.ALARM_SENT


def test_one_alarm_per_job_per_interval_whichever_worker_raises_it(app: Any, jobs: Any) -> None:
    """Review (session 15): a job failing every second, with eleven outside addresses in alarmEmail, mailed each
    of them every second (about 86,000 mails a day). A worker takes the job's alarm slot in the database before
    it sends: of failures within PCLOUD_ALARM_MIN_INTERVAL_SECONDS of the job's last alarm only the first is
    sent, the rest are suppressed (4), also when several workers raise them at once; another job is not held up,
    and after the interval the next failure alarms again."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import select, update

    from pcloud.extensions import db
    from pcloud.jobs.models import Job, JobRun
    from pcloud.jobs.worker.runtime import Worker, WorkerSettings

    class Recorder(alarms.AlarmSender):
        def __init__(self) -> None:
            super().__init__(alarms.AlarmSettings(smtp_host="127.0.0.1", min_interval=300))
            self.sent: list[int] = []

        def submit(self, alarm: dict[str, Any]) -> None:
            self.sent.append(alarm["logId"])

    from tests.factories import make_run

    executor = jobs.executor()
    flaky = jobs.job("testBoom", "x", alarm_email="ops@example.com")
    other = jobs.job("testBoom", "y", alarm_email="ops@example.com")

    def failed(job: int) -> int:
        return make_run(app, executor, job, status="DONE", handle_code=500, handle_msg="boom")

    runs = {job: [failed(job) for _ in range(6)] for job in (flaky, other)}
    with app.app_context():
        recorders = [Recorder() for _ in range(3)]
        workers = [Worker(WorkerSettings.from_env(None, f"alarm-{i}"), alarms=r) for i, r in enumerate(recorders)]
        by_id = {row.id: row._asdict() for row in db.session.execute(select(
            JobRun.id, JobRun.job_id, JobRun.job_group, JobRun.trigger_type, JobRun.schedule_time,
            JobRun.executor_address, JobRun.trigger_code, JobRun.trigger_msg, JobRun.handle_code,
            JobRun.handle_msg))}
        db.session.remove()
        calls = [(workers[i % 3], by_id[run_id]) for i, run_id in enumerate(runs[flaky] + runs[other])]

        def raise_alarm(call: tuple[Any, dict[str, Any]]) -> None:
            with app.app_context():
                call[0]._raise_alarm(call[1], None)

        with ThreadPoolExecutor(6) as pool:
            list(pool.map(raise_alarm, calls))
        sent = [log_id for r in recorders for log_id in r.sent]
        assert len([i for i in sent if i in runs[flaky]]) == 1 and len([i for i in sent if i in runs[other]]) == 1
        statuses = dict(db.session.execute(select(JobRun.id, JobRun.alarm_status)).tuples().all())
        assert sorted(statuses[i] for i in runs[flaky] if i not in sent) == [4] * 5
        # the interval over, the next failure alarms again
        db.session.execute(update(Job).where(Job.id == flaky).values(alarm_at=datetime.utcnow() - timedelta(
            seconds=301)))
        db.session.commit()
        late = failed(flaky)
        workers[0]._raise_alarm({**by_id[runs[flaky][0]], "id": late}, None)
        assert recorders[0].sent[-1] == late
        db.session.remove()


def test_nothing_configured_means_no_alarm() -> None:
    assert alarms.deliver(alarms.AlarmSettings(), ALARM) is None
    assert alarms.deliver(alarms.AlarmSettings(smtp_host="127.0.0.1"), {**ALARM, "alarmEmail": ""}) is None
    settings = alarms.AlarmSettings.from_env({"PCLOUD_SMTP_HOST": "mail", "PCLOUD_SMTP_PORT": "2525",
                                              "PCLOUD_SMTP_USER": "u@x", "PCLOUD_ALARM_WEBHOOK": "http://h/"})
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.webhook) == (
        "mail", 2525, "u@x", "http://h/")


# ==========================================================================================
# The worker with real processes: `pcloud worker` subprocesses on the test database.
# ==========================================================================================

import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from sqlalchemy import func, or_, select, update  # noqa: E402

import tests.job_handlers  # noqa: E402, F401 - registers the test handlers in this process too (the console side)
from tests.conftest import ROOT, TEST_CONFIG, serve_in_background  # noqa: E402

PCLOUD = str(Path(sys.executable).parent / "pcloud")
DEAD_AFTER = 8  # PCLOUD_NODE_DEAD_SECONDS for these workers (30 in production), to keep the suite short
# the pair's: 50 runs a second on a loaded machine (load 18 on 2 cores) left a worker's loop without a heartbeat
# for more than 8 s, and the other node ended its running runs as lost (504) in the exactly-once test
PAIR_DEAD_AFTER = 20
# PCLOUD_WORKER_HEARTBEAT_SECONDS (10 in production): the tests wait for beats (a node registered again after the
# per-test reset, every node seen by the others), so a short beat is a short wait
HEARTBEAT = "0.25"


class WorkerProc:
    def __init__(self, name: str, proc: subprocess.Popen[bytes], log_path: Path):
        self.name = name
        self.proc = proc
        self.log_path = log_path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)


def start_worker(database_url: str, instance_dir: Path, tmp: Path, name: str, executor: str | None = None,
                 env: dict[str, str] | None = None) -> WorkerProc:
    log_path = tmp / f"worker-{name}.log"
    full_env = {**os.environ, "DATABASE_URL": database_url, "PCLOUD_INSTANCE_DIR": str(instance_dir),
                "PCLOUD_SECRET_KEY": TEST_CONFIG["SECRET_KEY"], "PYTHONPATH": str(ROOT),
                "PCLOUD_JOB_HANDLER_MODULES": "tests.job_handlers", "PCLOUD_NODE_DEAD_SECONDS": str(DEAD_AFTER),
                "PCLOUD_WORKER_HEARTBEAT_SECONDS": HEARTBEAT, "PCLOUD_WORKER_SHUTDOWN_GRACE": "2",
                "PCLOUD_WORKER_CHILDREN": "6", **(env or {})}
    node = (env or {}).get("PCLOUD_WORKER_NAME", name)
    args = [PCLOUD, "worker", "--name", node] + (["--group", executor] if executor else [])
    with open(log_path, "wb") as fh:
        proc = subprocess.Popen(args, cwd=ROOT, env=full_env, stdout=fh, stderr=subprocess.STDOUT)
    return WorkerProc(name, proc, log_path)


def wait_until(predicate: Any, timeout: float = 60, what: str = "condition", workers: list[WorkerProc] = ()) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {w.name}\n{w.output()[-3000:]}" for w in workers)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.1)


class Jobs:
    """Test-side access to the jobs tables through the console's service."""

    def __init__(self, app: Any):
        self.app = app

    def _db(self) -> Any:
        from pcloud.extensions import db

        return db

    def executor(self, appname: str = "pcloud-executor") -> int:
        from pcloud.jobs import service
        from pcloud.jobs.models import Executor

        with self.app.app_context():
            db = self._db()
            found = db.session.execute(Executor.live().where(Executor.appname == appname)).scalar_one_or_none()
            if found is None:
                found = service.create_executor({"appname": appname, "title": appname, "address_type": 0})
            executor_id = found.id
            db.session.remove()
            return executor_id

    def job(self, handler: str, param: str | None = None, **fields: Any) -> int:
        from pcloud.jobs import service

        data = {"job_group": fields.pop("job_group", None) or self.executor(), "job_desc": f"test {handler}",
                "author": "tester", "schedule_type": "NONE", "executor_handler": handler,
                "executor_param": param, **fields}
        with self.app.app_context():
            job_id = service.create_job(data).id
            self._db().session.remove()
            return job_id

    def trigger(self, job_id: int, param: str | None = None, nodes: str | None = None) -> list[int]:
        from pcloud.jobs import service

        with self.app.app_context():
            runs = service.trigger_job(job_id, param, nodes)
            ids = [r.id for r in runs]
            self._db().session.remove()
            return ids

    def runs(self, *where: Any) -> list[Any]:
        from pcloud.jobs.models import JobRun

        with self.app.app_context():
            db = self._db()
            with db.engine.connect() as conn:
                return conn.execute(select(JobRun.__table__).where(*where).order_by(JobRun.id)).mappings().all()

    def run(self, run_id: int) -> Any:
        from pcloud.jobs.models import JobRun

        (row,) = self.runs(JobRun.id == run_id)
        return row

    def lines(self, run_id: int) -> list[str]:
        from pcloud.jobs.models import JobRunLine

        with self.app.app_context(), self._db().engine.connect() as conn:
            return list(conn.execute(select(JobRunLine.content).where(JobRunLine.log_id == run_id)
                                     .order_by(JobRunLine.line_no)).scalars())

    def done(self, run_id: int, timeout: float = 60, workers: list[WorkerProc] = ()) -> Any:
        return wait_until(lambda: (r := self.run(run_id))["status"] == "DONE" and r, timeout, f"run {run_id}",
                          workers)

    def set_job(self, job_id: int, **values: Any) -> None:
        from pcloud.jobs.models import Job

        with self.app.app_context(), self._db().engine.begin() as conn:
            conn.execute(update(Job.__table__).where(Job.__table__.c.id == job_id).values(**values))

    def set_run_done(self, run_id: int) -> None:
        from pcloud.jobs.models import ALARM_NOT_NEEDED, JobRun

        with self.app.app_context(), self._db().engine.begin() as conn:
            conn.execute(update(JobRun.__table__).where(JobRun.__table__.c.id == run_id).values(
                status="DONE", handle_code=500, alarm_status=ALARM_NOT_NEEDED))

    def kill(self, run_id: int) -> None:
        from pcloud.jobs import service

        with self.app.app_context():
            service.kill_run(run_id)
            self._db().session.remove()

    def heartbeats(self) -> dict[str, datetime]:
        """Each registered node's last heartbeat (naive UTC by the database's clock, this host's here to a fraction of
        a millisecond: one machine)."""
        from pcloud.jobs.models import JobRegistry

        with self.app.app_context(), self._db().engine.connect() as conn:
            return dict(conn.execute(select(JobRegistry.name, JobRegistry.heartbeat_at)).tuples().all())

    def nodes(self) -> list[str]:
        from pcloud.jobs.models import JobRegistry

        with self.app.app_context(), self._db().engine.connect() as conn:
            return sorted(conn.execute(select(JobRegistry.name)).scalars())


@pytest.fixture
def jobs(app: Any) -> Jobs:
    return Jobs(app)


def _ms_now() -> int:
    return int(time.time() * 1000)


# ---------------------------------------------------------------- restarts: misfire, FIX_RATE phase, SIGTERM


@pytest.mark.slow
def test_misfire_phase_and_clean_shutdown_across_a_restart(jobs: Jobs, database_url: str, instance_dir: Path,
                                                           tmp_path: Path) -> None:
    from pcloud.jobs.models import JobRun

    executor = jobs.executor("restart-group")
    # The worker "was down for a minute": both jobs were due 60 s ago (10 s FIX_RATE grid).
    due = _ms_now() - 60_000
    quiet = jobs.job("testEcho", "quiet", job_group=executor, schedule_type="FIX_RATE", schedule_conf="10",
                     misfire_strategy="DO_NOTHING", trigger_status=1)
    once = jobs.job("testEcho", "once", job_group=executor, schedule_type="FIX_RATE", schedule_conf="10",
                    misfire_strategy="FIRE_ONCE_NOW", trigger_status=1)
    for job_id in (quiet, once):
        jobs.set_job(job_id, trigger_next_time=due)
    rate = jobs.job("testEcho", "rate", job_group=executor, schedule_type="FIX_RATE", schedule_conf="2",
                    trigger_status=1)
    long_job = jobs.job("testSleep", "60", job_group=executor)
    w1 = start_worker(database_url, instance_dir, tmp_path, "restart-1", executor="restart-group")
    try:
        wait_until(lambda: len(jobs.runs(JobRun.job_id == rate, JobRun.status == "DONE")) >= 2, 90,
                   "two FIX_RATE runs", [w1])
        misfire_runs = jobs.runs(JobRun.job_id.in_([quiet, once]), JobRun.trigger_type == "MISFIRE")
        assert [(r["job_id"], r["schedule_time"]) for r in misfire_runs] == [
            (once, datetime.utcfromtimestamp(due / 1000))]
        for job_id in (quiet, once):  # the schedule resumed on its own 10 s grid, after now
            with jobs.app.app_context():
                from pcloud.jobs.service import get_job

                nxt = get_job(job_id).trigger_next_time
            assert (nxt - due) % 10_000 == 0 and nxt > _ms_now() - 1000
        (long_run,) = jobs.trigger(long_job, nodes="restart-1")
        wait_until(lambda: jobs.run(long_run)["status"] == "RUNNING" and jobs.lines(long_run), 30, "long run", [w1])
        assert w1.stop(signal.SIGTERM) == 0
        run = jobs.run(long_run)
        assert (run["status"], run["handle_code"]) == ("DONE", 503) and "停止" in run["handle_msg"]
        assert "restart-1" not in jobs.nodes()
        assert not jobs.runs(JobRun.status == "RUNNING")
        before = len(jobs.runs(JobRun.job_id == rate))
        time.sleep(3)
    finally:
        w1.stop(signal.SIGKILL)
    w2 = start_worker(database_url, instance_dir, tmp_path, "restart-2", executor="restart-group")
    try:
        wait_until(lambda: len(jobs.runs(JobRun.job_id == rate, JobRun.status == "DONE")) >= before + 2, 90,
                   "FIX_RATE runs after the restart", [w2])
    finally:
        assert w2.stop() == 0
    runs = jobs.runs(JobRun.job_id == rate, JobRun.trigger_type == "FIX_RATE")
    times = [r["schedule_time"] for r in runs]
    assert len(times) == len(set(times))
    first = times[0]
    assert all(((t - first).total_seconds() * 1000) % 2000 == 0 for t in times), times
    assert {r["executor_address"] for r in runs} == {"restart-1", "restart-2"}


@pytest.mark.slow
def test_a_node_restarted_under_its_name_ends_its_old_runs(jobs: Jobs, database_url: str, instance_dir: Path,
                                                          tmp_path: Path) -> None:
    from pcloud.jobs.models import JobRun

    executor = jobs.executor("same-name-group")
    job = jobs.job("testSleepFirst", "120", job_group=executor, executor_fail_retry_count=1)
    first = start_worker(database_url, instance_dir, tmp_path, "fixed", executor="same-name-group")
    try:
        (run_id,) = jobs.trigger(job)
        wait_until(lambda: jobs.run(run_id)["status"] == "RUNNING" and jobs.lines(run_id), 90, "running", [first])
    finally:
        first.stop(signal.SIGKILL)
    second = start_worker(database_url, instance_dir, tmp_path, "fixed-again", executor="same-name-group",
                          env={"PCLOUD_WORKER_NAME": "fixed"})
    try:
        run = jobs.done(run_id, 90, [second])
        assert (run["handle_code"], run["handle_msg"]) == (504, "执行器节点重启，任务中断")
        retry = wait_until(lambda: [r for r in jobs.runs(JobRun.parent_log_id == run_id) if r["status"] == "DONE"],
                           60, "the retry", [second])[0]
        assert (retry["trigger_type"], retry["handle_code"], retry["executor_address"]) == ("RETRY", 200, "fixed")
    finally:
        assert second.stop() == 0


# ---------------------------------------------------------------- two workers sharing the default executor


class Pair:
    def __init__(self, workers: list[WorkerProc], smtp: SmtpSink, webhook: str):
        self.workers = workers
        self.smtp = smtp
        self.webhook = webhook

    def alive(self) -> None:
        for w in self.workers:
            assert w.proc.poll() is None, f"worker {w.name} died:\n{w.output()[-3000:]}"


@pytest.fixture(scope="module")
def pair_processes(app: Any, database_url: str, instance_dir: Path, tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[Pair]:
    from aiosmtpd.controller import Controller

    from tests.conftest import free_port

    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    WebhookSink.received = []
    server = HTTPServer(("127.0.0.1", 0), WebhookSink)
    serve_in_background(server)
    hook = f"http://127.0.0.1:{server.server_address[1]}/hook"
    tmp = tmp_path_factory.mktemp("workers")
    env = {"PCLOUD_SMTP_HOST": "127.0.0.1", "PCLOUD_SMTP_PORT": str(controller.port),
           "PCLOUD_SMTP_FROM": "jobs@example.com", "PCLOUD_ALARM_WEBHOOK": hook,
           "PCLOUD_JOB_HTTP_ALLOWED_HOSTS": hook.split("/")[2],
           # no test of the pair is about misfires; under load a scheduler may be more than the default 5 s
           # late, and the misfire it then (rightly) declares would read as a missed fire
           "PCLOUD_MISFIRE_GRACE_SECONDS": "45", "PCLOUD_NODE_DEAD_SECONDS": str(PAIR_DEAD_AFTER),
           # hosts in UTC, the console in Asia/Shanghai (the test configuration's PCLOUD_TIMEZONE)
           "TZ": "UTC"}
    workers = [start_worker(database_url, instance_dir, tmp, name, env=env) for name in ("node-a", "node-b")]
    yield Pair(workers, sink, hook)
    for w in workers:
        w.stop()
    controller.stop()
    server.shutdown()
    server.server_close()


@pytest.fixture
def pair(pair_processes: Pair, jobs: Jobs) -> Iterator[Pair]:
    """Both workers registered again after the per-test wipe, with the default executor present; at the
    end every run is over, so that the next test's wipe never cuts a run in the middle."""
    from pcloud.jobs.models import ALARM_NONE, JobRun

    jobs.executor()
    pair_processes.smtp.messages.clear()
    WebhookSink.received = []
    WebhookSink.status = 200
    wait_until(lambda: {"node-a", "node-b"} <= set(jobs.nodes()), 120, "both nodes registered",
               pair_processes.workers)
    # Every worker has read the live nodes since: a heartbeat writes its row, then reads the live nodes, so a
    # node's second beat after both were registered proves the first one's read is over.
    both_seen = datetime.utcnow()
    first = wait_until(lambda: (beats := jobs.heartbeats()) and all(beats.get(n, both_seen) > both_seen
                                                                   for n in ("node-a", "node-b")) and beats,
                       30, "a heartbeat of each node", pair_processes.workers)
    wait_until(lambda: all(jobs.heartbeats().get(n, first[n]) > first[n] for n in ("node-a", "node-b")), 30,
               "a second heartbeat of each node", pair_processes.workers)
    yield pair_processes
    # Every run over, which includes its output: a worker writes a run's last lines in the transaction that
    # ends it (runtime.flush); and every alarm settled, so none reaches the next test's sinks.
    wait_until(lambda: not jobs.runs(or_(JobRun.status != "DONE", JobRun.alarm_status == ALARM_NONE)), 60,
               "every run over and its alarm settled", pair_processes.workers)


@pytest.mark.slow
def test_exactly_once_with_two_workers(pair: Pair, jobs: Jobs) -> None:
    """50 jobs firing every second for 15 s in the suite; the issue's 60 s with
    PCLOUD_TEST_EXACTLY_ONCE_SECONDS=60 (run so before a release; the note of issue 11 has the figures).

    Every fire from each job's first planned time up to the end of the window has exactly one run, and no
    fire is planned after the job was stopped. No wall-clock bound: the window's end is awaited. Under load
    (others' suites on the same 2 cores) the former bounds failed without any fire missed: stopping 50 jobs
    one by one (each stop waiting for the scheduler's row lock on PostgreSQL) can take more than the 3 s
    the last fire had to be within, and a scheduler late by more than the 5 s misfire grace skipped fires."""
    from pcloud.jobs import service
    from pcloud.jobs.models import Job, JobRun

    ids = [jobs.job("testNoop", None, schedule_type="CRON", schedule_conf="* * * * * ?",
                    executor_route_strategy="ROUND") for _ in range(50)]
    # all started at once (creating 50 jobs under load takes seconds): each one's first fire is this second
    first = datetime.utcnow().replace(microsecond=0) + timedelta(seconds=2)
    with jobs.app.app_context(), jobs._db().engine.begin() as conn:
        conn.execute(update(Job.__table__).where(Job.__table__.c.id.in_(ids)).values(
            trigger_status=1, trigger_next_time=int(first.replace(tzinfo=UTC).timestamp() * 1000)))
    window_end = first + timedelta(seconds=float(os.environ.get("PCLOUD_TEST_EXACTLY_ONCE_SECONDS", "15")))

    def fired_to_the_end() -> bool:
        with jobs.app.app_context(), jobs._db().engine.connect() as conn:
            reached = conn.execute(select(func.count(func.distinct(JobRun.job_id))).where(
                JobRun.job_id.in_(ids), JobRun.schedule_time >= window_end)).scalar()
        return reached == len(ids)

    # every job has fired the window's last second, however late the schedulers are under load
    wait_until(fired_to_the_end, 120, "every job fired to the end of the window", pair.workers)
    stop_done: dict[int, datetime] = {}
    with jobs.app.app_context():
        for job_id in ids:
            service.stop_job(job_id)
            stop_done[job_id] = datetime.utcnow()
    pair.alive()
    wait_until(lambda: not jobs.runs(JobRun.status != "DONE"), 60, "every run done", pair.workers)
    runs = jobs.runs(JobRun.job_id.in_(ids))
    assert runs and all(r["trigger_type"] == "CRON" and r["handle_code"] == 200 for r in runs), \
        Counter((r["trigger_type"], r["handle_code"], r["handle_msg"]) for r in runs)
    by_job: dict[int, list[datetime]] = {}
    for r in runs:
        by_job.setdefault(r["job_id"], []).append(r["schedule_time"])
    assert set(by_job) == set(ids)
    for job_id, times in by_job.items():
        assert len(times) == len(set(times)), f"job {job_id} fired twice"
        times.sort()
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
        assert all(g == 1.0 for g in gaps), f"job {job_id} missed fires: {gaps}"
        assert times[0] == first, f"job {job_id} missed its first fire"
        assert window_end <= times[-1] <= stop_done[job_id], f"job {job_id}: last fire {times[-1]}"
    assert {r["executor_address"] for r in runs} == {"node-a", "node-b"}
    lags = sorted(float(r["handle_msg"]) - r["schedule_time"].replace(tzinfo=UTC).timestamp() for r in runs)
    print(f"\n{len(runs)} runs; fire lag p50 {lags[len(lags) // 2]:.3f}s p99 {lags[int(len(lags) * .99)]:.3f}s "
          f"max {lags[-1]:.3f}s")


@pytest.mark.slow
def test_output_is_readable_while_running_and_a_megabyte_is_kept(pair: Pair, jobs: Jobs) -> None:
    sleeper = jobs.job("testSleep", "3")
    (run_id,) = jobs.trigger(sleeper)
    wait_until(lambda: jobs.run(run_id)["status"] == "RUNNING" and jobs.lines(run_id), 30, "live output",
               pair.workers)
    assert jobs.lines(run_id) == ["sleeping 3.0"] and jobs.run(run_id)["line_count"] == 1
    run = jobs.done(run_id, workers=pair.workers)
    assert (run["handle_code"], run["handle_msg"], jobs.lines(run_id)) == (200, "slept", ["sleeping 3.0", "woke up"])
    (big,) = jobs.trigger(jobs.job("testMegabyte"))
    run = jobs.done(big, workers=pair.workers)
    lines = jobs.lines(big)
    assert run["handle_code"] == 200 and run["line_count"] == len(lines)
    assert lines.count("x" * 1023) == 1024 and sum(map(len, lines)) == 1024 * 1023 + 100_000


@pytest.mark.slow
def test_a_handler_s_logging_is_stamped_in_the_console_s_zone(pair: Pair, jobs: Jobs, app: Any) -> None:
    """The run log's times agree with the run's own (PCLOUD_TIMEZONE), not with the worker host's zone: a review
    read 20:31:49 in a run triggered at 04:31:48."""
    from pcloud.core.timefmt import to_local

    (run_id,) = jobs.trigger(jobs.job("testEcho", "zone"))
    run = jobs.done(run_id, workers=pair.workers)
    (line,) = [text for text in jobs.lines(run_id) if text.endswith("logged zone")]
    with app.app_context():
        triggered = to_local(run["trigger_time"])
    stamped = datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S")
    assert abs(stamped - triggered) < timedelta(minutes=1), (line, triggered)


@pytest.mark.slow
def test_timeout_ends_the_run_with_502(pair: Pair, jobs: Jobs) -> None:
    (run_id,) = jobs.trigger(jobs.job("testSleep", "30", executor_timeout=1))
    started = time.monotonic()
    run = jobs.done(run_id, 30, pair.workers)
    assert run["handle_code"] == 502 and time.monotonic() - started < 15
    assert jobs.lines(run_id) == ["sleeping 30.0"]
    # a timeout is a failure: alarmed (the webhook of the pair receives it)
    wait_until(lambda: jobs.run(run_id)["alarm_status"] == 2, 20, "alarm status", pair.workers)


@pytest.mark.slow
def test_kill_from_the_api_ends_the_run_with_503(pair: Pair, jobs: Jobs, api: Any) -> None:
    (run_id,) = jobs.trigger(jobs.job("testSleep", "30"))
    wait_until(lambda: jobs.run(run_id)["status"] == "RUNNING", 30, "running", pair.workers)
    resp = api.post(f"/api/job/joblog/{run_id}/logKill")
    assert resp.status_code == 200, resp.get_json()
    run = jobs.done(run_id, 15, pair.workers)
    assert (run["handle_code"], run["handle_msg"], run["alarm_status"]) == (503, "人工终止", 1)


@pytest.mark.slow
def test_block_strategies(pair: Pair, jobs: Jobs) -> None:
    serial = jobs.job("testSleep", "1.5", executor_block_strategy="SERIAL_EXECUTION")
    first, second = jobs.trigger(serial, nodes="node-a")[0], jobs.trigger(serial, nodes="node-a")[0]
    a, b = jobs.done(first, workers=pair.workers), jobs.done(second, workers=pair.workers)
    assert a["handle_code"] == b["handle_code"] == 200 and b["claimed_at"] >= a["handle_time"]

    discard = jobs.job("testSleep", "3", executor_block_strategy="DISCARD_LATER")
    (first,) = jobs.trigger(discard, nodes="node-a")
    wait_until(lambda: jobs.run(first)["status"] == "RUNNING", 30, "first running", pair.workers)
    (second,) = jobs.trigger(discard, nodes="node-a")
    b = jobs.done(second, workers=pair.workers)
    assert b["handle_code"] == 500 and "DISCARD_LATER" in b["handle_msg"]
    assert jobs.done(first, workers=pair.workers)["handle_code"] == 200

    cover = jobs.job("testSleep", "30", executor_block_strategy="COVER_EARLY")
    (first,) = jobs.trigger(cover, nodes="node-b")
    wait_until(lambda: jobs.run(first)["status"] == "RUNNING", 30, "first running", pair.workers)
    (second,) = jobs.trigger(cover, "0.1", nodes="node-b")
    a, b = jobs.done(first, 20, pair.workers), jobs.done(second, 20, pair.workers)
    assert a["handle_code"] == 503 and "COVER_EARLY" in a["handle_msg"]
    assert (b["handle_code"], b["executor_address"]) == (200, "node-b")


@pytest.mark.slow
def test_a_raising_handler_is_retried_and_alarmed(pair: Pair, jobs: Jobs) -> None:
    from pcloud.jobs.models import JobRun

    job = jobs.job("testBoom", "x", executor_fail_retry_count=2, alarm_email="ops@example.com")
    (first,) = jobs.trigger(job)
    wait_until(lambda: len([r for r in jobs.runs(JobRun.job_id == job) if r["alarm_status"] in (2, 3, 4)]) == 3,
               60, "three alarmed runs", pair.workers)
    runs = jobs.runs(JobRun.job_id == job)
    assert [(r["trigger_type"], r["handle_code"], r["executor_fail_retry_count"]) for r in runs] == [
        ("MANUAL", 500, 2), ("RETRY", 500, 1), ("RETRY", 500, 0)]
    assert [r["parent_log_id"] for r in runs] == [None, runs[0]["id"], runs[1]["id"]]
    assert all(r["handle_msg"] == "RuntimeError: boom x" for r in runs)
    # one alarm per job per PCLOUD_ALARM_MIN_INTERVAL_SECONDS (300): the retries' failures are suppressed (4)
    assert [r["alarm_status"] for r in runs] == [2, 4, 4]
    lines = jobs.lines(first)
    assert lines[0] == "about to fail" and lines[-1] == "RuntimeError: boom x"
    wait_until(lambda: len(pair.smtp.messages) == 1 and len(WebhookSink.received) == 1, 20, "the alarm delivered")
    assert all(m.rcpt_tos == ["ops@example.com"] for m in pair.smtp.messages)
    assert [p["logId"] for _, p in WebhookSink.received] == [runs[0]["id"]]


@pytest.mark.slow
def test_success_triggers_the_child_chain(pair: Pair, jobs: Jobs) -> None:
    from pcloud.jobs.models import JobRun

    grandchild = jobs.job("testEcho", "c")
    child = jobs.job("testEcho", "b", child_job_id=str(grandchild))
    parent = jobs.job("testEcho", "a", child_job_id=str(child))
    (first,) = jobs.trigger(parent)
    wait_until(lambda: [r for r in jobs.runs(JobRun.job_id == grandchild) if r["status"] == "DONE"], 60,
               "the grandchild's run", pair.workers)
    (b,) = jobs.runs(JobRun.job_id == child)
    (c,) = jobs.runs(JobRun.job_id == grandchild)
    assert (b["trigger_type"], b["parent_log_id"], b["handle_code"]) == ("PARENT", first, 200)
    assert (c["trigger_type"], c["parent_log_id"], c["handle_msg"]) == ("PARENT", b["id"], "ok c")
    # a failure does not trigger children
    failing = jobs.job("testBoom", None, child_job_id=str(grandchild))
    jobs.done(jobs.trigger(failing)[0], workers=pair.workers)
    # A run's child runs are written in the transaction that ends it (runtime._follow_up): none now, none later.
    assert len(jobs.runs(JobRun.job_id == grandchild)) == 1


@pytest.mark.slow
def test_os_exit_fails_the_run_and_the_worker_goes_on(pair: Pair, jobs: Jobs) -> None:
    (run_id,) = jobs.trigger(jobs.job("testExit", "3"), nodes="node-a")
    run = jobs.done(run_id, workers=pair.workers)
    assert run["handle_code"] == 500 and "exit code 3" in translated(run["handle_msg"])
    assert jobs.lines(run_id) == ["exiting hard"]
    (after,) = jobs.trigger(jobs.job("testEcho", "after"), nodes="node-a")
    assert jobs.done(after, workers=pair.workers)["handle_code"] == 200
    pair.alive()


@pytest.mark.slow
def test_sharding_broadcast_runs_once_per_node(pair: Pair, jobs: Jobs) -> None:
    job = jobs.job("testEcho", "s", executor_route_strategy="SHARDING_BROADCAST")
    ids = jobs.trigger(job)
    runs = [jobs.done(i, workers=pair.workers) for i in ids]
    assert sorted((r["executor_address"], r["shard_index"], r["shard_total"]) for r in runs) == [
        ("node-a", 0, 2), ("node-b", 1, 2)]
    assert jobs.lines(ids[1])[0] == "echo s shard 1/2 MANUAL"


@pytest.mark.slow
def test_a_job_of_an_executor_without_nodes_fails_to_route(pair: Pair, jobs: Jobs) -> None:
    from pcloud.jobs.models import JobRun

    job = jobs.job("testEcho", None, job_group=jobs.executor("nobody-home"), schedule_type="FIX_RATE",
                   schedule_conf="1", trigger_status=1)
    wait_until(lambda: jobs.runs(JobRun.job_id == job), 30, "a run", pair.workers)
    run = jobs.runs(JobRun.job_id == job)[0]
    assert (run["status"], run["trigger_code"], run["handle_code"]) == ("DONE", 500, 500)
    assert "没有在线节点" in run["trigger_msg"]


def _alive(pid: int) -> bool:
    """Running, or stopped: neither gone nor a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return not fh.read().rsplit(") ", 1)[1].startswith(("Z", "X"))
    except OSError:
        return False


@contextlib.contextmanager
def _a_run_on_the_first_of_two(jobs: Jobs, database_url: str, instance_dir: Path, tmp_path: Path, executor_name: str,
                               first: str, second: str) -> Iterator[tuple[WorkerProc, WorkerProc, int, list[int]]]:
    """Two nodes of an executor of their own, and a long run (one retry allowed) running on `first`: yields both
    workers, the run's id and `first`'s descendants (its fork server and children, the one running the handler
    too). Both are stopped after; the test stops `first` its own way before, if it must."""
    executor = jobs.executor(executor_name)
    one, two = (start_worker(database_url, instance_dir, tmp_path, name, executor=executor_name)
                for name in (first, second))
    try:
        wait_until(lambda: {first, second} <= set(jobs.nodes()), 120, "both registered", [one, two])
        job = jobs.job("testSleepFirst", "120", job_group=executor, executor_fail_retry_count=1,
                       executor_route_strategy="FIRST")
        (run_id,) = jobs.trigger(job, nodes=first)
        wait_until(lambda: jobs.run(run_id)["status"] == "RUNNING" and jobs.lines(run_id), 60, f"running on {first}",
                   [one])
        yield one, two, run_id, descendants(one.proc.pid)
    finally:
        one.stop(signal.SIGKILL)
        assert two.stop() == 0


def _the_retry(jobs: Jobs, run_id: int, worker: WorkerProc) -> dict[str, Any]:
    from pcloud.jobs.models import JobRun

    return wait_until(lambda: [r for r in jobs.runs(JobRun.parent_log_id == run_id) if r["status"] == "DONE"],
                      30, "the retry", [worker])[0]


@pytest.mark.slow
def test_kill_9_of_a_worker_loses_its_run_which_is_retried_on_another(jobs: Jobs, database_url: str,
                                                                      instance_dir: Path, tmp_path: Path) -> None:
    """A node of its own executor finds the killed one dead after its DEAD_AFTER (the pair's is longer, for the
    exactly-once test's load) and retries the run."""
    with _a_run_on_the_first_of_two(jobs, database_url, instance_dir, tmp_path, "kill-group", "victim",
                                    "rescuer") as (victim, rescuer, run_id, family):
        assert len(family) >= 2
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(10)
        killed_at = time.monotonic()
        # the handler dies with its worker (a review's ran on, quiet, for minutes while its run was retried)
        wait_until(lambda: not any(_alive(pid) for pid in family), 10, "the victim's children to die with it",
                   [rescuer])
        run = jobs.done(run_id, DEAD_AFTER + 20, [rescuer])  # the rescuer's sweep finds the victim dead
        assert time.monotonic() - killed_at < DEAD_AFTER + 10
        assert (run["handle_code"], run["executor_address"]) == (504, "victim")
        retry = _the_retry(jobs, run_id, rescuer)
        assert (retry["trigger_type"], retry["handle_code"], retry["handle_msg"], retry["executor_address"]) == (
            "RETRY", 200, "retried", "rescuer")


@pytest.mark.slow
def test_a_node_that_stalled_past_the_dead_timeout_stops_the_runs_the_others_took_over(
        jobs: Jobs, database_url: str, instance_dir: Path, tmp_path: Path) -> None:
    """A review: a node stopped (SIGSTOP) longer than the dead timeout had its run ended as lost and retried on
    another node; resumed, it let the run's handler go on beside the retry. It now stops what it no longer holds."""
    with _a_run_on_the_first_of_two(jobs, database_url, instance_dir, tmp_path, "stall-group", "stalled",
                                    "other") as (stalled, other, run_id, family):
        stalled.proc.send_signal(signal.SIGSTOP)
        try:
            assert jobs.done(run_id, DEAD_AFTER + 20, [other])["handle_code"] == 504
            _the_retry(jobs, run_id, other)
        finally:
            stalled.proc.send_signal(signal.SIGCONT)
        # the handler that was running there when it stalled is stopped (its child replaced by a fresh one)
        wait_until(lambda: any(not _alive(pid) for pid in family), 15, "the stalled node's handler to stop",
                   [stalled])
        assert jobs.run(run_id)["handle_code"] == 504  # the others' verdict stands
        assert stalled.stop() == 0


# ---------------------------------------------------------------- maintenance jobs


def test_init_creates_the_maintenance_jobs_once(app: Any) -> None:
    from pcloud.extensions import db
    from pcloud.jobs import service
    from pcloud.jobs.models import Job
    from pcloud.jobs.worker.maintenance import MAINTENANCE_JOBS, ensure_maintenance_jobs

    with app.app_context():
        service.ensure_default_executor()
        assert ensure_maintenance_jobs() == [m[0] for m in MAINTENANCE_JOBS]
        jobs = db.session.execute(select(Job).where(Job.author == "system").order_by(Job.id)).scalars().all()
        assert [(j.executor_handler, j.trigger_status > 0, j.trigger_next_time > 0) for j in jobs] == [
            (m[0], True, True) for m in MAINTENANCE_JOBS]
        service.remove_job(jobs[0].id)  # an administrator deleted one: init does not bring it back
        assert ensure_maintenance_jobs() == []
        db.session.remove()


def test_session_cleanup_and_statistics_handlers(app: Any) -> None:
    from pcloud.core.timefmt import utcnow
    from pcloud.extensions import db
    from pcloud.jobs.handlers import JobContext, JobFailed, get_handler
    from pcloud.sessions.models import UserSession

    now = utcnow()
    with app.app_context():
        for i, (expires, revoked) in enumerate([(now - timedelta(days=10), None), (now + timedelta(hours=1), None),
                                                (now + timedelta(hours=1), now - timedelta(days=8)),
                                                (now - timedelta(days=1), None)]):
            db.session.add(UserSession(token_hash=f"{i:064d}", kind="api", user_id=1, created_at=now,
                                       last_seen_at=now, expires_at=expires, revoked_at=revoked))
        db.session.commit()
        # SMS codes: nothing deleted them, so any visitor could grow the table without end (a review's finding)
        from pcloud.auth.models import SmsCode

        for hours in (30, 2):
            asked = now - timedelta(hours=hours)
            db.session.add(SmsCode(phone=f"139000000{hours:02d}", code_hash="x", created_at=asked,
                                   expires_at=asked + timedelta(minutes=5), attempts=0))
        from pcloud.core.models import SubmittedForm

        db.session.add_all([SubmittedForm(token=f"{hours:032d}", submitted_at=now - timedelta(hours=hours))
                            for hours in (30, 2)])
        db.session.commit()
        ctx = JobContext(param="7", config=app.config)
        # the two that ran out unended get the login log's `expired` row first; both old ones are deleted
        assert translated(get_handler("sessionCleanHandler").func(ctx)) == "删除 2 个过期会话，登记 2 个会话过期"
        assert db.session.query(UserSession).filter(UserSession.token_hash.like("000%")).count() == 2
        assert [code.phone for code in db.session.query(SmsCode)] == ["13900000002"]  # the day-old one went
        assert [form.token for form in db.session.query(SubmittedForm)] == [f"{2:032d}"]  # and the form token
        with pytest.raises(JobFailed):
            get_handler("sessionCleanHandler").func(JobContext(param="x"))
        assert "统计信息已刷新" in translated(get_handler("dbStatsHandler").func(ctx))
        db.session.remove()


@pytest.mark.slow
def test_run_once_is_routed_by_the_jobs_strategy(pair: Pair, jobs: Jobs) -> None:
    job = jobs.job("testEcho", "r", executor_route_strategy="ROUND")
    ids = []
    for _ in range(4):
        ids += jobs.trigger(job)  # no node chosen: the worker routes it
        jobs.done(ids[-1], workers=pair.workers)
    nodes = [jobs.run(i)["executor_address"] for i in ids]
    # whichever worker routes a run alternates its own ROUND counter; with 4 runs and 2 routers one of
    # them routed twice in a row, so both nodes ran
    assert set(nodes) == {"node-a", "node-b"}, nodes
    last = jobs.job("testEcho", "l", executor_route_strategy="LAST")
    assert jobs.done(jobs.trigger(last)[0], workers=pair.workers)["executor_address"] == "node-b"


@pytest.mark.slow
def test_a_node_runs_no_run_of_another_executor_addressed_to_it(pair: Pair, jobs: Jobs) -> None:
    """A run of an executor the node does not serve, addressed to the node by name (written before run once
    checked the node, or by hand): the node leaves it, while it runs its own executor's run written after."""
    from pcloud.core.timefmt import utcnow
    from pcloud.jobs.models import JobRun

    foreign_job = jobs.job("testEcho", "foreign", job_group=jobs.executor("foreign-app"))

    def foreign_run() -> int:
        from pcloud.extensions import db

        now = utcnow()
        run = JobRun(job_group=jobs.executor("foreign-app"), job_id=foreign_job, trigger_type="MANUAL",
                     schedule_time=now, trigger_time=now, executor_address="node-a", executor_handler="testEcho",
                     executor_param="foreign", trigger_code=0, handle_code=0, status="PENDING")
        db.session.add(run)
        db.session.commit()
        return run.id

    with jobs.app.app_context():
        foreign = foreign_run()
    try:
        (own,) = jobs.trigger(jobs.job("testEcho", "own"), nodes="node-a")
        assert jobs.done(own, workers=pair.workers)["executor_address"] == "node-a"
        run = jobs.run(foreign)
        assert (run["status"], run["handle_code"]) == ("PENDING", 0), dict(run)
        assert jobs.lines(foreign) == []
    finally:
        jobs.set_run_done(foreign)
    pair.alive()


@pytest.mark.slow
def test_run_once_on_a_manual_executor_runs_on_a_node_of_its_list(pair: Pair, jobs: Jobs) -> None:
    """A browser review: 执行一次 without choosing a node, on a job of a 手动录入 executor whose list names a live
    node (a worker serving another AppName), stayed 等待执行 / 待分配 for good, while the same run with the node chosen
    ran at once: only the workers of the executor's AppName took a run for any node. A node the list names routes
    it too, by the job's strategy, as the scheduler routes the job's fires."""
    from pcloud.jobs import service

    with jobs.app.app_context():
        manual = service.create_executor({"appname": "manual-listed", "title": "手动执行器", "address_type": 1,
                                          "address_list": "node-b"}).id
        jobs._db().session.remove()
    (run_id,) = jobs.trigger(jobs.job("testEcho", "any node", job_group=manual))
    try:
        run = jobs.done(run_id, timeout=30, workers=pair.workers)
    finally:
        if jobs.run(run_id)["status"] != "DONE":
            jobs.set_run_done(run_id)
    assert (run["executor_address"], run["handle_code"]) == ("node-b", 200), dict(run)
