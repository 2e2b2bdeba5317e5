"""在线用户: every live session (web, api, open) with who, where from and when; end one session.

Above auth and users in the package order: it reads sessions with their users, departments and open
accounts in one statement per page, and ends a session with the offline button's rules (users.service).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from sqlalchemy import case, desc, func, literal, select
from sqlalchemy.orm import selectinload

from pcloud.core.errors import Conflict, Forbidden, NotFound
from pcloud.core.paging import Page, paginate
from pcloud.core.security import Principal
from pcloud.core.timefmt import utcnow
from pcloud.core.useragent import parse_user_agent
from pcloud.datascope import service as datascope
from pcloud.depts.models import Dept
from pcloud.extensions import db
from pcloud.loginlog import service as login_log
from pcloud.openplatform import service as open_service
from pcloud.openplatform.models import OpenAccount
from pcloud.sessions import service as sessions
from pcloud.sessions.models import UserSession
from pcloud.users import service as user_service
from pcloud.users.models import User

KINDS = ("web", "api", "open")

_kind = case((UserSession.subject == "open", literal("open")), else_=UserSession.kind)
_phone = func.coalesce(User.phone, OpenAccount.secure_id)
_name = func.coalesce(User.name, OpenAccount.name)


def _select(filters: dict[str, Any]) -> Any:
    stmt = (select(UserSession.public_id.label("session_id"), UserSession.user_id, UserSession.open_account_id,
                   _phone.label("phone"),
                   _name.label("name"), Dept.name.label("dept_name"), _kind.label("kind"),
                   UserSession.ip.label("client_ip"), UserSession.user_agent,
                   UserSession.created_at.label("signed_in_at"), UserSession.last_seen_at)
            .select_from(UserSession)
            .outerjoin(User, User.id == UserSession.user_id)
            .outerjoin(Dept, Dept.id == User.dept_id)
            .outerjoin(OpenAccount, OpenAccount.id == UserSession.open_account_id)
            .where(UserSession.revoked_at.is_(None), UserSession.expires_at > utcnow()))
    scope = datascope.current_scope()
    if not scope.all:  # the sessions of users the principal's data scope reaches (no open account's)
        stmt = stmt.where(scope.user_clause(User))
    if (phone := (filters.get("phone") or "").strip()):
        stmt = stmt.where(_phone.contains(phone, autoescape=True))
    if (name := (filters.get("name") or "").strip()):
        stmt = stmt.where(_name.contains(name, autoescape=True))
    if filters.get("kind") in KINDS:
        stmt = stmt.where(_kind == filters["kind"])
    if (ip := (filters.get("client_ip") or "").strip()):
        stmt = stmt.where(UserSession.ip == ip)
    return stmt.order_by(desc(UserSession.last_seen_at), desc(UserSession.id))


def online_count() -> int:
    """Distinct users with a live session whom the principal's data scope reaches (the home page's figure)."""
    return int(db.session.execute(
        select(func.count(func.distinct(UserSession.user_id))).join(User, User.id == UserSession.user_id)
        .where(sessions.live_session_filter(), datascope.current_scope().user_clause(User))).scalar() or 0)


def page_sessions(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    """Live sessions, the most recently seen first; browser and OS parsed from each session's agent."""
    result = paginate(_select(filters), page, page_size, scalars=False)
    items = []
    for row in result.items:
        item = dict(row._mapping)
        item["os"], item["browser"] = parse_user_agent(item.pop("user_agent") or "")
        items.append(item)
    result.items = items
    return result


def sign_out_refusals(items: list[dict[str, Any]], principal: Principal | None) -> dict[str, str]:
    """Why the principal may not end each of these sessions (items of page_sessions, or `session_id`, `user_id` and
    `open_account_id` of one), by session id; absent: the kick would end it. The user page's offline rule (only a
    super administrator ends a super administrator's session, nobody one of a user whose roles reach further than
    their own) and an open account's (only whom the account's reach is within), asked once for a whole page: the
    kick refuses by it, and the page offers 强退 only where it does not."""
    user_ids = sorted({i["user_id"] for i in items if i.get("user_id") is not None})
    account_ids = sorted({i["open_account_id"] for i in items
                          if i.get("user_id") is None and i.get("open_account_id") is not None})
    users = list(db.session.execute(select(User).where(User.id.in_(user_ids)).options(selectinload(User.roles)))
                 .scalars()) if user_ids else []
    by_user = user_service.target_refusals(principal, users)
    by_account = open_service.sign_out_refusals(account_ids) if account_ids else {}
    out: dict[str, str] = {}
    for item in items:
        refusal = (by_user.get(item["user_id"]) if item.get("user_id") is not None
                   else by_account.get(item.get("open_account_id")))
        if refusal:
            out[item["session_id"]] = refusal
    return out


def kick(public_id: str, principal: Principal | None) -> dict[str, Any]:
    """End one session now (the user's others stay): 404 if it is already gone. The same rules as the user
    page's offline: only a super administrator ends a super administrator's session; nobody ends the session
    they are calling with (that is 退出登录); an open account's only by whom the account's reach is within
    (`sign_out_refusals`, which the page asks too)."""
    sess = sessions.live_session_by_public_id(public_id)
    scope = datascope.current_scope()
    if sess is None or (not scope.all and sess.user_id is None):
        raise NotFound(gettext("会话不存在或已结束"))
    if principal is not None and principal.session_id == sess.id:
        raise Conflict(gettext("不能结束自己当前的会话，请使用退出登录"))
    phone, name = None, None
    if sess.user_id is not None:
        try:
            user = user_service.get_user(sess.user_id)
        except NotFound:  # beyond the principal's data scope: as if the session were absent
            raise NotFound(gettext("会话不存在或已结束")) from None
        phone, name = user.phone, user.name
    elif sess.open_account_id is not None:
        account = db.session.get(OpenAccount, sess.open_account_id)
        phone, name = (account.secure_id, account.name) if account is not None else (None, None)
    refusal = sign_out_refusals([{"session_id": public_id, "user_id": sess.user_id,
                                  "open_account_id": sess.open_account_id}], principal).get(public_id)
    if refusal:
        raise Forbidden(refusal)
    row = user_service.offline_row(sess, phone, principal)
    if not sessions.revoke_session(sess.id, "forced"):
        db.session.rollback()
        raise NotFound(gettext("会话不存在或已结束"))
    db.session.commit()
    login_log.write_rows([row])  # after the commit, in a transaction of its own
    return {"name": name or "", "session_id": public_id}


def public_id_of(session_id: int) -> str | None:
    """The public id of a session (the page marks the principal's own, which has no 强退 button)."""
    return db.session.execute(select(UserSession.public_id).where(UserSession.id == session_id)).scalar()
