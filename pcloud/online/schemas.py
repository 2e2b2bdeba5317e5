"""在线用户 request and response schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from pcloud.core.schemas import BaseSchema, LocalDateTime, PageArgs
from pcloud.online.service import KINDS


class OnlinePageArgs(PageArgs):
    phone = fields.String(validate=validate.Length(max=64), allow_none=True,
                          metadata={"description": "phone (or secureId) contains"})
    name = fields.String(validate=validate.Length(max=64), allow_none=True, metadata={"description": "contains"})
    kind = fields.String(validate=validate.OneOf(KINDS), allow_none=True)
    client_ip = fields.String(validate=validate.Length(max=64), allow_none=True)


class OnlineSessionOut(BaseSchema):
    session_id = fields.String(metadata={"description": "opaque public id (never the token or its hash)"})
    user_id = fields.Integer(allow_none=True)
    phone = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    dept_name = fields.String(allow_none=True)
    kind = fields.String()
    client_ip = fields.String(allow_none=True)
    browser = fields.String(allow_none=True)
    os = fields.String(allow_none=True)
    signed_in_at = LocalDateTime()
    last_seen_at = LocalDateTime()
