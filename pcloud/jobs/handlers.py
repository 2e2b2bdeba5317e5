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
- ``job_id``, ``log_id``, ``trigger_type``, ``config`` (the app's config mapping).

Outcome: returning normally is success (handle_code 200) and the returned value, if any, is the run's
``handle_msg`` (``str()``-ed, truncated by the worker); raising is failure (500) with the exception as
``handle_msg`` (``JobFailed("...")`` for a clean message without a traceback). Timeouts and kills are the
worker's business: a handler needs no cooperation for them.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

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
    log_id: int | None = None
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


def load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
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


@job_handler("demoJobHandler", description="示例任务：输出参数；参数为整数 N 时运行 N 秒，每秒输出一行")
def demo_job_handler(ctx: JobContext) -> str:
    print(f"PCloud demo job, param={ctx.param!r}, shard {ctx.shard_index}/{ctx.shard_total}", flush=True)
    seconds = int(ctx.param) if ctx.param.strip().isdigit() else 0
    for i in range(seconds):
        print(f"beat {i + 1}/{seconds}", flush=True)
        time.sleep(1)
    return "demo ok"


def parse_http_param(param: str) -> dict[str, Any]:
    """JSON `{"url", "method", "headers", "body", "timeout"}`, or XXL-JOB's lines `url: ...`, `method: ...`,
    `data: ...` (the rest of the text after `data:` is the body)."""
    text = (param or "").strip()
    if not text:
        raise JobFailed("参数为空：需要 url")
    if text.startswith("{"):
        try:
            spec = json.loads(text)
        except ValueError as exc:
            raise JobFailed(f"参数不是合法的 JSON：{exc}") from None
        if not isinstance(spec, dict):
            raise JobFailed("参数必须是 JSON 对象")
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
        raise JobFailed("参数缺少 url")
    spec["method"] = str(spec.get("method") or "GET").upper()
    if spec["method"] not in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"):
        raise JobFailed(f"不支持的请求方法 {spec['method']}")
    spec.setdefault("headers", {})
    return spec


def host_allowed(url: str, allowed: str) -> bool:
    """`allowed` is the PCLOUD_JOB_HTTP_ALLOWED_HOSTS setting: comma-separated hosts, `*.example.com`
    for subdomains, `*` for any host. Empty allows none."""
    parsed = urllib.parse.urlsplit(url)
    host = (parsed.hostname or "").lower()
    if parsed.scheme not in ("http", "https") or not host:
        return False
    for item in (a.strip().lower() for a in (allowed or "").split(",")):
        if item == "*" or item == host or (item.startswith("*.") and host.endswith(item[1:])):
            return True
    return False


@job_handler("httpJobHandler",
             description="HTTP 调用：参数给出 url、method、headers、body（JSON 或 url:/method:/data: 行）")
def http_job_handler(ctx: JobContext) -> str:
    spec = parse_http_param(ctx.param)
    allowed = ctx.config.get("PCLOUD_JOB_HTTP_ALLOWED_HOSTS", "")
    if not host_allowed(spec["url"], allowed):
        raise JobFailed(f"目标主机不在允许列表中（PCLOUD_JOB_HTTP_ALLOWED_HOSTS）：{spec['url']}")
    body = spec.get("body")
    data: bytes | None = None
    headers = {str(k): str(v) for k, v in dict(spec["headers"]).items()}
    if body is not None:
        if isinstance(body, dict | list):
            data = json.dumps(body, ensure_ascii=False).encode()
            headers.setdefault("Content-Type", "application/json")
        else:
            data = str(body).encode()
    timeout = float(spec.get("timeout") or 30)
    request = urllib.request.Request(spec["url"], data=data, headers=headers, method=spec["method"])
    ctx.log.info("%s %s", spec["method"], spec["url"])
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - host allow-listed
            status = response.status
            text = response.read(64 * 1024).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        raise JobFailed(f"HTTP {exc.code}：{exc.read(2000).decode('utf-8', 'replace')}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise JobFailed(f"请求失败：{exc}") from None
    ctx.log.info("HTTP %s", status)
    print(text, flush=True)
    return f"HTTP {status}"
