"""职级管理 request and response schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from pcloud.core.schemas import AuditOut, BaseSchema, Id, PageArgs, Text, limit_of
from pcloud.grades.models import Grade

NAME_MAX, REMARK_MAX = limit_of(Grade.name), limit_of(Grade.remark)
_level = validate.Range(min=0, max=1_000_000)


class GradePageArgs(PageArgs):
    name = fields.String(validate=validate.Length(max=NAME_MAX), allow_none=True,
                         metadata={"description": "name contains"})


class GradeCreateArgs(BaseSchema):
    name = Text(NAME_MAX, required=True)
    level = fields.Integer(strict=True, validate=_level, load_default=0, metadata={"description": "integer >= 0"})
    remark = fields.String(validate=validate.Length(max=REMARK_MAX), allow_none=True)


class GradeModifyArgs(BaseSchema):
    id = Id(required=True)
    name = Text(NAME_MAX)
    level = fields.Integer(strict=True, validate=_level)
    remark = fields.String(validate=validate.Length(max=REMARK_MAX), allow_none=True)


class GradeOut(AuditOut):
    id = fields.Integer()
    name = fields.String()
    level = fields.Integer()
    remark = fields.String(allow_none=True)


# Rows echoed back by clients of the original PCloud (API.md): what the output carries is ignored.
GradeCreateArgs.echo_of = GradeModifyArgs.echo_of = GradeOut
