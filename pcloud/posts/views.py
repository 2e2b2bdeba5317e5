"""岗位管理 pages under /system/post: the post tree, create/edit, delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext, lazy_gettext

from pcloud.core.forms import ConfirmForm
from pcloud.core.messages import N_
from pcloud.core.pages import Filter, int_arg, page_filters
from pcloud.core.recorder import action
from pcloud.core.security import mirrors
from pcloud.core.tree import prune, walk
from pcloud.core.views import RecordPages
from pcloud.posts import service
from pcloud.posts.forms import PostForm
from pcloud.posts.schemas import PostPageArgs

bp = Blueprint("posts", __name__, url_prefix="/system/post")
pages = RecordPages(bp, lazy_gettext("岗位"), "posts/form.html")
ROOT = (0, lazy_gettext("（无，作为顶级岗位）"))


@bp.route("/")
def index() -> Any:
    needle = (page_filters(PostPageArgs, {"name": Filter("name", lazy_gettext("岗位名称"))}).get("name") or "").strip()
    nodes = service.post_tree()
    if needle:
        nodes = prune(nodes, needle)
    rows = [{"depth": depth, "node": node,
             "refusal": service.delete_refusal(node["name"], node["child_count"], node["holders"])}
            for depth, node in walk(nodes)]
    return render_template("posts/list.html", rows=rows, needle=needle, confirm=ConfirmForm())


def _data(form: PostForm) -> dict[str, Any]:
    return {"parent_id": form.parent_id.data, "name": form.name.data, "code": form.code.data,
            "sequence": form.sequence.data or 0, "remark": form.remark.data}


def _form(post: Any = None) -> PostForm:
    form = pages.edit_form(PostForm, post)
    form.parent_id.choices = [ROOT] + service.parent_choices(exclude_id=post.id if post else None)
    return form


@bp.route("/new", methods=["GET", "POST"])
@action(N_("岗位新增"))
@mirrors("posts_api.create")
def create() -> Any:
    form = _form()
    if request.method == "GET":
        form.parent_id.data = int_arg("parent_id", 0)
    return pages.form(form, lambda: gettext("岗位「%(name)s」已创建", name=service.create_post(_data(form)).name),
                      post=None)


@bp.route("/<int:post_id>/edit", methods=["GET", "POST"])
@action(N_("岗位修改"))
@mirrors("posts_api.modify")
def edit(post_id: int) -> Any:
    post = pages.record(service.get_post, post_id)
    form = _form(post)
    return pages.form(form, lambda: gettext("岗位「%(name)s」已保存", name=service.modify_post({"id": post.id,
                                                                                         **_data(form)}).name),
                      post=post)


@bp.route("/<int:post_id>/delete", methods=["POST"])
@action(N_("岗位删除"))
@mirrors("posts_api.delete")
def delete(post_id: int) -> Any:
    return pages.confirm(lambda: gettext("岗位「%(name)s」已删除", name=service.delete_post(post_id).name))
