"""Job handlers: Python callables registered by name, run by the worker for each run.

Registering
-----------
In this package (or any module imported at start-up)::

    from pcloud.jobs.handlers import JobContext, job_handler

    @job_handler("myHandler", description="同步订单")
    def my_handler(ctx: JobContext) -> str | None:
        ctx.log.info("param=%s shard=%s/%s", ctx.param, ctx.shard_index, ctx.shard_total)
        return "done"

Other packages declare the entry-point group ``pcloud.job_handlers`` in their pyproject::

    [project.entry-points."pcloud.job_handlers"]
    syncOrders = "acme.jobs:sync_orders"     # a callable: registered under the entry point's name
    acme = "acme.jobs"                        # a module: importing it runs its @job_handler decorators

``load_entry_points()`` (called by ``registered_handlers()``) imports them once per process.

Calling convention (what the worker does)
-----------------------------------------
The worker calls ``handler(ctx)`` in a child process, inside a Flask application context (so
``db.session`` and ``current_app.config`` work), with a ``JobContext``:

- ``param``: the run's ``executor_param`` ("" when none);
- ``shard_index`` / ``shard_total``: 0 / 1 unless SHARDING_BROADCAST;
- ``log``: a ``logging.Logger``; its records, and anything printed to stdout/stderr, become the run's
  output lines (``job_log_line``), readable while the run executes;
- ``job_id``, ``run_id``, ``trigger_type``, ``config`` (the app's config mapping).

Outcome: returning normally is success (handle_code 200) and the returned value, if any, is the run's
``handle_msg`` (``str()``-ed, truncated by the worker); raising is failure (500) with the exception as
``handle_msg`` (``JobFailed("...")`` for a clean message without a traceback). Timeouts and kills are the
worker's business: a handler needs no cooperation for them.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from flask_babel import gettext

from pcloud.actionlog.service import retention_days
from pcloud.core import egress
from pcloud.core.i18n import said
from pcloud.core.messages import N_
from pcloud.core.numbers import digits_only
from pcloud.params import service as params

ENTRY_POINT_GROUP = "pcloud.job_handlers"


class JobFailed(Exception):
    """Raise from a handler to fail the run with this message (no traceback in handle_msg)."""


@dataclass
class JobContext:
    param: str = ""
    shard_index: int = 0
    shard_total: int = 1
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("pcloud.jobs.run"))
    job_id: int | None = None
    run_id: int | None = None
    trigger_type: str = "MANUAL"
    config: Mapping[str, Any] = field(default_factory=dict)


Handler = Callable[[JobContext], Any]


@dataclass(frozen=True)
class HandlerSpec:
    name: str
    func: Handler
    description: str = ""


_REGISTRY: dict[str, HandlerSpec] = {}
_entry_points_loaded = False


def job_handler(name: str, description: str = "") -> Callable[[Handler], Handler]:
    """Register the decorated callable under `name` (a later registration of the same name wins)."""

    def decorate(func: Handler) -> Handler:
        _REGISTRY[name] = HandlerSpec(name, func, description)
        return func

    return decorate


HANDLER_MODULES_ENV = "PCLOUD_JOB_HANDLER_MODULES"


def handler_modules() -> list[str]:
    """Extra modules whose @job_handler decorators register handlers (PCLOUD_JOB_HANDLER_MODULES,
    comma-separated): for handlers that are neither built in nor published as entry points."""
    return [m.strip() for m in os.environ.get(HANDLER_MODULES_ENV, "").split(",") if m.strip()]


def load_entry_points() -> None:
    """The plug-ins' handlers, once per process: the entry points, and PCLOUD_JOB_HANDLER_MODULES' modules, in
    the web processes as in the worker (a review: the console refused a job on a handler only the worker had
    loaded, 未注册)."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for module in handler_modules():
        try:
            importlib.import_module(module)
        except Exception:  # a broken plug-in must not stop the console or the worker
            logging.getLogger(__name__).exception("job handler module %s failed to load", module)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception:  # a broken plug-in must not stop the console or the worker
            logging.getLogger(__name__).exception("job handler entry point %s failed to load", ep.name)
            continue
        if callable(obj) and not isinstance(obj, type) and ep.name not in _REGISTRY:
            _REGISTRY[ep.name] = HandlerSpec(ep.name, obj, getattr(obj, "__doc__", "") or "")


def registered_handlers() -> dict[str, HandlerSpec]:
    load_entry_points()
    return dict(sorted(_REGISTRY.items()))


def get_handler(name: str) -> HandlerSpec | None:
    load_entry_points()
    return _REGISTRY.get(name)


# ---------------------------------------------------------------- built-ins


@job_handler("demoJobHandler", description=N_("示例任务：输出参数；参数为整数 N 时运行 N 秒，每秒输出一行"))
def demo_job_handler(ctx: JobContext) -> str:
    print(f"PCloud demo job, param={ctx.param!r}, shard {ctx.shard_index}/{ctx.shard_total}", flush=True)
    seconds = int(ctx.param) if digits_only(ctx.param.strip()) else 0
    for i in range(seconds):
        print(f"beat {i + 1}/{seconds}", flush=True)
        time.sleep(1)
    return "demo ok"


