"""角色管理 and grant request and response schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from pcloud.core.routing import MAX_ID
from pcloud.core.schemas import AuditOut, BaseSchema, PageArgs
from pcloud.menus.schemas import GrantMenuNodeOut
from pcloud.resources.schemas import GrantResourceNodeOut

_id = validate.Range(min=1, max=MAX_ID)


def _ids(max_len: int) -> fields.List:
    return fields.List(fields.Integer(validate=_id), validate=validate.Length(max=max_len), load_default=list)


class RolePageArgs(PageArgs):
    name = fields.String(validate=validate.Length(max=64), allow_none=True, metadata={"description": "contains"})
    role_code = fields.String(validate=validate.Length(max=64), allow_none=True, metadata={"description": "equals"})


class RoleCreateArgs(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    role_code = fields.String(required=True, validate=validate.Length(min=1, max=64),
                              metadata={"description": "^ROLE_[A-Z0-9_]{1,59}$, unique"})


class RoleModifyArgs(BaseSchema):
    id = fields.Integer(required=True, validate=_id)
    name = fields.String(validate=validate.Length(min=1, max=64))
    role_code = fields.String(validate=validate.Length(min=1, max=64))


class RoleListArgs(BaseSchema):
    name = fields.String(validate=validate.Length(max=64), allow_none=True, metadata={"description": "contains"})


class GrantArgs(BaseSchema):
    role_id = fields.Integer(required=True, validate=_id)
    routers = _ids(2000)
    resources = _ids(20000)


class RoleOut(AuditOut):
    id = fields.Integer()
    name = fields.String()
    role_code = fields.String()
    user_count = fields.Integer()


class RoleBriefOut(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    role_code = fields.String()


class RoleMenuOut(BaseSchema):
    has_routers = fields.List(fields.Integer())
    routers = fields.List(fields.Nested(GrantMenuNodeOut))
    has_resources = fields.List(fields.Integer())
    resources = fields.List(fields.Nested(GrantResourceNodeOut))


# Rows echoed back by clients of the original PCloud (API.md): what the output carries is ignored.
RoleCreateArgs.echo_of = RoleModifyArgs.echo_of = RoleOut
