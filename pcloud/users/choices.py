"""Choices for the user form's pickers (departments as an indented tree, posts, grades)."""

from __future__ import annotations

from pcloud.core.tree import build_tree, walk
from pcloud.depts.models import Dept
from pcloud.extensions import db
from pcloud.grades.models import Grade
from pcloud.posts.models import Post


def dept_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(Dept.live()).scalars()
    tree = build_tree(rows, lambda d: {"id": d.id, "parentId": d.parent_id, "name": d.name,
                                       "sequence": d.sequence})
    return [(node["id"], "　" * depth + node["name"]) for depth, node in walk(tree)]


def post_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(Post.live()).scalars()
    tree = build_tree(rows, lambda p: {"id": p.id, "parentId": p.parent_id, "name": p.name,
                                       "sequence": p.sequence})
    return [(node["id"], "　" * depth + node["name"]) for depth, node in walk(tree)]


def grade_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(Grade.live().order_by(Grade.level, Grade.id)).scalars()
    return [(g.id, g.name) for g in rows]