def parse_http_param(param: str) -> dict[str, Any]:
    """JSON `{"url", "method", "headers", "body", "timeout"}`, or XXL-JOB's lines `url: ...`, `method: ...`,
    `data: ...` (the rest of the text after `data:` is the body)."""
    text = (param or "").strip()
    if not text:
        raise JobFailed(N_("参数为空：需要 url"))
    if text.startswith("{"):
        try:
            spec = json.loads(text)
        except ValueError as exc:
            raise JobFailed(said(N_("参数不是合法的 JSON：%(why)s"), why=exc)) from None
        if not isinstance(spec, dict):
            raise JobFailed(N_("参数必须是 JSON 对象"))
    else:
        spec = {}
        lines = text.splitlines()
        for i, line in enumerate(lines):
            key, _, value = line.partition(":")
            key = key.strip().lower()
            if key == "data":
                spec["body"] = "\n".join([value.strip(), *lines[i + 1:]]).strip()
                break
            if key in ("url", "method", "timeout"):
                spec[key] = value.strip()
            elif key == "header":
                name, _, hval = value.partition("=")
                spec.setdefault("headers", {})[name.strip()] = hval.strip()
    if not spec.get("url"):
        raise JobFailed(N_("参数缺少 url"))
    spec["method"] = str(spec.get("method") or "GET").upper()
    if spec["method"] not in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"):
        raise JobFailed(said(N_("不支持的请求方法 %(method)s"), method=spec["method"]))
    spec.setdefault("headers", {})
    return spec


@job_handler("httpJobHandler",
             description=N_("HTTP 调用：参数给出 url、method、headers、body（JSON 或 url:/method:/data: 行）"))
def http_job_handler(ctx: JobContext) -> str:
    """The call obeys the server's one egress rule (``pcloud.core.egress``): allowed hosts and ports only,
    internal addresses only when listed, no redirect followed (a 3xx fails the run, naming where it led)."""
    spec = parse_http_param(ctx.param)
    allowed = ctx.config.get("PCLOUD_JOB_HTTP_ALLOWED_HOSTS", "")
    body = spec.get("body")
    data: bytes | None = None
    headers = {str(k): str(v) for k, v in dict(spec["headers"]).items()}
    if body is not None:
        if isinstance(body, dict | list):
            data = json.dumps(body, ensure_ascii=False).encode()
            headers.setdefault("Content-Type", "application/json")
        else:
            data = str(body).encode()
    try:
        timeout = float(spec.get("timeout") or 30)
    except (TypeError, ValueError):
        raise JobFailed(N_("timeout 必须是秒数")) from None
    ctx.log.info("%s %s", spec["method"], spec["url"])
    try:
        response = egress.http_request(str(spec["url"]), allowed, method=spec["method"], body=data,
                                       headers=headers, timeout=timeout)
    except egress.EgressRefused as exc:
        raise JobFailed(str(exc)) from None
    except OSError as exc:
        raise JobFailed(said(N_("请求失败：%(why)s"), why=exc)) from None
    text = response.body.decode("utf-8", "replace")
    if 300 <= response.status < 400:
        location = response.headers.get("Location") or response.headers.get("location") or ""
        raise JobFailed(said(N_("HTTP %(status)s：重定向不会被跟随（出站规则），目标 %(location)s"),
                             status=response.status, location=location[:300]))
    if response.status >= 400:
        raise JobFailed(f"HTTP {response.status}：{text[:2000]}")
    ctx.log.info("HTTP %s", response.status)
    print(text, flush=True)
    return f"HTTP {response.status}"


def job_log_retention_days() -> int:
    """PCLOUD_JOB_LOG_RETENTION_DAYS: the run log is kept at least this long."""
    return int(params.value("sys.log.jobRetentionDays"))


# The retention handlers and the configured retention each may never go below (issue 19, finding 5): a job's
# parameter can only keep more, never wipe the audit trail. The console refuses a lower parameter (422)
# when a job is saved or run once; a handler clamps one stored before, so the floor holds at run time too.
RETENTION_FLOORS: dict[str, Callable[[], int]] = {
    "jobLogCleanHandler": job_log_retention_days,
    "actionLogCleanHandler": retention_days,
}


def retention_refusal(handler: str, param: str | None) -> str | None:
    """None when `param` is a fine parameter for `handler` (any parameter of a non-retention handler)."""
    floor = RETENTION_FLOORS.get(handler)
    if floor is None:
        return None
    text = (param or "").strip()
    if text and not digits_only(text):
        return gettext("参数必须是保留的天数（正整数）")
    if text and int(text) < floor():
        return gettext("保留天数不能少于系统配置的 %(n)s 天", n=floor())
    return None

