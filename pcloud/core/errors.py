"""Domain errors raised by services; both front doors turn them into an envelope or a flash."""

from __future__ import annotations

from typing import Any


class PCloudError(Exception):
    code = 500
    default_msg = "系统异常"

    def __init__(self, msg: str | None = None, errors: dict[str, Any] | None = None):
        super().__init__(msg or self.default_msg)
        self.msg = msg or self.default_msg
        self.errors = errors


class Invalid(PCloudError):
    """A field is wrong (422). `errors` maps field names (camelCase, as on the wire) to messages."""

    code = 422
    default_msg = "参数校验失败"

    def __init__(self, msg: str | None = None, errors: dict[str, Any] | None = None, field: str | None = None):
        if field and errors is None:
            errors = {field: [msg or self.default_msg]}
        super().__init__(msg, errors)


class Unauthorized(PCloudError):
    code = 401
    default_msg = "未登录或登录已失效"


class Forbidden(PCloudError):
    code = 403
    default_msg = "没有权限"


class NotFound(PCloudError):
    code = 404
    default_msg = "数据不存在"


class Conflict(PCloudError):
    code = 409
    default_msg = "操作与现有数据冲突"


class TooManyRequests(PCloudError):
    code = 429
    default_msg = "尝试次数过多，请稍后再试"


class Unavailable(PCloudError):
    code = 503
    default_msg = "服务暂不可用，请稍后再试"
