"""站内信 rules, shared by the pages and the JSON API.

Who sees what: a principal who may open the 站内信 page (its menu, /personalized/mail) manages every mail;
anyone else lists and reads only the mail sent to them. Reading one's own mail marks it read; nobody
else's reading does. The unread count is the principal's own, asked by the top bar on every page.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from sqlalchemy import ColumnElement, false, func, select
from sqlalchemy.orm import aliased

from pcloud.access.permissions import may_open_page
from pcloud.core import search
from pcloud.core.errors import Invalid, NotFound
from pcloud.core.numbers import digits_only
from pcloud.core.paging import Page, newest_first_page, sample_estimate
from pcloud.core.routing import MAX_ID
from pcloud.core.security import Principal, current_principal
from pcloud.core.timefmt import utcnow
from pcloud.datascope import service as datascope
from pcloud.depts import service as depts
from pcloud.extensions import db
from pcloud.mail.models import Mail
from pcloud.users.models import User

MAIL_PAGE = "/personalized/mail"
_recipient, _sender = aliased(User), aliased(User)


def _mailable() -> ColumnElement[bool]:
    """Whom the principal may mail: a live user within their data scope. The one rule of the send (by phone or by
    the pick) and of its picker (`recipients`, `recipient_brief`): the picker offers only those the send takes."""
    return User.deleted_at.is_(None) & datascope.current_scope().user_clause(User)


def _clean_phone(phone: str | None) -> int:
    """The live user with that phone (the recipient), by id: one the sender's data scope reaches; any other is
    answered as an unknown phone (the user list's 404), so that the form tells nobody which phones exist."""
    phone = (phone or "").strip()
    if not phone:
        raise Invalid(gettext("请输入收信人手机号"), field="phone")
    user_id = db.session.execute(select(User.id).where(User.phone == phone, _mailable())).scalar()
    if user_id is None:
        raise Invalid(gettext("没有手机号为 %(phone)s 的用户", phone=phone), field="phone")
    return user_id


def _picked_id(value: int | str | None) -> int | None:
    """A picked user's id as the page posts it (text), or None when it is not one."""
    text = str(value if value is not None else "").strip()
    return int(text) if digits_only(text) and len(text) <= 10 and 0 < int(text) <= MAX_ID else None


def _clean_recipient_id(value: int | str) -> int:
    """The recipient picked on the page (the picker's user id), by the same rule as a phone: a user beyond the
    sender's reach, or none, is refused alike, on the picker's field."""
    user_id = _picked_id(value)
    if user_id is None or db.session.execute(select(User.id).where(User.id == user_id, _mailable())).first() is None:
        raise Invalid(gettext("收信人不存在"), field="phone")
    return user_id


def recipients(q: str) -> list[dict[str, Any]]:
    """The send form's recipient picker: the console's user picker (depts.service.search_users), offering only
    the users the send takes (`_mailable`)."""
    return depts.search_users(q, within=_mailable())


def recipients_by_phone() -> bool:
    """Whether the recipient picker finds users by phone too: for those who may see phones (the user list's data,
    depts.service.may_see_phones), as `recipients` searches; the form's placeholder says so."""
    return depts.may_see_phones()


def recipient_brief(value: int | str | None) -> dict[str, Any] | None:
    """The picked recipient as the picker names them (kept when a send is refused), if the send would take them."""
    user_id = _picked_id(value)
    return depts.user_brief(user_id, within=_mailable()) if user_id is not None else None


def _clean_text(value: str | None, field: str, label: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise Invalid(gettext("请输入%(label)s", label=label), field=field)
    if len(value) > limit:
        raise Invalid(gettext("%(label)s不能超过 %(limit)s 个字符", label=label, limit=limit), field=field)
    return value


def send_mail(values: dict[str, Any], sender_id: int | None) -> Mail:
    """Send `name`/`description` to the user picked (`recipient_id`, the page's picker), else to the user whose
    phone is `phone` (the API, a phone typed on the page)."""
    from pcloud.mail.schemas import DESCRIPTION_MAX, NAME_MAX

    picked = values.get("recipient_id")
    recipient_id = _clean_recipient_id(picked) if str(picked or "").strip() else _clean_phone(values.get("phone"))
    mail = Mail(recipient_id=recipient_id, sender_id=sender_id,
                name=_clean_text(values.get("name"), "name", gettext("标题"), NAME_MAX),
                description=_clean_text(values.get("description"), "description", gettext("内容"), DESCRIPTION_MAX))
    db.session.add(mail)
    db.session.commit()
    return mail


def _items_stmt() -> Any:
    return (select(Mail, _recipient.phone, _recipient.name, _recipient.avatar,
                   _sender.phone, _sender.name, _sender.avatar)
            .join(_recipient, _recipient.id == Mail.recipient_id)
            .outerjoin(_sender, _sender.id == Mail.sender_id)
            .where(Mail.deleted_at.is_(None)))


def _within_scope() -> Any:
    """Mail a manager sees: its recipient, and its sender if any, within the principal's data scope."""
    scope = datascope.current_scope()
    return scope.user_clause(_recipient) & (_sender.id.is_(None) | scope.user_clause(_sender))


def _sender_name(mail: Mail, user_name: str | None) -> str | None:
    """Who sent it: the sending user; else the open-platform account that did, named as one (a review's account
    mail showed as from 系统); else nobody, the system."""
    if mail.sender_id is not None or not mail.gmt_created_name:
        return user_name
    return gettext("开放平台账号「%(name)s」", name=mail.gmt_created_name)


def _item(row: Any) -> dict[str, Any]:
    mail = row[0]
    return {"id": mail.id, "name": mail.name, "description": mail.description, "state": mail.read_at is not None,
            "read_date": mail.read_at, "recipient_id": mail.recipient_id, "phone": row[1], "username": row[2],
            "avatar": row[3], "send_phone": row[4], "send_username": _sender_name(mail, row[5]),
            "send_avatar": row[6],
            "gmt_created_date": mail.gmt_created_date, "gmt_created_name": mail.gmt_created_name,
            "gmt_modified_date": mail.gmt_modified_date, "gmt_modified_name": mail.gmt_modified_name}


def _filtered_ids(filters: dict[str, Any], recipient_id: int | None, driving: bool = True) -> Any:
    """The ids of the live mail matching the filters. `driving`: the title keyword through the trigram index
    (few matches); otherwise a per-row LIKE, written so that no index answers it, for a scan in time order (many
    matches), as the operation log's page does. The recipient and the sender are joined only where a condition
    names them (every mail has its recipient: the column is a foreign key, never null)."""
    driving = driving and not _one_recipient(filters, recipient_id)
    stmt = select(Mail.id).where(Mail.deleted_at.is_(None))
    scoped = recipient_id is None and not datascope.current_scope().all
    phone = (filters.get("phone") or "").strip()
    send_phone = (filters.get("send_phone") or "").strip()
    if scoped or phone:
        stmt = stmt.join(_recipient, _recipient.id == Mail.recipient_id)
    if scoped or send_phone:
        stmt = stmt.outerjoin(_sender, _sender.id == Mail.sender_id)
    # one's own inbox whoever sent it; a manager's list within the data scope, and their own mail (as detail and
    # delete reach it) whoever sent it
    if recipient_id is not None:
        stmt = stmt.where(Mail.recipient_id == recipient_id)
    elif scoped:
        principal = current_principal()
        own = Mail.recipient_id == principal.user_id if principal is not None and principal.user_id else false()
        stmt = stmt.where(own | _within_scope())
    if (name := _title(filters)):
        stmt = (search.join_matches(stmt, [(Mail.name, name)], db.engine.dialect.name) if driving and _indexed(name)
                else stmt.where(search.contains_per_row(Mail.name, name)))
    if phone:
        stmt = stmt.where(_recipient.phone == phone)
    if send_phone:
        stmt = stmt.where(_sender.phone == send_phone)
    if filters.get("state") is not None:
        stmt = stmt.where(Mail.read_at.is_not(None) if filters["state"] else Mail.read_at.is_(None))
    return stmt


def _title(filters: dict[str, Any]) -> str:
    return (filters.get("name") or "").strip()


def _one_recipient(filters: dict[str, Any], recipient_id: int | None) -> bool:
    """Whether the list is one recipient's mail (one's own inbox, or the recipient's phone): then it is read through
    the recipient's index and the title checked per row, bounded by that recipient's mail, rather than starting
    from every mail of the table whose title matches."""
    return recipient_id is not None or bool((filters.get("phone") or "").strip())


def _indexed(keyword: str) -> bool:
    """Whether the trigram index can answer `keyword`. A shorter one has no trigram: it is checked row by row,
    written so that no index answers it (PostgreSQL's generic plan of a prepared statement would otherwise read the
    whole GIN index for it)."""
    return len(keyword) >= search.MIN_TRIGRAM


def _rows(ids: list[int]) -> dict[int, Any]:
    """The page's mail by id, each with its recipient and sender (one statement)."""
    return {row[0].id: _item(row) for row in db.session.execute(_items_stmt().where(Mail.id.in_(ids)))}


def page_mail(filters: dict[str, Any], page: int = 1, page_size: int = 10, *,
              recipient_id: int | None = None) -> Page:
    """Newest first. `recipient_id`: only the mail sent to that user (a principal without the 站内信 page, or
    one's own inbox). As the operation log's page (actionlog.service.page_logs): a capped count, then the page's
    ids read in time order, or (a title keyword with few matches) the trigram index's matches sorted; then the
    page's mail with their recipients and senders."""
    keyword = _indexed(_title(filters)) and not _one_recipient(filters, recipient_id)
    return newest_first_page(
        Mail, Mail.gmt_created_date, _filtered_ids(filters, recipient_id),
        lambda: _filtered_ids(filters, recipient_id, driving=False), keyword=keyword,
        estimate=_keyword_estimate(filters, recipient_id) if _title(filters) else None, unfiltered_table=None,
        page=page, page_size=page_size, rows_of=_rows)


def _keyword_estimate(filters: dict[str, Any], recipient_id: int | None) -> int | None:
    """A title-only search of every mail whose matches are plainly many: their estimate from a sample
    (core.paging.sample_estimate)."""
    if recipient_id is not None or not datascope.current_scope().all or any(
            filters.get(k) not in (None, "") for k in ("phone", "send_phone", "state")):
        return None
    name = _title(filters)
    base = select(Mail.name).where(Mail.deleted_at.is_(None)).order_by(
        Mail.gmt_created_date.desc(), Mail.id.desc())
    return sample_estimate(base, lambda sub: sub.c.name.contains(name, autoescape=True), "sys_mail")


def unread_count_select(user_id: int) -> Any:
    """SELECT count(*) of the user's unread mail (the top bar's bell asks it with the notices' in one statement)."""
    return select(func.count()).select_from(Mail).where(
        Mail.recipient_id == user_id, Mail.read_at.is_(None), Mail.deleted_at.is_(None))


def unread_count(user_id: int) -> int:
    return db.session.execute(unread_count_select(user_id)).scalar_one()


def read_mail(mail_id: int, principal: Principal, manages: bool) -> dict[str, Any]:
    """One mail; the recipient's reading marks it read. Another user's mail is 404 unless `manages`."""
    row = db.session.execute(_items_stmt().where(Mail.id == mail_id)).one_or_none()
    own = row is not None and row[0].recipient_id == principal.user_id
    if row is None or (not own and not manages):
        raise NotFound(gettext("站内信不存在"))
    if not own and db.session.execute(select(Mail.id).where(Mail.id == mail_id).join(
            _recipient, _recipient.id == Mail.recipient_id).outerjoin(_sender, _sender.id == Mail.sender_id)
            .where(_within_scope())).first() is None:
        raise NotFound(gettext("站内信不存在"))  # another's mail beyond the manager's data scope: as if absent
    mail = row[0]
    if own and mail.read_at is None:
        mail.read_at = utcnow()
        db.session.commit()
    return _item(row)


def delete_mail(mail_id: int) -> Mail:
    """Soft delete: one's own mail, or, for a principal who manages every mail (may open the 站内信 page, as
    `read_mail`'s `manages`), another's within their data scope; any other is 404, as `read_mail` answers."""
    principal = current_principal()
    own = Mail.recipient_id == principal.user_id if principal is not None and principal.user_id else false()
    manages = principal is None or may_open_page(principal, MAIL_PAGE)
    mail = db.session.execute(
        Mail.live().where(Mail.id == mail_id).join(_recipient, _recipient.id == Mail.recipient_id)
        .outerjoin(_sender, _sender.id == Mail.sender_id).where(own | (_within_scope() if manages else false()))
    ).scalar_one_or_none()
    if mail is None:
        raise NotFound(gettext("站内信不存在"))
    mail.soft_delete()
    db.session.commit()
    return mail
