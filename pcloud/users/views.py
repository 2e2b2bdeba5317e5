"""用户管理 pages under /system/user."""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from werkzeug.exceptions import RequestEntityTooLarge

from pcloud.core.envelope import error_page, streamed_envelope
from pcloud.core.errors import Invalid, PCloudError
from pcloud.core.forms import ConfirmForm, is_gone, refusal_page, script_refusal
from pcloud.core.messages import N_
from pcloud.core.numbers import digits_only
from pcloud.core.pages import Filter, list_args, page_filters, page_url, past_the_end
from pcloud.core.recorder import action
from pcloud.core.routing import MAX_ID
from pcloud.core.security import current_principal, mirrors, reads_own_upload
from pcloud.core.sorting import sort_args
from pcloud.core.views import RecordPages
from pcloud.core.xlsx import write_xlsx, xlsx_response
from pcloud.depts import service as depts
from pcloud.grades import service as grades
from pcloud.posts import service as posts
from pcloud.uploads import service as uploads
from pcloud.users import imports, service
from pcloud.users.forms import NewUserForm, UserForm
from pcloud.users.schemas import SORTABLE, ImportPasswordOut, UserImportOut, UserPageArgs, import_body

bp = Blueprint("users", __name__, url_prefix="/system/user")


@bp.app_template_global()
def password_hint() -> str:
    """The hint under a new password field (the user form, 个人中心): 参数设置's password policy."""
    return service.password_hint()


pages = RecordPages(bp, lazy_gettext("用户"), "users/form.html")


# The filter bar's inputs, read through the API's page schema (core.pages.page_filters); the export form
# posts to a URL carrying the same query, so it exports what the list shows.
FILTERS = {"phone": Filter("phone", lazy_gettext("手机号")), "keyword": Filter("keyword", lazy_gettext("用户名")),
           "role_id": Filter("roleIds", lazy_gettext("角色")), "state": Filter("state", lazy_gettext("状态")),
           "dept_id": Filter("deptId", lazy_gettext("部门"))}
EXPORT_QUERY = {*FILTERS, "sort", "dir"}  # the list's filters and its sort: the file's rows as the list shows them


def _filters() -> dict[str, Any]:
    loaded = page_filters(UserPageArgs, FILTERS)
    filters: dict[str, Any] = {key: (loaded.get(key) or "").strip() for key in ("phone", "keyword")}
    filters.update({key: loaded[key] for key in ("state", "dept_id", "role_ids") if loaded.get(key) is not None})
    filters.update(sort_args(SORTABLE, default=("gmtCreatedDate", "desc")))  # newest first unless sorted
    return filters


def _fill_choices(form: UserForm, user: Any = None) -> None:
    # Only the roles the signed-in user may assign, and those the user holds (keeping one is no escalation: the
    # service checks what is added): a checkbox that is always refused is not offered, and a held role one may
    # not hand out (one's own) is not taken away unseen by a save.
    roles = service.assignable_roles(current_principal(), keeping=user)
    form.role_ids.choices = [(r.id, gettext("%(name)s（%(code)s）", name=r.shown_name, code=r.role_code))
                             for r in roles]
    none = (0, gettext("（无）"))
    form.dept_id.choices = service.placeable_dept_choices([none] + depts.choices())
    form.post_id.choices = [none] + posts.choices()
    form.grade_id.choices = [none] + grades.choices()


