"""Trees of API.md: nodes {id, parent_id, name, label, children}, siblings by sequence then id.

Nodes are snake_case dicts in Python, like every item; the API schemas put them on the wire in camelCase
(`parentId`, `resourceUrl`, ...)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask_babel import gettext
from sqlalchemy import func, literal, select

from pcloud.core.database import serialise
from pcloud.core.errors import Invalid
from pcloud.core.routing import MAX_ID


def build_tree(rows: Iterable[Any], to_node: Callable[[Any], dict[str, Any]],
               sort_key: Callable[[dict[str, Any]], Any] | None = None) -> list[dict[str, Any]]:
    """Nest flat rows; a node whose parent is absent (filtered out, or 0) becomes a root."""
    nodes = [to_node(row) for row in rows]
    by_id = {node["id"]: node for node in nodes}
    roots: list[dict[str, Any]] = []
    for node in nodes:
        node.setdefault("children", [])
        node.setdefault("label", node.get("name"))
    for node in nodes:
        parent = by_id.get(node.get("parent_id") or 0)
        (parent["children"] if parent is not None and parent is not node else roots).append(node)
    key = sort_key or (lambda n: (n.get("sequence") or 0, n["id"]))

    def _sort(level: list[dict[str, Any]]) -> None:
        level.sort(key=key)
        for child in level:
            _sort(child["children"])

    _sort(roots)
    return roots


def walk(nodes: list[dict[str, Any]], depth: int = 0) -> Iterable[tuple[int, dict[str, Any]]]:
    """Depth-first (depth, node) pairs, for rendering a tree as indented rows."""
    for node in nodes:
        yield depth, node
        yield from walk(node.get("children", []), depth + 1)


def prune(nodes: list[dict[str, Any]], needle: str) -> list[dict[str, Any]]:
    """Keep the nodes whose name contains `needle` (marked `hit`), with their ancestors for context."""
    kept = []
    for node in nodes:
        children = prune(node["children"], needle)
        hit = needle in node["name"]
        if hit or children:
            kept.append({**node, "children": children, "hit": hit})
    return kept


def ancestor_ids_select(model: Any, node_id: int) -> Any:
    """SELECT id of a live node and every live node above it, for any soft-deleted `parent_id` tree.

    A recursive CTE with UNION, so even a loop left in the data ends.
    """
    base = (select(model.id, model.parent_id).where(model.id == node_id, model.deleted_at.is_(None))
            .cte(f"{model.__tablename__}_up", recursive=True))
    parent = (select(model.id, model.parent_id).join(base, model.id == base.c.parent_id)
              .where(model.deleted_at.is_(None)))
    return select(base.union(parent).c.id)


# Levels a tree may have, a root being the first: more than any menu or organisation has, and far below what
# the recursive rendering of a tree (pages, API schemas) can take. Checked when a node is placed.
MAX_DEPTH = 20


def require_depth(levels: int, label: str) -> None:
    """422 on `parentId` when a placement would make `levels` levels (the parent's depth, the node, and the
    levels below the node)."""
    if levels > MAX_DEPTH:
        raise Invalid(gettext("%(label)s最多 %(n)s 层，这样放会有 %(levels)s 层", label=label, n=MAX_DEPTH,
                              levels=levels), field="parentId")


def _levels_below(model: Any, node_id: int) -> int:
    """How many levels of live nodes hang under this one (0 for a leaf); a loop left in the data ends."""
    from pcloud.extensions import db

    down = (select(model.id, literal(0).label("level")).where(model.id == node_id)
            .cte(f"{model.__tablename__}_down", recursive=True))
    down = down.union(select(model.id, (down.c.level + 1).label("level")).join(down, model.parent_id == down.c.id)
                      .where(model.deleted_at.is_(None), down.c.level < MAX_DEPTH))
    return db.session.execute(select(func.max(down.c.level))).scalar() or 0


# pg_advisory_xact_lock(TREE_LOCK, hashtext(table)): one change of a tree's shape at a time ("tree" in ASCII)
TREE_LOCK = 0x74726565


def serialise_tree(model: Any) -> None:
    """Before the reads that decide a change of the tree's shape (a node placed under a parent, a node deleted
    when it has no children), held until it commits: the next such change of the same tree reads after it. A
    review's three moves at once (X under Y, Y under Z, Z under X) each passed the loop check on what the
    others had not yet committed, and left a loop that vanished from every page; a child was created under a
    parent being deleted. (Departments lock their rows instead: depts.service._lock.)"""
    serialise(TREE_LOCK, model.__tablename__)


def clean_parent(model: Any, parent_id: int | None, label: str, self_id: int | None = None) -> int:
    """The parent a node may hang under: 0 (a root), or a live node that is not the node itself nor below it.
    The tree stays so until the caller commits (`serialise_tree`).

    `label` names the entity in the message (菜单, 资源, 岗位); a bad parent is a 422 on `parentId`.
    """
    from pcloud.extensions import db

    parent_id = parent_id or 0
    if parent_id == 0:
        return 0
    serialise_tree(model)
    if not 0 < parent_id <= MAX_ID or db.session.execute(
            select(model.id).where(model.id == parent_id, model.deleted_at.is_(None))).first() is None:
        raise Invalid(gettext("上级%(label)s不存在", label=label), field="parentId")
    if self_id is not None:
        chain = ancestor_ids_select(model, parent_id).subquery()
        if db.session.execute(select(chain.c.id).where(chain.c.id == self_id).limit(1)).first() is not None:
            raise Invalid(gettext("不能把%(label)s移动到它自己或它的下级%(label)s之下", label=label), field="parentId")
    parent_depth = db.session.execute(select(func.count()).select_from(
        ancestor_ids_select(model, parent_id).subquery())).scalar_one()
    require_depth(parent_depth + 1 + (_levels_below(model, self_id) if self_id is not None else 0), label)
    return parent_id


def child_counts(model: Any, ids: list[int]) -> dict[int, int]:
    """Live children per parent, for any soft-deleted `parent_id` tree: {id: n}, childless nodes left out.
    One grouped query for a whole page of nodes."""
    from pcloud.extensions import db

    if not ids:
        return {}
    return dict(db.session.execute(
        select(model.parent_id, func.count()).where(model.parent_id.in_(ids), model.deleted_at.is_(None))
        .group_by(model.parent_id)).tuples().all())
