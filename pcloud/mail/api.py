"""站内信 JSON API: the routes the original front end calls (src/api/mail.js, the navbar's bell) and ours."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields

from pcloud.access.permissions import may_open_page
from pcloud.core.messages import N_
from pcloud.core.operations import operation
from pcloud.core.security import Principal, current_principal, signed_in_only
from pcloud.mail import service
from pcloud.mail.schemas import MailCreateArgs, MailDetailArgs, MailOut, MailPageArgs

blp = Blueprint("mail_api", __name__, url_prefix="/api", description="站内信")


def _principal() -> tuple[Principal, bool]:
    """The principal, and whether they manage every mail (the 站内信 page's grant)."""
    principal = current_principal()
    assert principal is not None
    return principal, may_open_page(principal, service.MAIL_PAGE)


def _own_id(principal: Principal) -> int:
    return principal.user_id or 0  # an open account has no inbox


@operation(blp, "/integration/admin/mail/page", "MailPage", MailOut, paged=True, args=MailPageArgs)
@signed_in_only
def page(args: dict[str, Any]) -> Any:
    """站内信分页列表（标题包含、收信人手机号、发信人手机号、已读状态）；无站内信页面权限者只见发给自己的"""
    principal, manages = _principal()
    result = service.page_mail(args, args["page"], args["page_size"],
                               recipient_id=None if manages else _own_id(principal))
    return result.items, result


@operation(blp, "/integration/admin/mail/quantity", "MailQuantity", fields.Integer(), method="GET")
@signed_in_only
def quantity() -> int:
    """当前用户的未读站内信数量（顶栏的铃铛）"""
    principal, _ = _principal()
    return service.unread_count(_own_id(principal))


@operation(blp, "/integration/admin/mail/create", "MailCreate", fields.Integer(), title=N_("站内信发送"),
           args=MailCreateArgs)
def create(args: dict[str, Any]) -> int:
    """发送站内信给手机号为 phone 的用户；data 为新站内信 id"""
    principal, _ = _principal()
    return service.send_mail(args, principal.user_id).id


@operation(blp, "/admin/mail/<int:id>/detail", "MailDetail", MailOut, args=MailDetailArgs)
@signed_in_only
def detail(args: dict[str, Any], id: int) -> dict[str, Any]:  # noqa: A002 - the route's name
    """站内信详情；收信人本人查看时标记为已读"""
    principal, manages = _principal()
    return service.read_mail(id, principal, manages)


@operation(blp, "/integration/admin/mail/<int:id>/delete", "MailDelete", method="DELETE", title=N_("站内信删除"))
def delete(id: int) -> None:  # noqa: A002 - the route's name
    """删除站内信（软删除）"""
    service.delete_mail(id)
