"""The JSON envelope of API.md, added in one place, and the error handling of both front doors."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from functools import wraps
from typing import Any

import marshmallow as ma
from flask import Response, current_app, g, has_app_context, jsonify, render_template, request, stream_with_context
from flask_babel import gettext, lazy_gettext
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from pcloud.core.errors import PCloudError
from pcloud.core.messages import N_, Said, said_now

log = logging.getLogger(__name__)

# Messages shown for HTTP errors that carry no message of their own.
HTTP_MESSAGES: dict[int, str] = {
    400: N_("请求格式错误"),
    401: N_("未登录或登录已失效"),
    403: N_("没有权限"),
    404: N_("资源不存在"),
    405: N_("不支持的请求方法"),
    409: N_("操作与现有数据冲突"),
    413: N_("请求内容过大"),
    415: N_("不支持的内容类型"),
    422: N_("参数校验失败"),
    429: N_("尝试次数过多，请稍后再试"),
    500: N_("系统异常"),
    503: N_("服务暂不可用，请稍后再试"),
}


def http_message(code: int) -> str | None:
    """The message of an HTTP status that carries none of its own, said in the request's language."""
    return gettext(HTTP_MESSAGES[code]) if code in HTTP_MESSAGES else None


# What webargs itself says (marshmallow's own messages are Chinese at their source: core/messages.py).
WEBARGS_MESSAGES: dict[str, Any] = {
    "Invalid JSON body.": lazy_gettext("JSON 格式错误"),
    "Invalid value.": lazy_gettext("取值不正确"),
}


def is_api_request() -> bool:
    path = "/" + request.path.lstrip("/")  # `//api/...` is still the API: it answers in the envelope
    return path == "/api" or path.startswith("/api/")


_ANSWERED = "pcloud_envelope_msg"


def answered_msg() -> Any:
    """The message this request's envelope said (other than "success"), as it was said: a core.messages.Said
    remembers its source string and values, for the operation log to store (core.recorder). None: none said."""
    return g.get(_ANSWERED)


def envelope(data: Any = None, total: int = 0, code: int = 200, msg: str = "success",
             errors: dict[str, Any] | None = None, total_exact: bool = True) -> dict[str, Any]:
    if msg != "success" and has_app_context():
        setattr(g, _ANSWERED, msg)
    # The keys in the order the envelope schemas dump them (_EnvelopeBase, then data), so an answer built
    # here (an error, the ID service, the user page) reads like one the schema dumped.
    body: dict[str, Any] = {"code": code, "msg": msg, "timestamp": int(time.time() * 1000), "total": total}
    if not total_exact:  # API.md: an estimated total (above core.paging.TOTAL_EXACT_LIMIT) says so
        body["totalExact"] = False
    body["data"] = data
    if errors:
        body["errors"] = errors
    return body


def _localise(value: Any) -> Any:
    """Stringify keys (list indexes come as ints), say lazy messages now and translate what webargs says."""
    if isinstance(value, dict):
        # a field's messages are a list: marshmallow makes one of a plain message, not of a lazy one
        return {str(k): [str(v)] if hasattr(v, "__html__") else _localise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_localise(v) for v in value]
    if isinstance(value, str):
        return str(WEBARGS_MESSAGES.get(value, value))
    if hasattr(value, "__html__"):  # a lazy message (core.messages, flask_babel.lazy_gettext)
        return str(value)
    return value


def error_response(code: int, msg: Any = None, errors: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None, body_as: int | None = None) -> Response:
    """Every API refusal goes through here, so the error transport (PCLOUD_API_ERRORS) is decided once.
    `msg`: said now if lazy. `body_as`: the body mode's code when the usual mapping does not fit (a sign-in's wrong
    password)."""
    body_mode = current_app.config.get("PCLOUD_API_ERRORS") == "body"
    if code == 422 and errors and not body_mode and (msg is None or str(msg) == str(http_message(422))):
        msg = invalid_msg(errors)  # (the body mode appends every field to the generic sentence: body_msg)
    msg = said_now(msg or http_message(code) or gettext("请求失败"))
    errors = _localise(errors) if errors else None
    status = code
    if body_mode:
        code, msg = body_as or body_code(code), body_msg(code, msg, errors)
        status = 200
    resp = jsonify(envelope(None, 0, code, msg, errors))
    resp.status_code = status
    if headers:
        resp.headers.update(headers)
    return resp


