"""The action-log recorder: one hook around every request, its own transaction, never fatal.

A view names its action with `@action("用户新增")`. API calls are recorded whatever their method;
pages only when they submit (POST), so showing a form is not logged as a change.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, current_app, g, request

from pcloud.core.clientip import client_ip
from pcloud.core.envelope import HTTP_MESSAGES, answered_msg, is_api_request
from pcloud.core.i18n import clipped, said, stored
from pcloud.core.messages import N_
from pcloud.core.timefmt import utcnow
from pcloud.core.useragent import parse_user_agent
from pcloud.extensions import db

log = logging.getLogger(__name__)

# Masked by what a key means, whatever its prefix, case or separators: `pw-csrf_token`,
# `sms-verify_code`, `newPassword`, `secureKey`, `X-Api-Secret`... The key is lowercased and stripped
# of everything but letters and digits, then searched for these words.
_SECRET_KEY = re.compile(r"password|passwd|pwd|verify\w*code|smscode|secure\w*key|token|secret|csrf|codehash"
                         r"|apikey|privatekey|credential|confirm")
MAX_PARAMS = 4000


def _normalised(key: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(key).lower())


def is_secret_key(key: object) -> bool:
    """Does this field name carry a secret (so its value must never be stored)?"""
    return bool(_SECRET_KEY.search(_normalised(key)))


# The outcome a view tells the recorder, for one request. Views call these instead of setting `g`.
_PRINCIPAL, _REFUSED, _MESSAGE = "pcloud_action_principal", "pcloud_action_refused", "pcloud_action_message"
_DETAIL = "pcloud_action_detail"


def as_principal(user_id: int | None, name: str | None, phone: str | None) -> None:
    """Who acted, where the signed-in principal is not it (sign-in: the phone typed; sign-out: who left)."""
    setattr(g, _PRINCIPAL, (user_id, name, phone))


def refused(reason: Any = None) -> None:
    """The action was refused: logged `fail` with the reason (a domain error or a sentence), whatever
    status the page answers with (a form shown again, a flash and a redirect). Stored to be read in each
    reader's language (core.i18n.stored), not in the words said to whoever was refused."""
    setattr(g, _REFUSED, True)
    message = stored(reason)
    if message:
        setattr(g, _MESSAGE, message)


def outcome_message(message: Any) -> None:
    """The sentence the log records for this action (success or failure) instead of the response's: a sentence
    `gettext` said, a domain error, or one from core.i18n.said (stored as core.i18n.stored keeps it)."""
    setattr(g, _MESSAGE, stored(message))


def record_detail(detail: dict[str, Any]) -> None:
    """What the log keeps as this action's parameters instead of the request body: for a change whose body
    is large and whose meaning is a difference (a script's save: its remark and diff). Masked and cut to
    MAX_PARAMS like a body."""
    setattr(g, _DETAIL, detail)


def action(title: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn._action_title = title  # type: ignore[attr-defined]
        return fn

    return decorator


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("******" if is_secret_key(k) else _mask(v)) for k, v in value.items()}
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


def _detail_params() -> str:
    return json.dumps(_mask(g.get(_DETAIL)), ensure_ascii=False, default=str)[:MAX_PARAMS]


# Parameters kept whole but read only with a grant (a script's source, the script grant's): masked when read, not when
# written, so that whoever holds the grant still audits them, in the rows written before too.
_GUARDED = "pcloud.guarded_params"
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_COLON = re.compile(r"\s*:\s*")
_DECODER = json.JSONDecoder()


def readable_only_with(app: Flask, keys: Iterable[str], may_read: Callable[[], bool], mask: Any) -> None:
    """The values of these parameter keys, at any depth and named in any case or separators as `is_secret_key` reads
    a key (`glueSource` is also a page form's `glue_source`), are answered as `mask` (said in the reader's language)
    by `readable_params` to a reader for whom `may_read()` is False. A module plugs its keys in through the factory."""
    app.extensions.setdefault(_GUARDED, []).append((frozenset(_normalised(k) for k in keys), may_read, mask))


def _decoded(literal: str) -> str:
    try:
        return json.loads(literal)
    except ValueError:
        return literal[1:-1]


