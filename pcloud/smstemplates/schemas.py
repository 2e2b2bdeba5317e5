"""短信模板 request and response schemas (the original front end's src/views/personalized/sms)."""

from __future__ import annotations

from marshmallow import fields, validate

from pcloud.core.schemas import AuditOut, BaseSchema, Id, PageArgs, Text, limit_of
from pcloud.smstemplates.models import SmsTemplate

CODE_MAX, NAME_MAX, TEXT_MAX = limit_of(SmsTemplate.code), limit_of(SmsTemplate.name), limit_of(SmsTemplate.description)
_TEXT_DOC = {"description": "the text; {code} stands for the verification code, {minutes} for its validity"}


class SmsTemplatePageArgs(PageArgs):
    name = fields.String(validate=validate.Length(max=NAME_MAX), allow_none=True,
                         metadata={"description": "name contains"})
    code = fields.String(validate=validate.Length(max=CODE_MAX), allow_none=True,
                         metadata={"description": "code contains"})


class SmsTemplateCreateArgs(BaseSchema):
    code = Text(CODE_MAX, required=True)
    name = Text(NAME_MAX, required=True)
    description = Text(TEXT_MAX, required=True, metadata=_TEXT_DOC)


class SmsTemplateModifyArgs(BaseSchema):
    id = Id(required=True)
    code = Text(CODE_MAX)
    name = Text(NAME_MAX)
    description = Text(TEXT_MAX, metadata=_TEXT_DOC)


class SmsTemplateOut(AuditOut):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    description = fields.String()


SmsTemplateCreateArgs.echo_of = SmsTemplateModifyArgs.echo_of = SmsTemplateOut
