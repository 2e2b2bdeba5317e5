"""岗位管理 pages under /system/post: the post tree, create/edit, delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from pcloud.core.errors import PCloudError
from pcloud.core.forms import ConfirmForm, apply_domain_error, confirmed_action, form_status, is_gone, record_or_gone
from pcloud.core.pages import int_arg
from pcloud.core.recorder import action
from pcloud.core.security import mirrors
from pcloud.core.tree import walk
from pcloud.posts import service
from pcloud.posts.forms import PostForm

bp = Blueprint("posts", __name__, url_prefix="/system/post")


def _prune(nodes: list[dict[str, Any]], needle: str) -> list[dict[str, Any]]:
    """Keep the posts whose name contains `needle`, with their ancestors for context."""
    kept = []
    for node in nodes:
        children = _prune(node["children"], needle)
        hit = needle in node["name"]
        if hit or children:
            kept.append({**node, "children": children, "hit": hit})
    return kept


@bp.route("/")
def index() -> Any:
    needle = request.args.get("name", "").strip()[:64]
    nodes = service.post_tree()
    if needle:
        nodes = _prune(nodes, needle)
    rows = [{"depth": depth, "node": node,
             "refusal": service.delete_refusal(node["name"], node["child_count"], node["holders"])}
            for depth, node in walk(nodes)]
    return render_template("posts/list.html", rows=rows, needle=needle, confirm=ConfirmForm())


def _data(form: PostForm) -> dict[str, Any]:
    return {"parent_id": form.parent_id.data, "name": form.name.data, "code": form.code.data,
            "sequence": form.sequence.data or 0, "remark": form.remark.data}


def _form_page(form: PostForm, post: Any, status: int | None = None) -> Any:
    status = status or form_status()
    return render_template("posts/form.html", form=form, post=post), status


@bp.route("/new", methods=["GET", "POST"])
@action("岗位新增")
@mirrors("posts_api.create")
def create() -> Any:
    form = PostForm()
    form.parent_id.choices = [(0, "（无，作为顶级岗位）")] + service.parent_choices()
    if request.method == "GET":
        form.parent_id.data = int_arg("parent_id", 0)
    if form.validate_on_submit():
        try:
            post = service.create_post(_data(form))
            flash(f"岗位「{post.name}」已创建", "success")
            return redirect(url_for("posts.index"))
        except PCloudError as exc:
            apply_domain_error(form, exc)
    return _form_page(form, None)


@bp.route("/<int:post_id>/edit", methods=["GET", "POST"])
@action("岗位修改")
@mirrors("posts_api.modify")
def edit(post_id: int) -> Any:
    post = record_or_gone(service.get_post, post_id, "岗位")
    form = PostForm(obj=None if request.method == "POST" else post)
    form.parent_id.choices = [(0, "（无，作为顶级岗位）")] + service.parent_choices(exclude_id=post.id)
    if is_gone(post):
        form.validate()
        return _form_page(form, post, 404)
    if form.validate_on_submit():
        try:
            service.modify_post({"id": post.id, **_data(form)})
            flash(f"岗位「{form.name.data.strip()}」已保存", "success")
            return redirect(url_for("posts.index"))
        except PCloudError as exc:
            apply_domain_error(form, exc)
    return _form_page(form, post)


@bp.route("/<int:post_id>/delete", methods=["POST"])
@action("岗位删除")
@mirrors("posts_api.delete")
def delete(post_id: int) -> Any:
    return confirmed_action(lambda: f"岗位「{service.delete_post(post_id).name}」已删除", "/system/post",
                            url_for("posts.index"))
