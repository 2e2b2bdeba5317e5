"""访问资源 request and response schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from pcloud.core.routing import GRANT_METHODS
from pcloud.core.schemas import AuditOut, BaseSchema, FilterArgs, Id, PageArgs, ParentId, Text, limit_of
from pcloud.resources.models import Resource

NAME_MAX, URL_MAX = limit_of(Resource.name), limit_of(Resource.resource_url)
_method = validate.OneOf(GRANT_METHODS)
_biz_type = validate.OneOf([0, 1])


class Method(fields.String):
    """GET, POST, PUT, DELETE or *, accepted in any case."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return str(super()._deserialize(value, attr, data, **kwargs)).strip().upper()


class ResourcePageArgs(PageArgs):
    name = fields.String(validate=validate.Length(max=NAME_MAX), allow_none=True,
                         metadata={"description": "name contains; without parentId it searches every level"})
    parent_id = ParentId(allow_none=True,
                         metadata={"description": "the level to list; default 0 (the roots)"})


class ResourceListArgs(FilterArgs):
    parent_id = ParentId(load_default=0, allow_none=True,
                         metadata={"description": "the level to list; 0 = the roots"})


class ResourceTreeArgs(BaseSchema):
    """The original front end posts `{}`; nothing to filter."""


class ResourceCreateArgs(BaseSchema):
    parent_id = ParentId(load_default=0)
    name = Text(NAME_MAX, required=True)
    resource_url = Text(URL_MAX, required=True,
                                 metadata={"description": "route pattern: {name} or * one segment, ** any rest"})
    method = Method(validate=_method, load_default="*")
    biz_type = fields.Integer(strict=True, validate=_biz_type, load_default=0,
                              metadata={"description": "0 接口, 1 按钮"})


class ResourceModifyArgs(BaseSchema):
    id = Id(required=True)
    parent_id = ParentId()
    name = Text(NAME_MAX)
    resource_url = Text(URL_MAX)
    method = Method(validate=_method)
    biz_type = fields.Integer(strict=True, validate=_biz_type)


class ResourceOut(AuditOut):
    id = fields.Integer()
    parent_id = fields.Integer()
    name = fields.String()
    label = fields.String()
    resource_url = fields.String()
    method = fields.String()
    biz_type = fields.Integer()
    biz_type_name = fields.String()
    built_in = fields.Boolean()
    has_children = fields.Boolean()


class GrantResourceNodeOut(BaseSchema):
    """A node of the whole resource tree (grant screens)."""

    id = fields.Integer()
    parent_id = fields.Integer()
    name = fields.String()
    label = fields.String()
    resource_url = fields.String()
    method = fields.String()
    biz_type = fields.Integer()
    children = fields.List(fields.Nested(lambda: GrantResourceNodeOut()))


# Rows echoed back by clients of the original PCloud (API.md): what the output carries is ignored.
ResourceCreateArgs.echo_of = ResourceModifyArgs.echo_of = ResourceOut
