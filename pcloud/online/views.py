"""在线用户 page under /monitor/online: the live sessions and their 强退 button."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext, lazy_gettext

from pcloud.core.forms import confirmed_action
from pcloud.core.messages import N_
from pcloud.core.pages import Filter, list_args, page_filters, page_url, past_the_end
from pcloud.core.recorder import action
from pcloud.core.security import current_principal, mirrors
from pcloud.online import service
from pcloud.online.schemas import OnlinePageArgs

bp = Blueprint("online", __name__, url_prefix="/monitor/online")
KIND_NAMES = {"web": lazy_gettext("网页"), "api": "API", "open": lazy_gettext("开放平台")}
# The filter bar's inputs, read through the API's page schema (core.pages.page_filters).
FILTERS = {"phone": Filter("phone", lazy_gettext("手机号/secureId")), "name": Filter("name", lazy_gettext("姓名")),
           "kind": Filter("kind", lazy_gettext("类型")), "client_ip": Filter("clientIp", lazy_gettext("IP 地址"))}


@bp.route("/")
def index() -> Any:
    page, page_size = list_args()
    args = request.args
    loaded = page_filters(OnlinePageArgs, FILTERS)
    filters = {key: loaded.get(key) for key in ("phone", "name", "kind", "client_ip")}
    result = service.page_sessions(filters, page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    principal = current_principal()
    own = service.public_id_of(principal.session_id) if principal is not None else None
    return render_template("online/list.html", page=result, args=args, page_url=page_url, kinds=KIND_NAMES,
                           own_session=own, refusals=service.sign_out_refusals(result.items, principal))


@bp.route("/<session_id>/kick", methods=["POST"])
@action(N_("强退会话"))
@mirrors("online_api.kick", methods=("POST",))
def kick(session_id: str) -> Any:
    def run() -> str:
        ended = service.kick(session_id, current_principal())
        return gettext("已结束「%(name)s」的一个会话", name=ended["name"])

    return confirmed_action(run, "/monitor/online", url_for("online.index"))
