"""站内信 request and response schemas (the original front end's fields: src/views/personalized/mail)."""

from __future__ import annotations

from marshmallow import fields, validate

from pcloud.core.schemas import AuditOut, BaseSchema, LocalDateTime, PageArgs, Text, limit_of
from pcloud.mail.models import Mail
from pcloud.users.models import User

NAME_MAX, DESCRIPTION_MAX, PHONE_MAX = limit_of(Mail.name), limit_of(Mail.description), limit_of(User.phone)


class MailPageArgs(PageArgs):
    name = fields.String(validate=validate.Length(max=NAME_MAX), allow_none=True,
                         metadata={"description": "title contains"})
    phone = fields.String(validate=validate.Length(max=PHONE_MAX), allow_none=True,
                          metadata={"description": "the recipient's phone"})
    send_phone = fields.String(validate=validate.Length(max=PHONE_MAX), allow_none=True,
                               metadata={"description": "the sender's phone"})
    state = fields.Boolean(allow_none=True, metadata={
        "description": "true read, false unread; absent, null or \"\" (a cleared select): both"})


class MailCreateArgs(BaseSchema):
    phone = Text(PHONE_MAX, required=True, metadata={"description": "the recipient's phone"})
    name = Text(NAME_MAX, required=True, metadata={"description": "the title"})
    description = Text(DESCRIPTION_MAX, required=True, metadata={"description": "the text"})


class MailOut(AuditOut):
    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    state = fields.Boolean(metadata={"description": "true: read"})
    read_date = LocalDateTime(allow_none=True, metadata={"description": "when the recipient read it"})
    phone = fields.String(allow_none=True, metadata={"description": "the recipient's phone"})
    username = fields.String(allow_none=True, metadata={"description": "the recipient's name"})
    avatar = fields.String(allow_none=True, metadata={"description": "the recipient's avatar"})
    send_phone = fields.String(allow_none=True)
    send_username = fields.String(allow_none=True)
    send_avatar = fields.String(allow_none=True)


class MailDetailArgs(BaseSchema):
    """The original front end posts `{id}` in the body too; the path names the mail."""

    id = fields.Integer(allow_none=True)


MailCreateArgs.echo_of = MailOut