def invalid_msg(errors: dict[str, Any]) -> str:
    """The `msg` of a 422 whose message would be only the generic 参数校验失败 (a body or query the schema refused):
    the first wrong field and its reason, as a service's refusal says its reason (参数校验失败：phone 必填项不能为空;
    a nested one by its path, `roleIds[1]`; one of the whole body, the reason alone). `errors` says every field."""
    path, reason = _first_error(errors)
    if path is None:
        return gettext("参数校验失败：%(reason)s", reason=reason)
    return gettext("参数校验失败：%(field)s %(reason)s", field=path, reason=reason)


def _first_error(value: Any, path: str | None = None) -> tuple[str | None, Any]:
    """(the path of the first field of `errors`, its first message) as it will be said: a message said now in the
    request's language (a `Said` keeps its source string for the operation log, core.i18n.stored; a lazy message is
    said as plain text)."""
    if isinstance(value, dict) and value:
        key, inner = next(iter(value.items()))
        if key == "_schema":  # marshmallow's error of the whole object, not of a field
            return _first_error(inner, path)
        if isinstance(key, int) or str(key).isdigit():  # an item of a list: roleIds[1]
            return _first_error(inner, f"{path or ''}[{key}]")
        return _first_error(inner, str(key) if path is None else f"{path}.{key}")
    if isinstance(value, list | tuple) and value:
        return _first_error(value[0], path)
    if isinstance(value, str) and not isinstance(value, Said):
        value = WEBARGS_MESSAGES.get(value, value)
    return path, said_now(value)


# ---------------------------------------------------------------------------------------------
# PCLOUD_API_ERRORS=body: the original PCloud's transport (API.md, "Clients of the original PCloud").
# Its clients read `code` only from HTTP 200 answers: 401 signs out, 403 and 1000 show `msg`, 3000 is
# an unexpected error. So every answer is HTTP 200 and the status moves into `code`.

BODY_PASSED_THROUGH = (401, 403)
BODY_REFUSED = 1000
BODY_UNEXPECTED = 3000


def body_code(status: int) -> int:
    if status in BODY_PASSED_THROUGH:
        return status
    if status >= 500 and status != 503:  # 503 is a known refusal (dependency down), not a bug
        return BODY_UNEXPECTED
    return BODY_REFUSED


def body_msg(status: int, msg: str, errors: dict[str, Any] | None) -> str:
    """Such clients show only `msg`: a generic one gets the fields and reasons appended."""
    if not errors or msg not in (http_message(status), gettext("参数校验失败")):
        return msg
    comma = gettext("、")
    parts = [f"{field} {comma.join(str(m) for m in _flatten(reasons))}" for field, reasons in errors.items()]
    detail = gettext("；").join(parts)
    return gettext("%(msg)s：%(detail)s", msg=msg, detail=detail[:300])


def error_page(code: int, msg: str | None = None) -> tuple[str, int]:
    return render_template("errors/error.html", code=code,
                           msg=msg or http_message(code) or gettext("请求失败")), code


def _validation_errors(data: dict[str, Any]) -> dict[str, Any]:
    messages = data.get("messages") or data.get("errors") or {}
    merged: dict[str, Any] = {}
    # webargs nests messages by location (json, query, path...); the client only knows field names.
    for location, fields in messages.items():
        if isinstance(fields, dict) and location in ("json", "query", "querystring", "path", "form",
                                                     "headers", "files", "view_args", "json_or_form"):
            merged.update(fields)
        else:
            merged[location] = fields
    return merged


