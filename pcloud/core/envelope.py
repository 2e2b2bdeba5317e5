"""The JSON envelope of API.md, added in one place, and the error handling of both front doors."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import marshmallow as ma
from flask import Response, current_app, jsonify, render_template, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from pcloud.core.errors import PCloudError

log = logging.getLogger(__name__)

# Messages shown for HTTP errors that carry no message of their own.
HTTP_MESSAGES = {
    400: "请求格式错误",
    401: "未登录或登录已失效",
    403: "没有权限",
    404: "资源不存在",
    405: "不支持的请求方法",
    409: "操作与现有数据冲突",
    413: "请求内容过大",
    415: "不支持的内容类型",
    422: "参数校验失败",
    429: "尝试次数过多，请稍后再试",
    500: "系统异常",
    503: "服务暂不可用，请稍后再试",
}

# marshmallow / webargs messages, said in the language of the interface document.
FIELD_MESSAGES = {
    "Missing data for required field.": "必填项不能为空",
    "Unknown field.": "未知字段",
    "Not a valid integer.": "必须是整数",
    "Not a valid string.": "必须是字符串",
    "Not a valid boolean.": "必须是布尔值",
    "Not a valid list.": "必须是数组",
    "Not a valid datetime.": "时间格式不正确",
    "Not a valid date.": "日期格式不正确",
    "Field may not be null.": "不能为 null",
    "Invalid input type.": "类型不正确",
    "Invalid value.": "取值不正确",
    "Shorter than minimum length 1.": "不能为空",
    "Invalid JSON body.": "JSON 格式错误",
}


def is_api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def envelope(data: Any = None, total: int = 0, code: int = 200, msg: str = "success",
             errors: dict[str, Any] | None = None, total_exact: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "msg": msg,
        "timestamp": int(time.time() * 1000),
        "data": data,
        "total": total,
    }
    if not total_exact:  # API.md: an estimated total (above core.paging.TOTAL_EXACT_LIMIT) says so
        body["totalExact"] = False
    if errors:
        body["errors"] = errors
    return body


def _localise(value: Any) -> Any:
    """Stringify keys (list indexes come as ints) and translate the library's stock messages."""
    if isinstance(value, dict):
        return {str(k): _localise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_localise(v) for v in value]
    if isinstance(value, str):
        if value.startswith("Must be one of:"):
            return "取值必须是其中之一：" + value[len("Must be one of:"):].strip().rstrip(".")
        if value.startswith("Longer than maximum length"):
            return "长度不能超过 " + value.rsplit(" ", 1)[-1].rstrip(".")
        if value.startswith("Must be greater than or equal to") and "less than" in value:
            parts = value.replace(".", "").split()
            return f"取值范围 {parts[6]} 到 {parts[-1]}"
        if value.startswith("Must be greater than or equal to"):
            return "不能小于 " + value.rsplit(" ", 1)[-1].rstrip(".")
        return FIELD_MESSAGES.get(value, value)
    return value


def error_response(code: int, msg: str | None = None, errors: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    resp = jsonify(envelope(None, 0, code, msg or HTTP_MESSAGES.get(code, "请求失败"),
                            _localise(errors) if errors else None))
    resp.status_code = code
    if headers:
        resp.headers.update(headers)
    return resp


def error_page(code: int, msg: str | None = None) -> tuple[str, int]:
    return render_template("errors/error.html", code=code,
                           msg=msg or HTTP_MESSAGES.get(code, "请求失败")), code


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
        if not is_api_request():
            return error_page(code)
        data = getattr(error, "data", None) or {}
        msg = data.get("message") if isinstance(data.get("message"), str) else None
        errors = None
        if code == 422:
            errors = _validation_errors(data)
        elif code == 400 and data.get("messages"):
            msg = msg or "请求格式错误：" + "；".join(str(_localise(m)) for m in _flatten(data["messages"]))
        if code >= 500:
            msg = HTTP_MESSAGES.get(code, "系统异常")
        return error_response(code, msg, errors, data.get("headers"))


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [m for v in value.values() for m in _flatten(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _flatten(v)]
    return [value]


def handle_domain_error(error: PCloudError) -> Any:
    if is_api_request():
        return error_response(error.code, error.msg, error.errors)
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
    data = ma.fields.Raw(allow_none=True, load_default=None)
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw())


PCloudApi.ERROR_SCHEMA = ErrorEnvelopeSchema

_envelope_cache: dict[str, type[ma.Schema]] = {}


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

    A paged view returns `(items, total)` or `(items, Page)` (whose `total_exact` reaches the envelope);
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
                items, total = result
                if hasattr(total, "total_exact"):  # a core.paging.Page
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
