"""岗位管理 JSON API under /api/admin/post."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from pcloud.core.operations import operation, record_operations
from pcloud.posts import service
from pcloud.posts.schemas import PostCreateArgs, PostListArgs, PostListItem, PostModifyArgs, PostOut, PostPageArgs

blp = Blueprint("posts_api", __name__, url_prefix="/api/admin/post", description="岗位管理")


record_operations(
    blp, "Post",
    page=(service.page_posts, PostPageArgs, PostOut, "岗位分页列表（名称包含）"),
)


@operation(blp, "/list", "PostList", PostListItem, many=True, args=PostListArgs)
def post_list(args: dict[str, Any]) -> list[dict[str, Any]]:
    """一层岗位（parentId 之下，0 为顶层；选择器按需加载下级）"""
    return service.post_level(args.get("parent_id"))


record_operations(
    blp, "Post", title="岗位",
    create=(service.create_post, PostCreateArgs, "新增岗位；data 为新岗位 id"),
    modify=(service.modify_post, PostModifyArgs, "修改岗位"),
    delete=(service.delete_post, "删除岗位（软删除；仍有用户担任或有下级岗位时 409）"),
)
