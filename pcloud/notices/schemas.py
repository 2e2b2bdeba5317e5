"""通知公告 request and response schemas (API.md, Notices 通知公告)."""

from __future__ import annotations

from flask_babel import lazy_gettext
from marshmallow import fields, validate

from pcloud.core.schemas import AuditOut, BaseSchema, Id, IdList, LocalDateTime, PageArgs, Text
from pcloud.notices.models import CONTENT_MAX, DRAFT, PUBLISHED, WITHDRAWN
from pcloud.notices.service import AUDIENCE_IDS_MAX, TITLE_MAX, TYPES

NOTICE_TYPES = validate.OneOf(sorted(TYPES), error=lazy_gettext("类型只能是 1（通知）或 2（公告）"))


class NoticePageArgs(PageArgs):
    title = fields.String(validate=validate.Length(max=TITLE_MAX), allow_none=True,
                          metadata={"description": "title contains"})
    notice_type = fields.Integer(strict=True, validate=NOTICE_TYPES, allow_none=True)
    status = fields.Integer(strict=True, validate=validate.OneOf([DRAFT, PUBLISHED, WITHDRAWN]), allow_none=True,
                            metadata={"description": "0 draft, 1 published, 2 withdrawn"})


class AudienceArgs(BaseSchema):
    all = fields.Boolean(load_default=False, metadata={"description": "everyone"})
    role_ids = IdList(AUDIENCE_IDS_MAX, load_default=list)
    dept_ids = IdList(AUDIENCE_IDS_MAX, load_default=list, metadata={"description": "each with its subtree"})


class AudienceOut(BaseSchema):
    all = fields.Boolean()
    role_ids = fields.List(fields.Integer())
    role_names = fields.List(fields.String())
    dept_ids = fields.List(fields.Integer())
    dept_names = fields.List(fields.String())


class NoticeOut(AuditOut):
    id = fields.Integer()
    title = fields.String()
    content = fields.String(metadata={"description": "Markdown"})
    content_html = fields.String(metadata={"description": "the Markdown rendered and sanitised: safe to show"})
    notice_type = fields.Integer(metadata={"description": "1 notice, 2 announcement"})
    type_name = fields.String()
    status = fields.Integer(metadata={"description": "0 draft, 1 published, 2 withdrawn"})
    status_name = fields.String()
    audience = fields.Nested(AudienceOut)
    published_at = LocalDateTime(allow_none=True)
    read = fields.Boolean(metadata={"description": "in /mine: whether the principal read it"})


class NoticeCreateArgs(BaseSchema):
    title = Text(TITLE_MAX, required=True)
    content = Text(CONTENT_MAX, required=True, metadata={"description": "Markdown; no HTML passes"})
    notice_type = fields.Integer(strict=True, load_default=1, validate=NOTICE_TYPES)
    status = fields.Integer(strict=True, load_default=DRAFT, validate=validate.OneOf([DRAFT, PUBLISHED]),
                            metadata={"description": "0 a draft (default), 1 published at once"})
    audience = fields.Nested(AudienceArgs, load_default=lambda: {"all": True, "role_ids": [], "dept_ids": []})


class NoticeModifyArgs(BaseSchema):
    id = Id(required=True)
    title = Text(TITLE_MAX)
    content = Text(CONTENT_MAX)
    notice_type = fields.Integer(strict=True, validate=NOTICE_TYPES)
    audience = fields.Nested(AudienceArgs)


class MineArgs(PageArgs):
    pass


class ReadersArgs(PageArgs):
    read = fields.Boolean(allow_none=True, metadata={"description": "true who read it, false who did not"})
    name = fields.String(validate=validate.Length(max=64), allow_none=True, metadata={"description": "name contains"})


class ReaderOut(BaseSchema):
    user_id = fields.Integer()
    name = fields.String()
    phone = fields.String()
    dept_name = fields.String(allow_none=True)
    read = fields.Boolean()
    read_at = LocalDateTime(allow_none=True)


AudienceArgs.echo_of = AudienceOut
NoticeCreateArgs.echo_of = NoticeOut
NoticeModifyArgs.echo_of = NoticeOut
