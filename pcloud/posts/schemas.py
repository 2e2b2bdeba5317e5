"""岗位管理 request and response schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from pcloud.core.routing import MAX_ID
from pcloud.core.schemas import ID_RANGE, AuditOut, BaseSchema, PageArgs, TrimmedString

_id = ID_RANGE
_parent = validate.Range(min=0, max=MAX_ID)
_sequence = validate.Range(min=0, max=1_000_000)


class PostPageArgs(PageArgs):
    name = fields.String(validate=validate.Length(max=64), allow_none=True,
                         metadata={"description": "name contains"})


class PostListArgs(BaseSchema):
    parent_id = fields.Integer(validate=_parent, load_default=0, allow_none=True,
                               metadata={"description": "the level to list; 0 = top-level posts"})


class PostCreateArgs(BaseSchema):
    name = TrimmedString(required=True, validate=validate.Length(min=1, max=64))
    code = TrimmedString(validate=validate.Length(max=64), allow_none=True,
                         metadata={"description": "unique among live posts; blank = none"})
    parent_id = fields.Integer(strict=True, validate=_parent, load_default=0, allow_none=True,
                               metadata={"description": "0 = a top-level post"})
    sequence = fields.Integer(strict=True, validate=_sequence, load_default=0)
    remark = fields.String(validate=validate.Length(max=500), allow_none=True)


class PostModifyArgs(BaseSchema):
    id = fields.Integer(strict=True, required=True, validate=_id)
    name = TrimmedString(validate=validate.Length(min=1, max=64))
    code = TrimmedString(validate=validate.Length(max=64), allow_none=True)
    parent_id = fields.Integer(strict=True, validate=_parent, allow_none=True)
    sequence = fields.Integer(strict=True, validate=_sequence)
    remark = fields.String(validate=validate.Length(max=500), allow_none=True)


class PostOut(AuditOut):
    id = fields.Integer()
    parent_id = fields.Integer()
    parent_name = fields.String(allow_none=True)
    name = fields.String()
    label = fields.String()
    code = fields.String(allow_none=True)
    sequence = fields.Integer()
    remark = fields.String(allow_none=True)


class PostListItem(PostOut):
    """One level of the post tree for lazy pickers: `children` is null on a post that has children (a
    tree picker loads them on demand) and absent on a leaf."""

    has_children = fields.Boolean()
    children = fields.List(fields.Raw(), allow_none=True)


# Rows echoed back by clients of the original PCloud (API.md): what the output carries is ignored.
PostCreateArgs.echo_of = PostModifyArgs.echo_of = PostListItem
