"""部门管理 request and response schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from pcloud.core.schemas import (
    AuditOut,
    BaseSchema,
    Id,
    LocalDateTime,
    PageArgs,
    ParentId,
    Sequence,
    Text,
    limit_of,
)
from pcloud.depts.models import Dept

NAME_MAX = limit_of(Dept.name)


class DeptPageArgs(PageArgs):
    name = fields.String(validate=validate.Length(max=NAME_MAX), allow_none=True,
                         metadata={"description": "name contains"})
    parent_id = ParentId(allow_none=True,
                         metadata={"description": "direct children of this department (0 = roots)"})


class DeptCreateArgs(BaseSchema):
    parent_id = ParentId(load_default=0, allow_none=True,
                         metadata={"description": "0 = a root department"})
    name = Text(NAME_MAX, required=True)
    manager_id = Id(allow_none=True, metadata={"description": "a user id"})
    established_time = LocalDateTime(allow_none=True)
    sequence = Sequence(load_default=0)


class DeptModifyArgs(BaseSchema):
    id = Id(required=True)
    parent_id = ParentId(allow_none=True)
    name = Text(NAME_MAX)
    manager_id = Id(allow_none=True)
    established_time = LocalDateTime(allow_none=True)
    sequence = Sequence()


class DeptOut(AuditOut):
    id = fields.Integer()
    parent_id = fields.Integer()
    parent_name = fields.String(allow_none=True)
    name = fields.String()
    label = fields.String()
    manager_id = fields.Integer(allow_none=True)
    manager_name = fields.String(allow_none=True)
    established_time = LocalDateTime(allow_none=True)
    sequence = fields.Integer()


class DeptNode(DeptOut):
    children = fields.List(fields.Nested(lambda: DeptNode()))


class DeptOrgArgs(BaseSchema):
    single = fields.Boolean(load_default=None, metadata={
        "description": "1: one root object (several roots under one company node); 0: the list of roots; "
                       "absent: one object when PCLOUD_API_ERRORS=body, else the list"})


class DeptTreeArgs(BaseSchema):
    """The original front end posts `{}`; nothing to filter."""


# Rows echoed back by clients of the original PCloud (API.md): what the output carries is ignored.
DeptCreateArgs.echo_of = DeptModifyArgs.echo_of = DeptNode