class PCloudApi(Api):
    """flask-smorest Api whose errors are the envelope under /api and HTML pages elsewhere."""

    def _register_error_handlers(self) -> None:
        self._app.register_error_handler(HTTPException, self.handle_http_exception)
        self._app.register_error_handler(PCloudError, handle_domain_error)

    def handle_http_exception(self, error: HTTPException) -> Any:  # type: ignore[override]
        code = error.code or 500
        # Allow (405) and the like: the headers the exception carries, minus its own content type.
        extra = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        if not is_api_request():
            html, status = error_page(code)
            return html, status, extra
        data = getattr(error, "data", None) or {}
        msg = data.get("message") if isinstance(data.get("message"), str) else None
        errors = None
        if code == 422:
            errors = _validation_errors(data)
        elif code == 400 and data.get("messages"):
            detail = gettext("；").join(str(_localise(m)) for m in _flatten(data["messages"]))
            msg = msg or gettext("请求格式错误：%(detail)s", detail=detail)
        if code >= 500:
            msg = http_message(code) or gettext("系统异常")
        return error_response(code, msg, errors, {**extra, **(data.get("headers") or {})})


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [m for v in value.values() for m in _flatten(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _flatten(v)]
    return [value]


def handle_domain_error(error: PCloudError) -> Any:
    if is_api_request():
        return error_response(error.code, error.msg, error.errors, body_as=error.body_code)
    return error_page(error.code, error.msg)


# ---------------------------------------------------------------------------------------------
# Documented envelope schemas


class _EnvelopeBase(ma.Schema):
    code = ma.fields.Integer(required=True, metadata={"example": 200})
    msg = ma.fields.String(required=True, metadata={"example": "success"})
    timestamp = ma.fields.Integer(required=True, metadata={"description": "epoch milliseconds"})
    total = ma.fields.Integer(required=True)
    totalExact = ma.fields.Boolean(metadata={  # noqa: N815 - the documented field name
        "description": "present and false when `total` is an estimate (more than 10,000 matches)"})


class ErrorEnvelopeSchema(_EnvelopeBase):
    # A refusal's example, not the success's the other envelopes show
    code = ma.fields.Integer(required=True, metadata={"example": 422, "description": "= the HTTP status"})
    msg = ma.fields.String(required=True, metadata={"example": "参数校验失败"})
    data = ma.fields.Raw(allow_none=True, load_default=None)
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(), metadata={
        "example": {"phone": ["手机号格式不正确"]}, "description": "the fields that were wrong, each with its reasons"})


PCloudApi.ERROR_SCHEMA = ErrorEnvelopeSchema

_envelope_cache: dict[str, type[ma.Schema]] = {}


def streamed_envelope(data: dict[str, Any], key: str, items: Iterable[Any]) -> Response:
    """A success envelope whose `data[key]`, a long list, is written while it is read (`items`, in the request's
    context), so the list is never held whole in memory: the rest of `data` as `envelope` writes it, then the
    items one by one."""
    text = json.dumps(envelope({**data, key: []}), ensure_ascii=False)
    marker = f'"{key}": []'
    assert text.count(marker) == 1 and text.endswith("}}")
    head, tail = text.split(marker)

    def chunks() -> Iterator[str]:
        yield head + f'"{key}": ['
        for i, item in enumerate(items):
            yield ("," if i else "") + json.dumps(item, ensure_ascii=False)
        yield "]" + tail

    return Response(stream_with_context(chunks()), mimetype="application/json")


def envelope_schema(name: str, data: ma.fields.Field | type[ma.Schema] | ma.Schema | None = None,
                    many: bool = False) -> type[ma.Schema]:
    """A schema class `<name>Envelope` whose `data` is the given schema (or field)."""
    key = f"{name}Envelope"
    if key in _envelope_cache:
        return _envelope_cache[key]
    if data is None:
        data_field: ma.fields.Field = ma.fields.Raw(allow_none=True)
    elif isinstance(data, ma.fields.Field):
        data_field = data
    else:
        nested = ma.fields.Nested(data, allow_none=True)
        data_field = ma.fields.List(nested) if many else nested
    cls = type(key, (_EnvelopeBase,), {"data": data_field})
    _envelope_cache[key] = cls
    return cls


def respond(blp: Any, name: str, data: Any = None, *, many: bool = False, paged: bool = False,
            description: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Document the envelope and wrap what the view returns in it.

    A paged view returns a core.paging.Page, `(items, Page)` (whose `total_exact` reaches the envelope) or
    `(items, total)`;
    any other view returns its data. A view that returns a
    `Response` (a file download) is passed through untouched.
    """
    schema = envelope_schema(name, data, many=many or paged)

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = fn(*args, **kwargs)
            if isinstance(result, Response):
                return result
            if paged:
                # a core.paging.Page (not imported: paging needs the extensions, which need this module)
                items, total = (result.items, result) if hasattr(result, "total_exact") else result
                if hasattr(total, "total_exact"):
                    return envelope(items, total.total, total_exact=total.total_exact)
                return envelope(items, total)
            return envelope(result)

        return blp.response(200, schema, description=description)(wrapper)

    return decorator


def json_error_for_unexpected(error: Exception) -> Any:
    """Last resort for anything that escaped: logged with its trace, never shown."""
    log.exception("unhandled error", exc_info=error)
    if current_app.config.get("PROPAGATE_EXCEPTIONS"):
        raise error
    if is_api_request():
        return error_response(500)
    return error_page(500)
