"""站内信 pages: the administrators' list under /personalized/mail (send, read, delete) and every user's
inbox under /mail, which the top bar's bell opens."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_babel import gettext, lazy_gettext

from pcloud.access.permissions import may_open_page
from pcloud.core.forms import ConfirmForm, back_to
from pcloud.core.messages import N_
from pcloud.core.pages import Filter, list_args, page_filters, page_url, past_the_end
from pcloud.core.recorder import action
from pcloud.core.routing import is_back_path
from pcloud.core.security import current_principal, mirrors, signed_in_only
from pcloud.core.views import RecordPages
from pcloud.mail import service
from pcloud.mail.forms import MailForm
from pcloud.mail.schemas import MailPageArgs

bp = Blueprint("mail", __name__)
pages = RecordPages(bp, lazy_gettext("站内信"), "mail/form.html")
STATES = [("0", lazy_gettext("未读")), ("1", lazy_gettext("已读"))]


# The filter bars' inputs, read through the API's page schema (core.pages.page_filters): the managers' list and my
# inbox, whose bar has no phones (its mail is all mine).
FILTERS = {"name": Filter("name", lazy_gettext("标题")), "phone": Filter("phone", lazy_gettext("收信人手机号")),
           "send_phone": Filter("sendPhone", lazy_gettext("发信人手机号")),
           "state": Filter("state", lazy_gettext("状态"))}
INBOX_FILTERS = {key: FILTERS[key] for key in ("name", "state")}


def _list(template: str, recipient_id: int | None, filter_bar: dict[str, Filter]) -> Any:
    page, page_size = list_args()
    loaded = page_filters(MailPageArgs, filter_bar)
    filters = {key: loaded.get(key) for key in ("name", "phone", "send_phone", "state")}
    result = service.page_mail(filters, page, page_size, recipient_id=recipient_id)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    return render_template(template, page=result, rows=result.items, filters=filters, states=STATES,
                           args=request.args, confirm=ConfirmForm(), page_url=page_url)


@bp.route("/personalized/mail/")
def index() -> Any:
    return _list("mail/list.html", None, FILTERS)


@bp.route("/personalized/mail/new", methods=["GET", "POST"])
@action(N_("站内信发送"))
@mirrors("mail_api.create")
def create() -> Any:
    form = MailForm()
    principal = current_principal()
    assert principal is not None

    def save() -> str:
        mail = service.send_mail({"recipient_id": form.recipient_id.data, "phone": form.phone.data,
                                  "name": form.name.data, "description": form.description.data}, principal.user_id)
        return gettext("站内信「%(name)s」已发送", name=mail.name)

    return pages.form(form, save, mail=None, recipient=service.recipient_brief(form.recipient_id.data),
                      phones_searchable=service.recipients_by_phone())


@bp.route("/personalized/mail/recipients")
@mirrors("mail_api.create", methods=("GET",))
def recipients() -> Any:
    """Users matching a name or phone fragment whom the principal may mail, for the send form's recipient picker."""
    return jsonify({"items": service.recipients(request.args.get("q", ""))})


@bp.route("/personalized/mail/<int:mail_id>/delete", methods=["POST"])
@action(N_("站内信删除"))
@mirrors("mail_api.delete")
def delete(mail_id: int) -> Any:
    return pages.confirm(lambda: gettext("站内信「%(name)s」已删除", name=service.delete_mail(mail_id).name))


@bp.route("/mail/")
@signed_in_only
def inbox() -> Any:
    """My mail: what the bell opens, for every signed-in user."""
    principal = current_principal()
    assert principal is not None
    return _list("mail/inbox.html", principal.user_id or 0, INBOX_FILTERS)


@bp.route("/mail/<int:mail_id>")
@signed_in_only
def detail(mail_id: int) -> Any:
    """One mail; opened by its recipient, it is read. Others' mail only with the 站内信 page."""
    principal = current_principal()
    assert principal is not None
    manages = may_open_page(principal, service.MAIL_PAGE)
    item = service.read_mail(mail_id, principal, manages)
    # back to the list it was opened from, as it was left: the managers' 站内信 or one's own inbox
    target = request.args.get("back") or ""
    if manages and is_back_path(target, url_for("mail.index")):
        back = (target, gettext("个性化服务"), gettext("站内信"))
    else:
        back = (back_to(url_for("mail.inbox")), None, gettext("我的站内信"))
    return render_template("mail/detail.html", mail=item, back=back)
