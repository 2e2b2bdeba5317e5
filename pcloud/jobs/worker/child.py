"""What runs inside a worker's child process: one Flask app per child, and the handler call.

The calling convention is the one of ``pcloud.jobs.handlers``: ``handler(ctx)`` inside an application
context, with a ``JobContext``; ``JobFailed`` fails the run with its message and no traceback.
"""

from __future__ import annotations

import gc
import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

import pcloud.models  # noqa: F401 - every model, imported once in the fork server and shared by the children
from pcloud.config import load_config
from pcloud.core import i18n
from pcloud.core.dbstats import attach_sqlite_pragmas
from pcloud.core.i18n import said
from pcloud.core.messages import N_
from pcloud.extensions import db
from pcloud.jobs import service  # noqa: F401 - what the built-in handlers use, preloaded for the same reason
from pcloud.jobs.handlers import JobContext, JobFailed, get_handler, load_entry_points
from pcloud.jobs.models import GLUE_SCRIPT_TYPES, Job
from pcloud.jobs.worker.pool import QuietFailure
from pcloud.jobs.worker.script import ScriptFailed, make_undumpable, run_script

_app: Any = None


def setup() -> None:
    """Once per child: the handlers and a small app of its own (configuration, database and translations; no
    pages or routes, which handlers do not use), with its own database connections. Without translations
    every handler's refusal (gettext) became "KeyError: 'babel'" in the run log (a review's finding)."""
    global _app
    make_undumpable()  # whatever the fork server was: a script this child runs must not read its environment
    load_entry_points()
    settings = load_config()
    app = Flask("pcloud", instance_path=settings["PCLOUD_INSTANCE_DIR"])
    app.config.update(settings)
    _stamp_in_zone(ZoneInfo(settings["PCLOUD_TIMEZONE"]))
    db.init_app(app)
    i18n.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            attach_sqlite_pragmas(app, db.engine)
    _app = app


def _stamp_in_zone(zone: ZoneInfo) -> None:
    """The run log's logging times in the console's zone, as the run's own times are shown, not the worker host's
    (a review read 20:31:49 in the output of a run triggered at 04:31:48)."""
    for handler in logging.getLogger().handlers:
        if handler.formatter is not None:
            handler.formatter.converter = lambda seconds: datetime.fromtimestamp(seconds, zone).timetuple()


# Imported in the fork server before any child is forked: keep what is loaded by now out of the
# collector's reach, so that children do not copy those pages by touching them.
gc.freeze()
# ... and out of a script's reach: the fork server (and every child forked from it) holds the worker's
# environment, which a script job of the same user must not read through /proc (jobs/worker/script.py).
make_undumpable()


def invoke(task: dict[str, Any]) -> Any:
    context = task.get("context") or {}
    if context.get("glue_type") in GLUE_SCRIPT_TYPES:
        return _run_glue(task, context)
    name = task["handler"]
    spec = get_handler(name)
    if spec is None:
        raise QuietFailure(said(N_("任务处理器未注册：%(name)s"), name=name))
    context = task.get("context") or {}
    ctx = JobContext(param=task.get("param") or "", shard_index=int(context.get("shard_index", 0)),
                     shard_total=int(context.get("shard_total", 1)), log=logging.getLogger("pcloud.jobs.run"),
                     job_id=context.get("job_id"), run_id=task["id"],
                     trigger_type=context.get("trigger_type", "MANUAL"), config=_app.config if _app else {})
    if _app is None:
        return _call(spec.func, ctx)
    from pcloud.extensions import db

    with _app.app_context():
        try:
            return _call(spec.func, ctx)
        finally:
            db.session.remove()


def _call(func: Any, ctx: JobContext) -> Any:
    try:
        return func(ctx)
    except JobFailed as exc:
        raise QuietFailure(str(exc)) from None


def _run_glue(task: dict[str, Any], context: dict[str, Any]) -> str:
    """A script job: its source as it is now (read here, at the start of the run), run by run_script."""
    job_id = context.get("job_id")
    source: str | None = None
    if _app is not None and job_id is not None:
        with _app.app_context():
            try:
                job = db.session.get(Job, job_id)
                source = None if job is None or job.glue_type != context["glue_type"] else job.glue_source
            finally:
                db.session.remove()
    if source is None:
        raise QuietFailure(N_("脚本任务的脚本不存在（任务已删除或运行模式已改变）"))
    try:
        return run_script(context["glue_type"], source, param=task.get("param") or "",
                          shard_index=int(context.get("shard_index", 0)),
                          shard_total=int(context.get("shard_total", 1)),
                          timeout=int(context.get("timeout", 0)), job_id=job_id, run_id=task["id"],
                          zone=_app.config["PCLOUD_TIMEZONE"] if _app is not None else "UTC")
    except ScriptFailed as exc:
        raise QuietFailure(str(exc)) from None