def readable_params(params: str | None) -> str | None:
    """Recorded parameters as the current reader may read them: each guarded key's value that the reader's grants do
    not reach replaced by its mask, the rest as stored. Read as JSON text rather than parsed, so that parameters cut
    at MAX_PARAMS (no longer JSON) are masked too: a value running into the cut is masked to the end."""
    guards = current_app.extensions.get(_GUARDED)
    if not params or not guards:
        return params
    denied: dict[int, bool] = {}  # a guard's answer, asked once per text and only when one of its keys is there
    kept, pos, done = [], 0, 0
    while (literal := _JSON_STRING.search(params, pos)) is not None:
        pos = literal.end()
        colon = _COLON.match(params, pos)
        key = _normalised(_decoded(literal.group())) if colon else None  # no colon: a value, not a key
        guard = next((i for i, (keys, _, _) in enumerate(guards) if key in keys), None)
        if guard is None:
            continue
        if guard not in denied:
            denied[guard] = not guards[guard][1]()
        if not denied[guard]:
            continue
        start = colon.end()
        try:
            pos = _DECODER.raw_decode(params, start)[1]
        except ValueError:
            pos = len(params)  # cut at MAX_PARAMS inside the value
        kept += [params[done:start], json.dumps(str(guards[guard][2]), ensure_ascii=False)]
        done = pos
    return "".join(kept) + params[done:] if kept else params


def _title() -> str | None:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "_action_title", None)


def _response_outcome(response: Response) -> tuple[str, str]:
    """The outcome and its sentence, stored as its source string and values (core.i18n.stored) where it was said
    by `gettext`, so that each reader reads it in their own language, not in the requester's."""
    ok = response.status_code < 400
    msg = ""
    if response.is_json and not response.is_streamed:  # a streamed answer is read once, by its client
        try:
            body = response.get_json(silent=True) or {}
            msg = str(body.get("msg", "")) if isinstance(body, dict) else ""
            if isinstance(body, dict) and isinstance(body.get("code"), int) and body["code"] >= 400:
                ok = False  # a refusal answered 200 (PCLOUD_API_ERRORS=body: the status moved into `code`)
        except Exception:  # noqa: BLE001
            msg = ""
        if msg and msg == str(answered := answered_msg()):  # the envelope's message as it was said
            msg = stored(answered) or msg
    msg = g.get(_MESSAGE) or msg
    if not msg or msg == "success" or msg.isdigit():  # every outcome is logged with a sentence
        msg = N_("操作成功") if ok else (HTTP_MESSAGES.get(response.status_code)
                                         or said(N_("操作失败（%(status)s）"), status=response.status_code))
    return ("success" if ok else "fail"), clipped(msg, 500) or ""


def _record(response: Response) -> None:
    title = _title()
    if not title:
        return
    if not is_api_request() and request.method == "GET":
        return
    if g.get("db_unavailable"):
        # The database just failed this request: writing now would only wait (or fail) a second time.
        log.warning("action not recorded, database unavailable: %s %s %s", title, request.method, request.path)
        return
    sink = current_app.extensions.get("pcloud.action_sink")
    if sink is None:  # no module writes the log in this app
        return
    from pcloud.core.security import current_principal

    status, msg = _response_outcome(response)
    if g.get(_REFUSED):
        status = "fail"
    who = g.get(_PRINCIPAL)  # (id, name, phone): set by sign-in / sign-out (as_principal), where current_user is not it
    if who is None:
        principal = current_principal()
        who = (principal.user_id, principal.name, principal.phone) if principal else (None, None, None)
    started = g.get("request_started")
    cost = int((time.perf_counter() - started) * 1000) if started else 0
    ua = request.user_agent.string or ""
    os_name, browser = _parse_agent(ua)
    row = {
        "user_id": who[0], "name": who[1], "phone": who[2],
        "title": title, "method": request.method, "path": request.path[:255],
        "params": _detail_params() if g.get(_DETAIL) is not None else masked_params(), "status": status, "msg": msg,
        "client_ip": client_ip(), "os": os_name, "browser": browser,
        "cost_ms": cost, "gmt_created_date": utcnow(),
    }
    # What cannot be encoded (a lone surrogate) is stored escaped (\\ud800), never dropped with the row.
    row = {k: _storable(v) if isinstance(v, str) else v for k, v in row.items()}
    # The request is over: whatever it left uncommitted (a refusal after a row lock) would be rolled back at
    # teardown anyway; end it now, so its locks (on SQLite, the write lock) do not hold up this insert.
    db.session.rollback()
    sink(row)  # in its own transaction (actionlog.service.write_action): a rolled-back request is logged too


def _storable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _parse_agent(ua: str) -> tuple[str, str]:
    return parse_user_agent(ua)


def init_recorder(app: Flask, sink: Callable[[dict[str, Any]], None]) -> None:
    """Record every `@action` request; `sink` stores one row (the actionlog module's writer)."""
    app.extensions["pcloud.action_sink"] = sink

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
