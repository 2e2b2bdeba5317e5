"""登录日志 request and response schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from pcloud.core.schemas import BaseSchema, FilterArgs, Id, LocalDateTime, PageArgs, limit_of
from pcloud.loginlog.models import LoginLog
from pcloud.loginlog.service import EVENTS, GRANT_TYPES, shown_reason


class LoginLogFilterArgs(FilterArgs):
    phone = fields.String(validate=validate.Length(max=limit_of(LoginLog.phone)), allow_none=True,
                          metadata={"description": "phone (or secureId) contains"})
    result = fields.Integer(validate=validate.OneOf([0, 1]), allow_none=True,
                            metadata={"description": "0 success, 1 failure"})
    grant_type = fields.String(validate=validate.OneOf(GRANT_TYPES), allow_none=True)
    event = fields.String(validate=validate.OneOf(EVENTS), allow_none=True)
    client_ip = fields.String(validate=validate.Length(max=limit_of(LoginLog.client_ip)), allow_none=True)
    user_id = Id(allow_none=True)
    start_time = LocalDateTime(allow_none=True)
    end_time = LocalDateTime(allow_none=True)


class LoginLogPageArgs(PageArgs, LoginLogFilterArgs):
    pass


class LoginLogDownloadArgs(LoginLogFilterArgs):
    file_name = fields.String(validate=validate.Length(max=100), allow_none=True)


class Reason(fields.String):
    """A row's stored reason, answered in the request's language (loginlog.service.shown_reason)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return super()._serialize(shown_reason(value), attr, obj, **kwargs)


class LoginLogOut(BaseSchema):
    id = fields.Integer()
    event = fields.String()
    phone = fields.String(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    grant_type = fields.String(allow_none=True)
    result = fields.Integer()
    reason = Reason(allow_none=True, metadata={"description": "in the request's language (docs/API.md, Languages)"})
    client_ip = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    browser = fields.String(allow_none=True)
    os = fields.String(allow_none=True)
    signed_in_at = LocalDateTime()
