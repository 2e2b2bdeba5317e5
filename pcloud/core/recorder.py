"""The action-log recorder: one hook around every request, its own transaction, never fatal.

A view names its action with `@action("用户新增")`. API calls are recorded whatever their method;
pages only when they submit (POST), so showing a form is not logged as a change.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, request

from pcloud.core.clientip import client_ip
from pcloud.core.envelope import is_api_request
from pcloud.core.timefmt import utcnow

log = logging.getLogger(__name__)

MASKED_KEYS = {"password", "securekey", "verifycode", "token", "csrf_token", "oldpassword",
               "newpassword", "confirmpassword", "confirm", "secret", "code_hash"}
MAX_PARAMS = 4000


def action(title: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn._action_title = title  # type: ignore[attr-defined]
        return fn

    return decorator


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("******" if str(k).lower().replace("-", "_") in MASKED_KEYS
                    or "password" in str(k).lower() else _mask(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def masked_params() -> str:
    try:
        if request.is_json:
            body = request.get_json(silent=True)
        elif request.form:
            body = {k: (v if len(vs := request.form.getlist(k)) <= 1 else vs) for k, v in request.form.items()}
        else:
            body = request.args.to_dict() or None
    except Exception:  # noqa: BLE001 - a body we cannot read is recorded as absent
        body = None
    if body is None:
        return ""
    text = json.dumps(_mask(body), ensure_ascii=False, default=str)
    return text[:MAX_PARAMS]


def _title() -> str | None:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "_action_title", None)


def _response_outcome(response: Response) -> tuple[str, str]:
    ok = response.status_code < 400
    msg = ""
    if response.is_json:
        try:
            body = response.get_json(silent=True) or {}
            msg = str(body.get("msg", "")) if isinstance(body, dict) else ""
        except Exception:  # noqa: BLE001
            msg = ""
    msg = g.get("action_msg") or msg or ("success" if ok else str(response.status_code))
    return ("success" if ok else "fail"), msg[:500]


def _record(response: Response) -> None:
    title = _title()
    if not title:
        return
    if not is_api_request() and request.method == "GET":
        return
    from pcloud.actionlog.models import ActionLog
    from pcloud.core.security import current_principal
    from pcloud.extensions import db

    status, msg = _response_outcome(response)
    if g.get("action_failed"):
        status = "fail"
    actor = g.get("action_user")  # set by sign-in / sign-out, where current_user is not the actor
    if actor is None:
        principal = current_principal()
        actor = (principal.id, principal.name, principal.phone) if principal else (None, None, None)
    started = g.get("request_started")
    cost = int((time.perf_counter() - started) * 1000) if started else 0
    ua = request.user_agent.string or ""
    os_name, browser = _parse_agent(ua)
    row = {
        "user_id": actor[0], "name": actor[1], "phone": actor[2],
        "title": title, "method": request.method, "path": request.path[:255],
        "params": masked_params(), "status": status, "msg": msg,
        "client_ip": client_ip(), "os": os_name, "browser": browser,
        "cost_ms": cost, "gmt_created_date": utcnow(),
    }
    # Its own connection and transaction: a rolled-back request is still logged.
    with db.engine.begin() as conn:
        conn.execute(ActionLog.__table__.insert().values(**row))


def _parse_agent(ua: str) -> tuple[str, str]:
    if not ua:
        return "", ""
    try:
        from user_agents import parse

        agent = parse(ua)
        os_name = " ".join(x for x in (agent.os.family, agent.os.version_string) if x)
        browser = " ".join(x for x in (agent.browser.family, agent.browser.version_string) if x)
        return os_name[:64], browser[:64]
    except Exception:  # noqa: BLE001
        return "", ua[:64]


def init_recorder(app: Flask) -> None:
    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _after(response: Response) -> Response:
        try:
            _record(response)
        except Exception:  # noqa: BLE001 - logging must never break a request
            log.exception("could not write the action log")
        return response
