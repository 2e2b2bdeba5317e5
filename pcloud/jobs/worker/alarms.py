"""Alarms for failed runs: an e-mail through the configured SMTP server and an optional webhook.

Sending happens on one background thread with short timeouts, so a slow or dead mail server never
holds up the worker's loop; the loop enqueues (never waiting) and later collects each alarm's outcome
to record it as the run's alarmStatus (2 sent, 3 sending failed). A full queue counts as a failure.

Settings (environment, read when the worker starts):
PCLOUD_SMTP_HOST (no host: no e-mail), PCLOUD_SMTP_PORT (25), PCLOUD_SMTP_USER, PCLOUD_SMTP_PASSWORD,
PCLOUD_SMTP_FROM (default the user, else pcloud@localhost), PCLOUD_SMTP_SECURITY (none | starttls | ssl),
PCLOUD_SMTP_TIMEOUT (10 s), PCLOUD_ALARM_MIN_INTERVAL_SECONDS (300: at most one alarm per job within it, kept
in the database for every worker; 0 alarms every failure), PCLOUD_ALARM_WEBHOOK (a URL receiving a JSON POST;
it obeys the one egress rule, ``pcloud.core.egress``: its host and port must be in
PCLOUD_JOB_HTTP_ALLOWED_HOSTS, an internal address listed, and a redirect is a failure). The SMTP server is set
only in the environment by whoever runs the server, like the database, and is reached as configured.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import smtplib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from flask_babel import gettext

from pcloud.core import egress

log = logging.getLogger("pcloud.worker.alarms")

ALARM_SENT = 2
ALARM_FAILED = 3


@dataclass(frozen=True)
class AlarmSettings:
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "pcloud@localhost"
    smtp_security: str = "none"
    timeout: float = 10.0
    webhook: str | None = None
    allowed_hosts: str = ""  # PCLOUD_JOB_HTTP_ALLOWED_HOSTS: the webhook obeys the one egress rule too
    min_interval: float = 300.0  # seconds between two alarms of one job

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AlarmSettings:
        env = os.environ if env is None else env
        user = env.get("PCLOUD_SMTP_USER") or None
        return cls(
            smtp_host=env.get("PCLOUD_SMTP_HOST") or None,
            smtp_port=int(env.get("PCLOUD_SMTP_PORT") or 25),
            smtp_user=user,
            smtp_password=env.get("PCLOUD_SMTP_PASSWORD") or None,
            smtp_from=env.get("PCLOUD_SMTP_FROM") or user or "pcloud@localhost",
            smtp_security=(env.get("PCLOUD_SMTP_SECURITY") or "none").lower(),
            timeout=float(env.get("PCLOUD_SMTP_TIMEOUT") or 10),
            webhook=env.get("PCLOUD_ALARM_WEBHOOK") or None,
            allowed_hosts=env.get("PCLOUD_JOB_HTTP_ALLOWED_HOSTS") or "",
            min_interval=float(env.get("PCLOUD_ALARM_MIN_INTERVAL_SECONDS") or 300),
        )


def alarm_text(alarm: Mapping[str, Any]) -> tuple[str, str]:
    """Subject and body of the e-mail for a failed run (`alarm` is the webhook's JSON payload)."""
    # sent by the worker, outside any request: in the deployment's language (PCLOUD_DEFAULT_LANGUAGE)
    subject = gettext("【PCloud 任务告警】%(name)s 执行失败", name=alarm.get("jobDesc") or alarm.get("jobId"))
    body = "\n".join([
        gettext("定时任务执行失败："),
        gettext("执行器: %(v)s", v=alarm.get("appname") or alarm.get("jobGroup")),
        gettext("任务ID: %(v)s", v=alarm.get("jobId")),
        gettext("任务描述: %(v)s", v=alarm.get("jobDesc")),
        gettext("调度日志ID: %(v)s", v=alarm.get("logId")),
        gettext("触发类型: %(v)s", v=alarm.get("triggerType")),
        gettext("调度时间: %(v)s", v=alarm.get("scheduleTime")),
        gettext("执行节点: %(v)s", v=alarm.get("executorAddress")),
        gettext("结果: %(code)s %(msg)s", code=alarm.get("handleCode"), msg=alarm.get("handleMsg") or ""),
    ])
    return subject, body


def send_email(settings: AlarmSettings, recipients: list[str], alarm: Mapping[str, Any]) -> None:
    subject, body = alarm_text(alarm)
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = settings.smtp_from
    msg["To"] = ", ".join(recipients)
    msg.set_content(body)
    assert settings.smtp_host
    smtp_cls = smtplib.SMTP_SSL if settings.smtp_security == "ssl" else smtplib.SMTP
    with smtp_cls(settings.smtp_host, settings.smtp_port, timeout=settings.timeout) as smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls()
        if settings.smtp_user and settings.smtp_password:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(msg)


def post_webhook(settings: AlarmSettings, alarm: Mapping[str, Any]) -> None:
    """POST the alarm under the egress rule (``pcloud.core.egress``): a redirect is a failure, never followed."""
    assert settings.webhook
    resp = egress.http_request(settings.webhook, settings.allowed_hosts, method="POST",
                               body=json.dumps(alarm, ensure_ascii=False).encode(),
                               headers={"Content-Type": "application/json; charset=utf-8"}, timeout=settings.timeout)
    if resp.status >= 300:
        raise OSError(f"webhook answered {resp.status}")


def deliver(settings: AlarmSettings, alarm: Mapping[str, Any]) -> int | None:
    """Send one alarm now (blocking). Returns ALARM_SENT, ALARM_FAILED, or None when nothing is configured
    for it (no recipient or no SMTP host, and no webhook)."""
    recipients = [a.strip() for a in str(alarm.get("alarmEmail") or "").replace(";", ",").split(",") if a.strip()]
    attempted = ok = 0
    if recipients and settings.smtp_host:
        attempted += 1
        try:
            send_email(settings, recipients, alarm)
            ok += 1
        except Exception as exc:  # noqa: BLE001 - any failure is recorded, never raised into the loop
            log.warning("alarm e-mail for run %s failed: %s", alarm.get("logId"), exc)
    if settings.webhook:
        attempted += 1
        try:
            post_webhook(settings, alarm)
            ok += 1
        except Exception as exc:  # noqa: BLE001
            log.warning("alarm webhook for run %s failed: %s", alarm.get("logId"), exc)
    if not attempted:
        return None
    return ALARM_SENT if ok == attempted else ALARM_FAILED


class AlarmSender:
    """A background thread sending alarms; `results()` hands back (log id, alarm status) pairs."""

    def __init__(self, settings: AlarmSettings | None = None, maxsize: int = 1000):
        self.settings = settings or AlarmSettings.from_env()
        self._todo: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=maxsize)
        self._done: queue.Queue[tuple[int, int | None]] = queue.Queue()
        self._thread: threading.Thread | None = None

    @property
    def configured(self) -> bool:
        return bool(self.settings.smtp_host or self.settings.webhook)

    def submit(self, alarm: dict[str, Any]) -> None:
        """Queue an alarm without waiting; a full queue is reported as a failed alarm."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="pcloud-alarms", daemon=True)
            self._thread.start()
        try:
            self._todo.put_nowait(alarm)
        except queue.Full:
            self._done.put((alarm["logId"], ALARM_FAILED))

    def results(self) -> list[tuple[int, int | None]]:
        out = []
        while True:
            try:
                out.append(self._done.get_nowait())
            except queue.Empty:
                return out

    def pending(self) -> int:
        return self._todo.qsize()

    def close(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            try:
                self._todo.put(None, timeout=timeout)
            except queue.Full:
                return
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            alarm = self._todo.get()
            if alarm is None:
                return
            try:
                status = deliver(self.settings, alarm)
            except Exception:  # noqa: BLE001 - the thread must survive anything
                log.exception("alarm for run %s", alarm.get("logId"))
                status = ALARM_FAILED
            self._done.put((alarm["logId"], status))
