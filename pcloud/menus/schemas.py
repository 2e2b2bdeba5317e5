"""菜单管理 request and response schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from pcloud.core.routing import MAX_ID
from pcloud.core.schemas import AuditOut, BaseSchema, PageArgs

_id = validate.Range(min=1, max=MAX_ID)
_parent = validate.Range(min=0, max=MAX_ID)
_sequence = validate.Range(min=-1_000_000, max=1_000_000)


class MenuPageArgs(PageArgs):
    """`page`/`pageSize` are accepted for symmetry with other lists; the answer is the whole tree."""

    name = fields.String(validate=validate.Length(max=64), allow_none=True,
                         metadata={"description": "name contains; matching menus come with their ancestors"})


class MenuCreateArgs(BaseSchema):
    parent_id = fields.Integer(validate=_parent, load_default=0, metadata={"description": "0 = root"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    path = fields.String(required=True, validate=validate.Length(min=1, max=255))
    component = fields.String(validate=validate.Length(max=255), allow_none=True)
    redirect = fields.String(validate=validate.Length(max=255), allow_none=True)
    icon = fields.String(validate=validate.Length(max=64), allow_none=True)
    router = fields.Boolean(load_default=True)
    hidden = fields.Boolean(load_default=False)
    sequence = fields.Integer(validate=_sequence, load_default=0)


class MenuModifyArgs(BaseSchema):
    """Any field of create; `parentId` + `sequence` move the menu."""

    id = fields.Integer(required=True, validate=_id)
    parent_id = fields.Integer(validate=_parent)
    name = fields.String(validate=validate.Length(min=1, max=64))
    path = fields.String(validate=validate.Length(min=1, max=255))
    component = fields.String(validate=validate.Length(max=255), allow_none=True)
    redirect = fields.String(validate=validate.Length(max=255), allow_none=True)
    icon = fields.String(validate=validate.Length(max=64), allow_none=True)
    router = fields.Boolean()
    hidden = fields.Boolean()
    sequence = fields.Integer(validate=_sequence)


class MenuOut(AuditOut):
    id = fields.Integer()
    parent_id = fields.Integer()
    name = fields.String()
    label = fields.String()
    path = fields.String()
    component = fields.String(allow_none=True)
    redirect = fields.String(allow_none=True)
    icon = fields.String(allow_none=True)
    router = fields.Boolean()
    hidden = fields.Boolean()
    sequence = fields.Integer()
    built_in = fields.Boolean()
    children = fields.List(fields.Nested(lambda: MenuOut()))


class GrantMenuNodeOut(BaseSchema):
    """A node of the whole menu tree (grant screens)."""

    id = fields.Integer()
    parent_id = fields.Integer(attribute="parentId")
    name = fields.String()
    label = fields.String()
    path = fields.String()
    icon = fields.String(allow_none=True)
    hidden = fields.Boolean()
    sequence = fields.Integer()
    children = fields.List(fields.Nested(lambda: GrantMenuNodeOut()))


# Rows echoed back by clients of the original PCloud (API.md): what the output carries is ignored.
MenuCreateArgs.echo_of = MenuModifyArgs.echo_of = MenuOut
