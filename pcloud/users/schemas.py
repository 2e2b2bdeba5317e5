"""用户管理 request and response schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from pcloud.core.schemas import AuditOut, BaseSchema, FlagInt, Id, IdList, PageArgs, limit_of
from pcloud.users.models import User

PHONE_MAX, NAME_MAX, AVATAR_MAX = limit_of(User.phone), limit_of(User.name), limit_of(User.avatar)
PASSWORD_MAX = 72  # bcrypt reads the first 72 bytes
SORTABLE = ("id", "name", "phone", "state", "gmtCreatedDate")


class UserFilterArgs(BaseSchema):
    phone = fields.String(validate=validate.Length(max=PHONE_MAX), allow_none=True)
    keyword = fields.String(validate=validate.Length(max=NAME_MAX), allow_none=True)
    role_ids = IdList(allow_none=True)
    dept_id = Id(allow_none=True)
    state = FlagInt(validate=validate.OneOf([0, 1]), allow_none=True)


class UserPageArgs(PageArgs, UserFilterArgs):
    order_by = fields.String(validate=validate.OneOf(SORTABLE), allow_none=True,
                             metadata={"description": "sort column; default gmtCreatedDate"})
    order_dir = fields.String(validate=validate.OneOf(["asc", "desc"]), allow_none=True)


class UserCreateArgs(BaseSchema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=PHONE_MAX))
    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    password = fields.String(required=True, validate=validate.Length(min=1, max=PASSWORD_MAX))
    state = FlagInt(validate=validate.OneOf([0, 1]), load_default=0)
    role_ids = IdList(load_default=list)
    avatar = fields.String(validate=validate.Length(max=AVATAR_MAX), allow_none=True)
    dept_id = Id(allow_none=True)
    post_id = Id(allow_none=True)
    grade_id = Id(allow_none=True)


class UserModifyArgs(BaseSchema):
    id = Id(required=True)
    phone = fields.String(validate=validate.Length(min=1, max=PHONE_MAX))
    name = fields.String(validate=validate.Length(min=1, max=NAME_MAX))
    password = fields.String(validate=validate.Length(min=1, max=PASSWORD_MAX), allow_none=True)
    state = FlagInt(validate=validate.OneOf([0, 1]))
    role_ids = IdList()
    avatar = fields.String(validate=validate.Length(max=AVATAR_MAX), allow_none=True)
    dept_id = Id(allow_none=True)
    post_id = Id(allow_none=True)
    grade_id = Id(allow_none=True)


class UserDownloadArgs(UserFilterArgs):
    ids = IdList(load_default=list)
    file_name = fields.String(validate=validate.Length(max=100), allow_none=True)
    type = fields.String(load_only=True, validate=validate.Length(max=16), allow_none=True,
                         metadata={"description": "ignored: the original front end sends 'excel'"})


class RoleBrief(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    role_code = fields.String()


class UserOut(AuditOut):
    id = fields.Integer()
    phone = fields.String()
    name = fields.String()
    avatar = fields.String(allow_none=True)
    state = fields.Integer()
    online = fields.Boolean()
    roles = fields.List(fields.Nested(RoleBrief), attribute="live_roles")
    dept_id = fields.Integer(allow_none=True)
    dept_name = fields.String(allow_none=True)
    post_id = fields.Integer(allow_none=True)
    post_name = fields.String(allow_none=True)
    grade_id = fields.Integer(allow_none=True)
    grade_name = fields.String(allow_none=True)


# Rows echoed back by clients of the original PCloud (API.md): what the output carries is ignored.
UserCreateArgs.echo_of = UserModifyArgs.echo_of = UserOut
