"""在线用户 page under /monitor/online: the live sessions and their 强退 button."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext, lazy_gettext

from pcloud.core.forms import confirmed_action
from pcloud.core.messages import N_
from pcloud.core.pages import list_args, page_url, past_the_end
from pcloud.core.recorder import action
from pcloud.core.security import current_principal, mirrors
from pcloud.online import service

bp = Blueprint("online", __name__, url_prefix="/monitor/online")
KIND_NAMES = {"web": lazy_gettext("网页"), "api": "API", "open": lazy_gettext("开放平台")}


@bp.route("/")
def index() -> Any:
    page, page_size = list_args()
    args = request.args
    filters = {"phone": args.get("phone", "")[:64], "name": args.get("name", "")[:64],
               "kind": args.get("kind") if args.get("kind") in service.KINDS else None,
               "client_ip": args.get("client_ip", "")[:64]}
    result = service.page_sessions(filters, page, page_size)
    if (to_last := past_the_end(result)) is not None:
        return to_last
    principal = current_principal()
    own = service.public_id_of(principal.session_id) if principal is not None else None
    return render_template("online/list.html", page=result, args=args, page_url=page_url, kinds=KIND_NAMES,
                           own_session=own)


@bp.route("/<session_id>/kick", methods=["POST"])
@action(N_("强退会话"))
@mirrors("online_api.kick", methods=("POST",))
def kick(session_id: str) -> Any:
    def run() -> str:
        ended = service.kick(session_id, current_principal())
        return gettext("已结束「%(name)s」的一个会话", name=ended["name"])

    return confirmed_action(run, "/monitor/online", url_for("online.index"))
