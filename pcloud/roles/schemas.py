"""角色管理 and grant request and response schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from pcloud.core.schemas import AuditOut, BaseSchema, FilterArgs, Id, IdList, PageArgs, Text, limit_of
from pcloud.menus.schemas import GrantMenuNodeOut
from pcloud.resources.schemas import GrantResourceNodeOut
from pcloud.roles.models import Role

NAME_MAX, CODE_MAX = limit_of(Role.name), limit_of(Role.role_code)


class RolePageArgs(PageArgs):
    name = fields.String(validate=validate.Length(max=NAME_MAX), allow_none=True, metadata={"description": "contains"})
    role_code = fields.String(validate=validate.Length(max=CODE_MAX), allow_none=True,
                              metadata={"description": "equals"})


DATA_SCOPE_HELP = "数据权限: 1 all, 2 custom departments (deptIds), 3 own department, 4 own department and below, " \
    "5 only oneself"


def _data_scope() -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(1, 5), allow_none=True,
                          metadata={"description": DATA_SCOPE_HELP})


class RoleCreateArgs(BaseSchema):
    name = Text(NAME_MAX, required=True)
    role_code = Text(CODE_MAX, required=True,
                              metadata={"description": "^ROLE_[A-Z0-9_]{1,59}$, unique"})
    job_group_ids = IdList(1000, allow_none=True, metadata={
        "description": "the executors its holders' jobs may be on; empty: every executor"})
    data_scope = _data_scope()
    dept_ids = IdList(5000, allow_none=True)


class RoleModifyArgs(BaseSchema):
    id = Id(required=True)
    name = Text(NAME_MAX)
    role_code = Text(CODE_MAX)
    job_group_ids = IdList(1000, allow_none=True, metadata={
        "description": "the executors its holders' jobs may be on; empty: every executor; absent: unchanged"})
    data_scope = _data_scope()
    dept_ids = IdList(5000, allow_none=True)


class RoleListArgs(FilterArgs):
    name = fields.String(validate=validate.Length(max=NAME_MAX), allow_none=True, metadata={"description": "contains"})


class GrantArgs(BaseSchema):
    role_id = Id(required=True)
    routers = IdList(2000, load_default=list)
    resources = IdList(20000, load_default=list)


class RoleUsersArgs(PageArgs):
    keyword = fields.String(validate=validate.Length(max=64), allow_none=True,
                            metadata={"description": "name or phone contains"})
    assigned = fields.Boolean(load_default=True, metadata={"description": "true: users holding the role"})


class RoleAssignArgs(BaseSchema):
    user_ids = IdList(1000, required=True)
    assigned = fields.Boolean(load_default=True, metadata={"description": "true: add the role, false: remove it"})


class RoleUserOut(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    phone = fields.String()
    state = fields.Integer()
    dept_name = fields.String(allow_none=True)


class RoleAssignOut(BaseSchema):
    changed = fields.Integer()


class RoleOut(AuditOut):
    id = fields.Integer()
    name = fields.String()
    role_code = fields.String()
    user_count = fields.Integer()
    job_group_ids = fields.List(fields.Integer())
    data_scope = fields.Integer()
    dept_ids = fields.List(fields.Integer())


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
