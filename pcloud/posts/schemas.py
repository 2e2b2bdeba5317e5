"""岗位管理 request and response schemas."""

from __future__ import annotations

from marshmallow import fields, validate

from pcloud.core.schemas import AuditOut, BaseSchema, FilterArgs, Id, PageArgs, ParentId, Sequence, Text, limit_of
from pcloud.posts.models import Post

NAME_MAX, CODE_MAX, REMARK_MAX = limit_of(Post.name), limit_of(Post.code), limit_of(Post.remark)


class PostPageArgs(PageArgs):
    name = fields.String(validate=validate.Length(max=NAME_MAX), allow_none=True,
                         metadata={"description": "name contains"})


class PostListArgs(FilterArgs):
    parent_id = ParentId(load_default=0, allow_none=True,
                         metadata={"description": "the level to list; 0 = top-level posts"})


class PostCreateArgs(BaseSchema):
    name = Text(NAME_MAX, required=True)
    code = Text(CODE_MAX, blank=True, allow_none=True,
                         metadata={"description": "unique among live posts; blank = none"})
    parent_id = ParentId(load_default=0, allow_none=True,
                         metadata={"description": "0 = a top-level post"})
    sequence = Sequence(load_default=0)
    remark = fields.String(validate=validate.Length(max=REMARK_MAX), allow_none=True)


class PostModifyArgs(BaseSchema):
    id = Id(required=True)
    name = Text(NAME_MAX)
    code = Text(CODE_MAX, blank=True, allow_none=True)
    parent_id = ParentId(allow_none=True)
    sequence = Sequence()
    remark = fields.String(validate=validate.Length(max=REMARK_MAX), allow_none=True)


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