@bp.route("/")
def index() -> Any:
    page, page_size = list_args()
    filters = _filters()
    result = service.page_users(filters, page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    principal = current_principal()
    refusals = service.refusals(principal, result.items)
    return render_template("users/list.html", page=result, items=result.items, refusals=refusals,
                           filters=filters, roles=service.role_choices(), confirm=ConfirmForm(),
                           page_url=page_url, args=request.args,
                           export_query={k: v for k, v in request.args.items() if k in EXPORT_QUERY and v})


def _with_uploaded_avatar(form: UserForm, data: dict[str, Any]) -> None:
    """A chosen image becomes the avatar; it is saved with the user in one transaction (a refusal keeps neither)."""
    if form.avatar_file.data:
        data["avatar"] = uploads.add_image(form.avatar_file.data.stream, current_principal(), field="avatarFile")


def _form_data(form: UserForm) -> dict[str, Any]:
    return {"phone": form.phone.data or "", "name": form.name.data or "", "password": form.password.data or "",
            "state": int(form.state.data or 0), "role_ids": form.role_ids.data or [],
            "dept_id": form.dept_id.data, "post_id": form.post_id.data, "grade_id": form.grade_id.data,
            "avatar": form.avatar.data or None}


def _save(form: UserForm, record_id: int | None = None) -> str:
    """Create or modify from the form, with a chosen avatar image."""
    data = _form_data(form)
    if record_id is not None:
        data["id"] = record_id
        if not data["password"]:
            data.pop("password")  # left empty: the password stays
    _with_uploaded_avatar(form, data)
    if record_id is None:
        return gettext("用户「%(name)s」已创建", name=service.create_user(data, current_principal()).name)
    service.modify_user(data, current_principal())
    return gettext("用户「%(name)s」已保存", name=data["name"])


@bp.route("/new", methods=["GET", "POST"])
@action(N_("用户新增"))
@mirrors("users_api.create")
def create() -> Any:
    form = NewUserForm()
    _fill_choices(form)
    return pages.form(form, lambda: _save(form), user=None)


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@action(N_("用户修改"))
@mirrors("users_api.modify")
def edit(user_id: int) -> Any:
    user = pages.record(service.get_user, user_id)
    form = pages.edit_form(UserForm, user)
    form.record_id = user.id
    _fill_choices(form, None if is_gone(user) else user)
    roles = None if is_gone(user) else {"role_ids": [r.id for r in user.roles if r.deleted_at is None]}
    if request.method == "GET":
        form.state.data = str(user.state)
        form.role_ids.data = roles["role_ids"]
        form.password.data = ""
    return pages.form(form, lambda: _save(form, user.id), user=user, stored=roles)


@bp.route("/<int:user_id>/delete", methods=["POST"])
@action(N_("用户删除"))
@mirrors("users_api.delete")
def delete(user_id: int) -> Any:
    def run() -> str:
        name = service.get_user(user_id).name
        service.delete_user(user_id, current_principal())
        return gettext("用户「%(name)s」已删除", name=name)

    return pages.confirm(run)


@bp.route("/<int:user_id>/offline", methods=["POST"])
@action(N_("强踢下线"))
@mirrors("users_api.offline")
def offline(user_id: int) -> Any:
    def run() -> str:
        name = service.get_user(user_id).name
        count = service.force_offline(user_id, current_principal())
        return gettext("已强制「%(name)s」下线（结束 %(count)s 个会话）", name=name, count=count)

    return pages.confirm(run)


@bp.route("/export", methods=["POST"])
@action(N_("用户导出"))
@mirrors("users_api.download")
def export() -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    ids = [int(v) for v in request.form.getlist("ids") if digits_only(v) and len(v) <= 10 and int(v) <= MAX_ID]
    try:
        rows = service.export_rows(ids, _filters())
    except PCloudError as exc:
        return refusal_page(exc, url_for("users.index"))
    path = write_xlsx(service.export_headers(), rows, gettext("用户信息"))
    return xlsx_response(path, gettext("用户信息.xlsx"), default=gettext("用户信息.xlsx"))


# ---------------------------------------------------------------------------------------------
# 用户导入: the list's import dialog (static/js/user-import.js) posts here and shows the JSON answer


@bp.route("/import/template")
@mirrors("users_api.import_template", methods=("GET",))
def import_template() -> Any:
    return xlsx_response(imports.template_path(), gettext("用户导入模板.xlsx"), default=gettext("用户导入模板.xlsx"))


IMPORT_ENDPOINTS = ("users.import_users", "users.import_passwords")


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> Any:
    """A body over the import's limit, refused by the CSRF check's first touch of it: the import's 422."""
    if request.endpoint in IMPORT_ENDPOINTS:
        limit = int(current_app.config["PCLOUD_IMPORT_MAX_BYTES"]) // (1024 * 1024)
        return script_refusal(Invalid(gettext("文件过大：导入文件不能超过 %(limit)s MB", limit=limit)))
    return error_page(413)


# The dialog sends the file as the raw body (the options in the query, the CSRF token in X-CSRFToken), so the
# site's CSRF check reads the token from the header without parsing the body under the site's 2 MB limit; the
# view then reads the body under the import's own limit.
@bp.route("/import", methods=["POST"])
@action(N_("用户导入"))
@mirrors("users_api.import_users")
@reads_own_upload("PCLOUD_IMPORT_MAX_BYTES")
def import_users() -> Any:
    try:
        stream, options = import_body()
        result = imports.run_import(stream, current_principal(), options["dry_run"], options["update_existing"])
    except PCloudError as exc:
        return script_refusal(exc)
    return streamed_envelope(UserImportOut(exclude=("passwords",)).dump(result.as_dict()), "passwords",
                             result.passwords())


@bp.route("/import/passwords", methods=["POST"])
@action(N_("下载导入初始密码"))  # what is logged: who downloaded; the passwords are the raw body, never logged
@mirrors("users_api.import_users")
@reads_own_upload("PCLOUD_IMPORT_MAX_BYTES")
def import_passwords() -> Any:
    """The generated passwords the dialog shows, sent back as the raw body (JSON text) and answered as an .xlsx:
    nothing is kept on the server, so the list exists only in the administrator's browser and this download."""
    try:
        stream, _ = import_body(options=False)
        rows = ImportPasswordOut(many=True).load(json.loads(stream.read().decode("utf-8")))
    except PCloudError as exc:
        return script_refusal(exc)
    except (ValueError, ma.ValidationError):
        return script_refusal(Invalid(gettext("密码清单格式不正确")))
    path = write_xlsx([gettext("行号"), gettext("手机号码"), gettext("用户名"), gettext("初始密码")],
                      ([r["row"], r["phone"], r["name"], r["password"]] for r in rows), gettext("初始密码"))
    return xlsx_response(path, gettext("用户导入初始密码.xlsx"), default=gettext("用户导入初始密码.xlsx"))

