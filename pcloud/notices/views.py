"""通知公告 pages: the administrators' list under /system/notice (write, publish, withdraw, delete, read
receipts) and every user's notices under /notices, which the top bar's bell and the home page open."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from werkzeug.exceptions import RequestEntityTooLarge

from pcloud.access.permissions import may_open_page
from pcloud.core.envelope import envelope, error_page
from pcloud.core.errors import Invalid, PCloudError
from pcloud.core.forms import ConfirmForm, is_gone, script_refusal
from pcloud.core.messages import N_
from pcloud.core.pages import Filter, list_args, page_filters, page_url, past_the_end
from pcloud.core.recorder import action
from pcloud.core.routing import is_back_path
from pcloud.core.security import current_principal, mirrors, signed_in_only
from pcloud.core.views import RecordPages
from pcloud.depts import service as depts
from pcloud.notices import service
from pcloud.notices.forms import NoticeForm
from pcloud.notices.schemas import NoticePageArgs, ReadersArgs
from pcloud.roles import service as roles

bp = Blueprint("notices", __name__)
NOTICE_PAGE = "/system/notice"  # the menu that owns 通知公告's list: who may open it is offered the way back to it
pages = RecordPages(bp, lazy_gettext("通知公告"), "notices/form.html")
FILTERS = {"title": Filter("title", lazy_gettext("标题")), "type": Filter("noticeType", lazy_gettext("类型")),
           "status": Filter("status", lazy_gettext("状态"))}
READER_FILTERS = {"name": Filter("name", lazy_gettext("姓名")), "read": Filter("read", lazy_gettext("是否已读"))}


def _fill_choices(form: NoticeForm, stored: dict[str, Any] | None = None) -> None:
    # Only what the author may address (and what the notice names already): a checkbox a save refuses is not offered.
    form.role_ids.choices, form.dept_ids.choices = service.audience_choices(
        roles.role_choices(), depts.choices(), stored or {})


@bp.route("/system/notice/")
def index() -> Any:
    page, page_size = list_args()
    filters = page_filters(NoticePageArgs, FILTERS)
    result = service.page_notices(filters, page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    return render_template("notices/list.html", page=result, rows=result.items, filters=filters,
                           types=sorted(service.TYPES.items()), statuses=sorted(service.STATUSES.items()),
                           confirm=ConfirmForm(), page_url=page_url, beyond=service.beyond_reach_ids(result.items),
                           readable=service.readable_ids(current_principal(), [n["id"] for n in result.items]))


@bp.route("/system/notice/new", methods=["GET", "POST"])
@action(N_("通知公告新增"))
@mirrors("notices_api.create")
def create() -> Any:
    form = NoticeForm()
    if request.method != "POST":
        start = service.default_audience()
        form.audience.data = "all" if start["all"] else "some"
        form.dept_ids.data = start["dept_ids"]
    _fill_choices(form)

    def save() -> str:
        return gettext("已保存通知公告「%(title)s」（草稿）", title=service.create_notice(form.values()).title)

    return pages.form(form, save, notice=None)


@bp.route("/system/notice/<int:notice_id>/edit", methods=["GET", "POST"])
@action(N_("通知公告修改"))
@mirrors("notices_api.modify:PUT")
def edit(notice_id: int) -> Any:
    notice = pages.record(service.get_notice, notice_id, named_by="title")
    form = NoticeForm()
    stored = None
    if not is_gone(notice):
        item = service.notice_item(notice_id)
        stored = {"title": item["title"], "content": item["content"], "notice_type": item["notice_type"],
                  "audience": "all" if item["audience"]["all"] else "some",
                  "role_ids": item["audience"]["role_ids"], "dept_ids": item["audience"]["dept_ids"]}
    if request.method != "POST" and stored is not None:  # from the record when shown, from what was typed when saved
        form.process(data=stored)
    _fill_choices(form, stored)

    def save() -> str:
        return gettext("已保存通知公告「%(title)s」", title=service.modify_notice(notice_id, form.values()).title)

    return pages.form(form, save, notice=notice, stored=stored)


# 插入图片 on the form (static/js/notice-image.js): the chosen picture as the raw body, the form's CSRF token in
# X-CSRFToken, so the body's limit is the picture's (the site's MAX_CONTENT_LENGTH, 2 MiB) and not a form's around
# it. Answered as POST /api/admin/upload answers ({data: {url}}), and with that route's grant.


@bp.route("/system/notice/image", methods=["POST"])
@action(N_("上传图片"))
@mirrors("uploads_api.upload")
def upload_image() -> Any:
    try:
        url = service.store_image(request.stream, current_principal())
    except PCloudError as exc:
        return script_refusal(exc)
    return jsonify(envelope({"url": url}))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> Any:
    """A picture over the limit, refused by the CSRF check's first touch of the body: the upload's own 422."""
    if request.endpoint == "notices.upload_image":
        return script_refusal(Invalid(gettext(service.IMAGE_TOO_BIG), field="file"))
    return error_page(413)


@bp.route("/system/notice/<int:notice_id>/publish", methods=["POST"])
@action(N_("通知公告发布"))
@mirrors("notices_api.publish")
def publish(notice_id: int) -> Any:
    return pages.confirm(lambda: gettext("通知公告「%(title)s」已发布", title=service.publish_notice(notice_id).title),
                         refused=gettext("不能发布："))


@bp.route("/system/notice/<int:notice_id>/withdraw", methods=["POST"])
@action(N_("通知公告撤回"))
@mirrors("notices_api.withdraw")
def withdraw(notice_id: int) -> Any:
    return pages.confirm(lambda: gettext("通知公告「%(title)s」已撤回", title=service.withdraw_notice(notice_id).title),
                         refused=gettext("不能撤回："))


@bp.route("/system/notice/<int:notice_id>/delete", methods=["POST"])
@action(N_("通知公告删除"))
@mirrors("notices_api.delete")
def delete(notice_id: int) -> Any:
    return pages.confirm(lambda: gettext("通知公告「%(title)s」已删除", title=service.delete_notice(notice_id).title),
                         refused=gettext("不能删除："))


@bp.route("/system/notice/<int:notice_id>/readers")
@mirrors("notices_api.readers", methods=("GET",))
def readers(notice_id: int) -> Any:
    """Read receipts: who of the audience read it and who not (within the principal's data scope)."""
    notice = service.notice_item(notice_id)
    page, page_size = list_args()
    filters = page_filters(ReadersArgs, READER_FILTERS)
    result = service.page_readers(notice_id, filters, page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    counts = service.receipt_counts(notice_id)
    return render_template("notices/readers.html", notice=notice, page=result, rows=result.items, filters=filters,
                           counts=counts, page_url=page_url)


@bp.route("/notices/")
@signed_in_only
def mine() -> Any:
    """My notices: what the bell and the home page open, for every signed-in user."""
    page, page_size = list_args()
    result, unread = service.mine(current_principal(), page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    return render_template("notices/mine.html", page=result, rows=result.items, unread=unread, page_url=page_url)


@bp.route("/notices/<int:notice_id>")
@signed_in_only
def detail(notice_id: int) -> Any:
    """One notice of my audience; opening it marks it read. Back to the list it was opened from, as it was left:
    通知公告's (its title links here) for whoever may open that page, else my notices (the bell, the home page)."""
    principal = current_principal()
    notice = service.read_notice(notice_id, principal)
    target = request.args.get("back") or ""
    if principal is not None and is_back_path(target, url_for("notices.index")) \
            and may_open_page(principal, NOTICE_PAGE):
        back = (target, gettext("系统管理"), gettext("通知公告"))
    else:
        back = (url_for("notices.mine"), None, gettext("我的通知公告"))
    return render_template("notices/detail.html", notice=notice, back=back)
