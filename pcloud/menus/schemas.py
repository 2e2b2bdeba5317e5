"""菜单管理 request and response schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from pcloud.core.schemas import AuditOut, BaseSchema, Id, PageArgs, ParentId, Sequence, Text, limit_of
from pcloud.menus.models import Menu

NAME_MAX, PATH_MAX, ICON_MAX = limit_of(Menu.name), limit_of(Menu.path), limit_of(Menu.icon)
NAME_EN_MAX = limit_of(Menu.name_en)
COMPONENT_MAX, REDIRECT_MAX = limit_of(Menu.component), limit_of(Menu.redirect)


class MenuPageArgs(PageArgs):
    """`page`/`pageSize` are accepted for symmetry with other lists; the answer is the whole tree."""

    name = fields.String(validate=validate.Length(max=NAME_MAX), allow_none=True,
                         metadata={"description": "name contains; matching menus come with their ancestors"})


class MenuCreateArgs(BaseSchema):
    parent_id = ParentId(load_default=0, metadata={"description": "0 = root"})
    name = Text(NAME_MAX, required=True)
    name_en = fields.String(validate=validate.Length(max=NAME_EN_MAX), allow_none=True,
                            metadata={"description": "English label, shown on English pages (else name)"})
    path = Text(PATH_MAX, required=True)
    component = fields.String(validate=validate.Length(max=COMPONENT_MAX), allow_none=True)
    redirect = fields.String(validate=validate.Length(max=REDIRECT_MAX), allow_none=True)
    icon = fields.String(validate=validate.Length(max=ICON_MAX), allow_none=True)
    router = fields.Boolean(load_default=True)
    hidden = fields.Boolean(load_default=False)
    sequence = Sequence(load_default=0)


class MenuModifyArgs(BaseSchema):
    """Any field of create; `parentId` + `sequence` move the menu."""

    id = Id(required=True)
    parent_id = ParentId()
    name = Text(NAME_MAX)
    name_en = fields.String(validate=validate.Length(max=NAME_EN_MAX), allow_none=True)
    path = Text(PATH_MAX)
    component = fields.String(validate=validate.Length(max=COMPONENT_MAX), allow_none=True)
    redirect = fields.String(validate=validate.Length(max=REDIRECT_MAX), allow_none=True)
    icon = fields.String(validate=validate.Length(max=ICON_MAX), allow_none=True)
    router = fields.Boolean()
    hidden = fields.Boolean()
    sequence = Sequence()


class MenuOut(AuditOut):
    id = fields.Integer()
    parent_id = fields.Integer()
    name = fields.String()
    name_en = fields.String(allow_none=True)
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
    parent_id = fields.Integer()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    label = fields.String()
    path = fields.String()
    icon = fields.String(allow_none=True)
    hidden = fields.Boolean()
    sequence = fields.Integer()
    children = fields.List(fields.Nested(lambda: GrantMenuNodeOut()))


# Rows echoed back by clients of the original PCloud (API.md): what the output carries is ignored.
MenuCreateArgs.echo_of = MenuModifyArgs.echo_of = MenuOut
