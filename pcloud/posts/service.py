"""岗位管理 rules, shared by the pages and the JSON API. Posts nest under a parent post."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from pcloud.core import tree
from pcloud.core.database import live_row, taken_meanwhile
from pcloud.core.errors import Conflict, Invalid, NotFound
from pcloud.core.messages import N_
from pcloud.core.paging import Page, paginate
from pcloud.core.schemas import limit_of
from pcloud.core.tree import build_tree, clean_parent, serialise_tree, walk
from pcloud.extensions import db
from pcloud.posts.models import Post
from pcloud.users.models import User

DUPLICATE_CODE = N_("岗位编码已被其他岗位使用")  # said with gettext() where it is raised
DUPLICATE_NAME = N_("同一上级岗位下已有同名岗位")  # said with gettext() where it is raised


def subtree_ids_select(post_id: int) -> Any:
    """SELECT id of the post and every live post below it."""
    base = select(Post.id).where(Post.id == post_id, Post.deleted_at.is_(None)).cte("post_tree", recursive=True)
    child = select(Post.id).join(base, Post.parent_id == base.c.id).where(Post.deleted_at.is_(None))
    return select(base.union(child).c.id)


# ---------------------------------------------------------------------------------------------
# Reads


def get_post(post_id: int, *, for_update: bool = False) -> Post:
    post = live_row(Post, post_id, for_update=for_update)
    if post is None:
        raise NotFound(gettext("岗位不存在"))
    return post


def _item_select() -> Any:
    parent = aliased(Post)
    return (select(Post, parent.name)
            .outerjoin(parent, and_(parent.id == Post.parent_id, parent.deleted_at.is_(None)))
            .where(Post.deleted_at.is_(None)))


def to_item(post: Post, parent_name: str | None = None) -> dict[str, Any]:
    return {
        "id": post.id, "parent_id": post.parent_id, "parent_name": parent_name, "name": post.name,
        "label": post.name, "code": post.code, "sequence": post.sequence, "remark": post.remark,
        "gmt_created_date": post.gmt_created_date, "gmt_created_name": post.gmt_created_name,
        "gmt_modified_date": post.gmt_modified_date, "gmt_modified_name": post.gmt_modified_name,
    }


def page_posts(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    stmt = _item_select()
    if filters.get("name") and filters["name"].strip():
        stmt = stmt.where(Post.name.contains(filters["name"].strip(), autoescape=True))
    result = paginate(stmt.order_by(Post.sequence, Post.id), page, page_size, scalars=False)
    result.items = [to_item(*row) for row in result.items]
    return result


def post_level(parent_id: int | None) -> list[dict[str, Any]]:
    """The live posts directly under `parent_id` (0 = top level), for lazy tree pickers: each item has
    `has_children`, and `children` None when it has some (a picker loads them on demand)."""
    rows = list(db.session.execute(
        _item_select().where(Post.parent_id == (parent_id or 0)).order_by(Post.sequence, Post.id)))
    ids = [row[0].id for row in rows]
    with_children = set(db.session.execute(
        select(Post.parent_id).where(Post.parent_id.in_(ids), Post.deleted_at.is_(None)).distinct()
    ).scalars()) if ids else set()
    items = []
    for row in rows:
        item = {**to_item(*row), "has_children": row[0].id in with_children}
        if item["has_children"]:
            item["children"] = None
        items.append(item)
    return items


def holder_counts(ids: list[int] | None = None) -> dict[int, int]:
    """Live users per post, for `ids` or (None) every post: {id: n}."""
    return dict(db.session.execute(User.live_counts_by(User.post_id, ids)).tuples().all())


def child_counts(ids: list[int]) -> dict[int, int]:
    """Live children per parent post: {id: n}."""
    return tree.child_counts(Post, ids)


def choices() -> list[tuple[int, str]]:
    """Every live post as (id, indented name), in tree order: pickers."""
    rows = db.session.execute(Post.live()).scalars()
    tree = build_tree(rows, lambda p: {"id": p.id, "parent_id": p.parent_id, "name": p.name,
                                       "sequence": p.sequence})
    return [(node["id"], "　" * depth + node["name"]) for depth, node in walk(tree)]


def post_tree() -> list[dict[str, Any]]:
    """Every live post as nested nodes (item fields plus `holders` and `child_count`)."""
    counts = holder_counts()

    def node(row: Any) -> dict[str, Any]:
        item = to_item(*row)
        return {**item, "holders": counts.get(item["id"], 0)}

    nodes = build_tree(db.session.execute(_item_select()), node)
    stack = list(nodes)
    while stack:
        current = stack.pop()
        current["child_count"] = len(current["children"])
        stack.extend(current["children"])
    return nodes


def parent_choices(exclude_id: int | None = None) -> list[tuple[int, str]]:
    """(id, indented name) of every live post, without `exclude_id` and the posts below it."""
    excluded = set(db.session.execute(subtree_ids_select(exclude_id)).scalars()) if exclude_id else set()
    return [(post_id, label) for post_id, label in choices() if post_id not in excluded]


def delete_refusal(name: str, children: int, holders: int) -> str | None:
    """Why a post cannot be deleted (None when it can)."""
    if not children and not holders:
        return None
    if children and holders:
        return gettext("不能删除岗位「%(name)s」：其下还有 %(children)s 个下级岗位，仍有 %(holders)s 名用户担任该岗位。"
                       "请先删除或移走下级岗位，并为这些用户更换岗位。", name=name, children=children, holders=holders)
    if children:
        return gettext("不能删除岗位「%(name)s」：其下还有 %(children)s 个下级岗位。请先删除或移走下级岗位。",
                       name=name, children=children)
    return gettext("不能删除岗位「%(name)s」：仍有 %(holders)s 名用户担任该岗位。请先为这些用户更换岗位。",
                   name=name, holders=holders)


# ---------------------------------------------------------------------------------------------
# Writes


def _clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid(gettext("岗位名称不能为空"), field="name")
    if len(name) > (limit := limit_of(Post.name)):
        raise Invalid(gettext("岗位名称不能超过 %(max)d 个字符", max=limit), field="name")
    return name


def _clean_code(code: str | None, exclude_id: int | None = None) -> str | None:
    code = (code or "").strip() or None
    if code is None:
        return None
    if len(code) > (limit := limit_of(Post.code)):
        raise Invalid(gettext("岗位编码不能超过 %(max)d 个字符", max=limit), field="code")
    stmt = select(Post.id).where(Post.code == code, Post.deleted_at.is_(None))
    if exclude_id:
        stmt = stmt.where(Post.id != exclude_id)
    if db.session.execute(stmt.limit(1)).first() is not None:
        raise Conflict(gettext(DUPLICATE_CODE), errors={"code": [gettext(DUPLICATE_CODE)]})
    return code


def _name_taken(parent_id: int, name: str, exclude_id: int | None = None) -> bool:
    stmt = select(Post.id).where(Post.parent_id == parent_id, Post.name == name, Post.deleted_at.is_(None))
    if exclude_id:
        stmt = stmt.where(Post.id != exclude_id)
    with db.session.no_autoflush:  # asked before a changed name is written (the index would refuse it)
        return db.session.execute(stmt.limit(1)).first() is not None


def _check_name_free(parent_id: int, name: str, exclude_id: int | None = None) -> None:
    if _name_taken(parent_id, name, exclude_id):
        raise Conflict(gettext(DUPLICATE_NAME), errors={"name": [gettext(DUPLICATE_NAME)]})


def _check_free(parent_id: int, name: str, code: str | None, exclude_id: int | None = None) -> None:
    """Both unique values asked again after a lost race: the refusal names the one taken."""
    _check_name_free(parent_id, name, exclude_id)
    _clean_code(code, exclude_id)


def create_post(data: dict[str, Any]) -> Post:
    name = _clean_name(data.get("name"))
    parent_id = clean_parent(Post, data.get("parent_id"), gettext("岗位"))
    code = _clean_code(data.get("code"))
    _check_name_free(parent_id, name)
    post = Post(name=name, code=code, parent_id=parent_id, sequence=data.get("sequence") or 0,
                remark=(data.get("remark") or "").strip() or None)
    with taken_meanwhile(lambda: _check_free(parent_id, name, code)):
        db.session.add(post)
        db.session.commit()
    return post


def modify_post(data: dict[str, Any]) -> Post:
    post = get_post(data["id"])
    parent_id, name = post.parent_id, post.name
    if data.get("parent_id") is not None and data["parent_id"] != post.parent_id:
        parent_id = clean_parent(Post, data["parent_id"], gettext("岗位"), self_id=post.id)
    if data.get("name") is not None:
        name = _clean_name(data["name"])
    _check_name_free(parent_id, name, post.id)  # before anything is written: the index would refuse it
    post_id, code = post.id, post.code
    if "code" in data:
        code = _clean_code(data["code"], exclude_id=post_id)
    with taken_meanwhile(lambda: _check_free(parent_id, name, code, post_id)):
        post.parent_id, post.name, post.code = parent_id, name, code
        if data.get("sequence") is not None:
            post.sequence = data["sequence"]
        if "remark" in data:
            post.remark = (data["remark"] or "").strip() or None
        db.session.commit()
    return post


def delete_post(post_id: int) -> Post:
    serialise_tree(Post)  # no child placed under it meanwhile
    post = get_post(post_id, for_update=True)
    children = child_counts([post.id]).get(post.id, 0)
    holders = holder_counts([post.id]).get(post.id, 0)
    refusal = delete_refusal(post.name, children, holders)
    if refusal:
        raise Conflict(refusal)
    post.soft_delete()
    db.session.commit()
    return post
