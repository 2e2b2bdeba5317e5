"""通知公告 rules, shared by the pages and the JSON API.

A notice is written as a draft, published (then its audience sees it, on the home page and in the top
bar's bell) and may be withdrawn (hidden again; read receipts are kept) and published again. Only a draft
or a withdrawn notice is edited. Its audience is everyone, or the users holding one of its roles or
belonging to one of its departments or any department below them (the closure table answers the subtree).
The Markdown text is rendered by `core.markdown` when it is saved, and its sanitised HTML is shown as stored
(`content_html`): rendered when shown, a page of long notices cost seconds of CPU per read. A text past the
bounds of rendering (a table too wide or too large) is refused on save. Its pictures are uploads PCloud serves
(the form's 插入图片 stores one as an avatar is stored: `store_image`); `core.markdown` shows any other as text.

Read receipts list the audience's users with whether and when each read it. Which of those users a principal
may see is one condition on `sys_user` passed in as `users_within` (the data scope of the principal's roles;
None: every user), so the scope is added in one place, not in this query's shape.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import IO, Any

from flask_babel import gettext, lazy_gettext
from markupsafe import Markup
from sqlalchemy import and_, delete, exists, func, insert, or_, select, true, update
from sqlalchemy.sql.elements import ColumnElement

from pcloud.access import permissions
from pcloud.core import search
from pcloud.core.errors import Conflict, FieldErrors, Forbidden, Invalid, NotFound
from pcloud.core.markdown import LazyMarkdown, markdown_problem, render_markdown
from pcloud.core.paging import Page, newest_first_page, paginate, sample_estimate
from pcloud.core.security import Principal
from pcloud.core.timefmt import utcnow
from pcloud.datascope.service import current_scope
from pcloud.depts.models import Dept, DeptClosure
from pcloud.dicts.service import label as dict_label
from pcloud.extensions import db
from pcloud.mail.service import unread_count_select
from pcloud.notices.models import (
    ANNOUNCEMENT,
    CONTENT_MAX,
    DRAFT,
    NOTICE,
    PUBLISHED,
    WITHDRAWN,
    Notice,
    NoticeRead,
    notice_dept,
    notice_role,
)
from pcloud.roles import service as role_service
from pcloud.roles.models import Role
from pcloud.uploads import service as uploads
from pcloud.users.models import User, user_role

TITLE_MAX = 100
TYPES = {NOTICE: lazy_gettext("通知"), ANNOUNCEMENT: lazy_gettext("公告")}
STATUSES = {DRAFT: lazy_gettext("草稿"), PUBLISHED: lazy_gettext("已发布"), WITHDRAWN: lazy_gettext("已撤回")}
AUDIENCE_IDS_MAX = 200


# ---------------------------------------------------------------------------------------------
# Writing


IMAGE_MAX_BYTES = uploads.MAX_BYTES
IMAGE_TOO_BIG = uploads.TOO_BIG  # said where a body over the limit is refused before anything reads it


def store_image(stream: IO[bytes], principal: Principal | None) -> str:
    """A picture for a notice's text (the form's 插入图片): checked by content, bounded, re-encoded and stored as an
    avatar's upload is (2 MiB; PNG, JPEG, GIF, WebP), owned by `principal`; the URL its Markdown names. Refused:
    Invalid on `file`."""
    return uploads.store_image(stream, principal)


def _clean_title(value: Any) -> str:
    title = (value or "").strip() if isinstance(value, str) else ""
    if not title:
        raise Invalid(gettext("请输入标题"), field="title")
    if len(title) > TITLE_MAX:
        raise Invalid(gettext("标题不能超过 %(max)s 个字符", max=TITLE_MAX), field="title")
    return title


def _clean_content(value: Any) -> str:
    content = (value or "").strip() if isinstance(value, str) else ""
    if not content:
        raise Invalid(gettext("请输入内容"), field="content")
    if len(content) > CONTENT_MAX:
        raise Invalid(gettext("内容不能超过 %(max)s 个字符", max=CONTENT_MAX), field="content")
    if (problem := markdown_problem(content)) is not None:
        raise Invalid(problem, field="content")
    return content


def _clean_notice_type(value: Any) -> int:
    if value not in TYPES:
        raise Invalid(gettext("类型只能是 1（通知）或 2（公告）"), field="noticeType")
    return int(value)


def _live_ids(model: Any, ids: Iterable[int]) -> set[int]:
    wanted = set(ids)
    if not wanted:
        return set()
    return set(db.session.execute(select(model.id).where(model.id.in_(wanted), model.deleted_at.is_(None))).scalars())


def _beyond_reach(msg: str) -> Forbidden:
    return Forbidden(msg, errors={"audience": [msg]})


def default_audience() -> dict[str, Any]:
    """What a new notice's form starts from: everyone for an author whose data scope is all data, else the
    author's own department when the scope reaches it and everything below it (everyone would be refused)."""
    scope = current_scope()
    if scope.all:
        return {"all": True, "role_ids": [], "dept_ids": []}
    own = scope.own_dept_id
    reached = own and scope.covers_dept(own) and not scope.beyond_below([own])  # its subtree too (_reach_refusal)
    return {"all": False, "role_ids": [], "dept_ids": [own] if reached else []}


def _clean_audience(value: Any) -> tuple[bool, list[int], list[int]]:
    """(everyone, role ids, department ids): everyone, or at least one live role or department; all of it
    within the author's reach (`_reach_refusal`) - else 403."""
    value = value or {"all": True}
    role_ids = sorted(set(value.get("role_ids") or []))
    dept_ids = sorted(set(value.get("dept_ids") or []))
    if value.get("all"):
        if role_ids or dept_ids:
            raise Invalid(gettext("全员可见时不能再指定角色或部门"), field="audience")
        if (refusal := _reach_refusal(True, {}, [])):
            raise _beyond_reach(refusal)
        return True, [], []
    if not role_ids and not dept_ids:
        raise Invalid(gettext("请选择可见范围：全员，或至少一个角色或部门"), field="audience")
    if len(role_ids) + len(dept_ids) > AUDIENCE_IDS_MAX:
        raise Invalid(gettext("可见范围最多 %(max)s 个角色和部门", max=AUDIENCE_IDS_MAX),
                      field="audience")
    live_roles = {i: role for i, role in _live_roles(role_ids).items() if not role.hidden}
    if (missing := [i for i in role_ids if i not in live_roles]):
        raise Invalid(gettext("角色不存在：%(ids)s", ids=", ".join(map(str, missing))), field="audience")
    live_depts = _live_ids(Dept, dept_ids)
    if (missing := [i for i in dept_ids if i not in live_depts]):
        raise Invalid(gettext("部门不存在：%(ids)s", ids=", ".join(map(str, missing))), field="audience")
    if (refusal := _reach_refusal(False, live_roles, dept_ids)):
        raise _beyond_reach(refusal)
    return False, role_ids, dept_ids


def _reach_refusal(everyone: bool, live_roles: Mapping[int, Role], dept_ids: Iterable[int],
                   beyond_below: Mapping[int, str] | None = None) -> str | None:
    """Why the principal may not address this audience (None: they may): everyone only for a data scope of all,
    departments the scope covers, roles the author may hand out (the reach rule and the data scope's, as for
    assigning them) and whose holders all lie within the scope (the holder rule of role modify). `beyond_below`:
    the scope's `beyond_below` of these departments when the caller read it already (a page of notices)."""
    scope = current_scope()
    if everyone:
        return None if scope.all else gettext("您的数据权限不是全部，不能发给全员；请选择您数据权限内的部门或角色")
    dept_ids = list(dept_ids)
    if (outside := [i for i in dept_ids if not scope.covers_dept(i)]):
        return gettext("部门超出您的数据权限范围：%(ids)s", ids=", ".join(map(str, outside)))
    # a department's notice goes to everything below it: the whole subtree must lie within the scope
    beyond = scope.beyond_below(dept_ids) if beyond_below is None else beyond_below
    if (beyond := {i: name for i, name in beyond.items() if i in dept_ids}):
        first = next(i for i in dept_ids if i in beyond)
        return gettext("所选部门的下级部门「%(beyond)s」超出您的数据权限范围，通知会发到那里", beyond=beyond[first])
    if live_roles and (refusal := _roles_refusal(live_roles)):
        return gettext("不能发给超出您权限范围的角色（%(why)s）", why=refusal)
    return None


def _live_roles(role_ids: Iterable[int]) -> dict[int, Role]:
    wanted = set(role_ids)
    if not wanted:
        return {}
    return {role.id: role for role in db.session.execute(select(Role).where(
        Role.id.in_(wanted), Role.deleted_at.is_(None))).scalars()}


def _roles_refusal(live_roles: Mapping[int, Role]) -> str | None:
    """Why the principal may not address these roles (None: they may): the reach rule and the data scope's, as
    for assigning them, and the holder rule of role modify."""
    return permissions.reach_refusal(roles=list(live_roles.values())) or _holders_refusal(live_roles)


def audience_choices(roles: list[tuple[int, str]], depts: list[tuple[int, str]], kept: Mapping[str, list[int]]
                     ) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The form's role and department options the principal may address (`_clean_audience`'s rule, one option at
    a time), so that no checkbox is offered that a save refuses; with those of `kept` (a stored notice's
    audience, kept so that it shows as it is and its save says why it is refused)."""
    scope = current_scope()
    kept_roles, kept_depts = set(kept.get("role_ids") or ()), set(kept.get("dept_ids") or ())
    rows = {role.id: role for role in db.session.execute(select(Role).where(
        Role.id.in_([i for i, _ in roles]), Role.deleted_at.is_(None))).scalars()}
    allowed = {i for i, role in rows.items() if _roles_refusal({i: role}) is None}
    beyond = scope.beyond_below(i for i, _ in depts)
    return ([(i, name) for i, name in roles if i in allowed or i in kept_roles],
            [(i, name) for i, name in depts if scope.covers_dept(i) and i not in beyond or i in kept_depts])


def _holders_refusal(live_roles: Mapping[int, Role]) -> str | None:
    """A role some of whose holders lie beyond the author's data scope reaches them: refused by the role rule
    (roles.service.held_beyond_scope, what role modify refuses), else a role would carry a notice to users the
    author could neither mail nor address by department."""
    beyond = role_service.held_beyond_scope(live_roles)
    if not beyond:
        return None
    return gettext("角色「%(names)s」有您数据权限范围之外的用户",
                   names="、".join(live_roles[i].name for i in sorted(beyond)))


def _clean_values(values: Mapping[str, Any], current: Notice | None = None) -> dict[str, Any]:
    """Every field's refusal at once (FieldErrors); on modify, absent fields keep their value."""
    errors = FieldErrors()
    out: dict[str, Any] = {}
    if current is None or "title" in values:
        out["title"] = errors.run(_clean_title, values.get("title"))
    if current is None or "content" in values:
        out["content"] = errors.run(_clean_content, values.get("content"))
    if current is None or "notice_type" in values:
        out["notice_type"] = errors.run(_clean_notice_type, values.get("notice_type", NOTICE))
    if current is None or "audience" in values:
        out["audience"] = errors.run(_clean_audience, values.get("audience"))
    errors.raise_if_any()
    return out


def _set_audience(notice: Notice, audience: tuple[bool, list[int], list[int]]) -> None:
    everyone, role_ids, dept_ids = audience
    notice.audience_all = everyone
    db.session.flush()
    db.session.execute(delete(notice_role).where(notice_role.c.notice_id == notice.id))
    db.session.execute(delete(notice_dept).where(notice_dept.c.notice_id == notice.id))
    if role_ids:
        db.session.execute(insert(notice_role), [{"notice_id": notice.id, "role_id": i} for i in role_ids])
    if dept_ids:
        db.session.execute(insert(notice_dept), [{"notice_id": notice.id, "dept_id": i} for i in dept_ids])


def get_notice(notice_id: int) -> Notice:
    notice = db.session.execute(Notice.live().where(Notice.id == notice_id)).scalar_one_or_none()
    if notice is None:
        raise NotFound(gettext("通知公告不存在"))
    return notice


def create_notice(values: Mapping[str, Any]) -> Notice:
    """A draft; `status` 1 publishes it at once."""
    clean = _clean_values(values)
    notice = Notice(title=clean["title"], content=clean["content"], content_html=render_markdown(clean["content"]),
                    notice_type=clean["notice_type"], status=DRAFT)
    if values.get("status") == PUBLISHED:
        notice.status, notice.published_at = PUBLISHED, utcnow()
    elif values.get("status") not in (None, DRAFT):
        raise Invalid(gettext("新建的通知公告只能是草稿（0）或直接发布（1）"), field="status")
    db.session.add(notice)
    _set_audience(notice, clean["audience"])
    db.session.commit()
    return notice


def _still(notice: Notice, condition: ColumnElement[bool]) -> bool:
    """Take the notice's row for this change only if `condition` still holds, in one conditional UPDATE: it
    waits for a change in flight (the row's lock on PostgreSQL, the write lock on SQLite) and tests the
    condition on what that left, so two publishes at once cannot both pass the status check. False: it no
    longer holds (the caller refuses, 409); a notice deleted meanwhile is 404."""
    changed = db.session.execute(
        update(Notice).where(Notice.id == notice.id, Notice.deleted_at.is_(None), condition)
        .values(status=Notice.status).execution_options(synchronize_session=False)).rowcount
    if not changed:
        db.session.rollback()
        get_notice(notice.id)
    return bool(changed)


def _require_audience_reached(notice: Notice, *, publishing: bool = False) -> None:
    """The notice's audience as stored must lie within the principal's reach (403, `_stored_audience_refusal`):
    who publishes sends it to them, and who edits, withdraws or deletes it changes what they are told (a review
    withdrew, rewrote and deleted the super administrator's notice to everyone as an admin of one department).
    A draft whose whole audience is gone is not published."""
    audience = _audiences([notice.id])[notice.id]
    live_roles, live_depts = _live_roles(audience["role_ids"]), _live_ids(Dept, audience["dept_ids"])
    if publishing and not notice.audience_all and not live_roles and not live_depts:
        raise Invalid(gettext("可见范围中的角色和部门都已删除，请先修改可见范围"), field="audience")
    if (refusal := _stored_audience_refusal(notice.audience_all, audience, live_roles, live_depts)):
        raise refusal


def _stored_audience_refusal(everyone: bool, audience: Mapping[str, list[int]], live_roles: Mapping[int, Role],
                             live_depts: set[int], beyond_below: Mapping[int, str] | None = None
                             ) -> Forbidden | Invalid | None:
    """Why the principal may not change a notice with this stored audience (None: they may): `_clean_audience`'s
    rule on what is left of it. A role or department deleted since (absent from `live_roles` / `live_depts`)
    reaches nobody and is left out: counted, it made every such notice unchangeable, not even deletable."""
    if everyone:
        refusal = _reach_refusal(True, {}, [])
        return _beyond_reach(refusal) if refusal else None
    roles = {i: live_roles[i] for i in audience["role_ids"] if i in live_roles}
    if (hidden := [i for i, role in roles.items() if role.hidden]):
        return Invalid(gettext("角色不存在：%(ids)s", ids=", ".join(map(str, hidden))), field="audience")
    refusal = _reach_refusal(False, roles, [i for i in audience["dept_ids"] if i in live_depts], beyond_below)
    return _beyond_reach(refusal) if refusal else None


def modify_notice(notice_id: int, values: Mapping[str, Any]) -> Notice:
    notice = get_notice(notice_id)
    _require_audience_reached(notice)
    if notice.status == PUBLISHED:
        raise Conflict(gettext("通知公告「%(title)s」已发布，不能修改；请先撤回", title=notice.title))
    clean = _clean_values(values, notice)
    if not _still(notice, Notice.status != PUBLISHED):
        raise Conflict(gettext("通知公告「%(title)s」已发布，不能修改；请先撤回", title=notice.title))
    for key in ("title", "content", "notice_type"):
        if key in clean:
            setattr(notice, key, clean[key])
    if "content" in clean:
        notice.content_html = render_markdown(clean["content"])
    if "audience" in clean:
        _set_audience(notice, clean["audience"])
    db.session.commit()
    return notice


def publish_notice(notice_id: int) -> Notice:
    notice = get_notice(notice_id)
    if notice.status == PUBLISHED:
        raise Conflict(gettext("通知公告「%(title)s」已经发布", title=notice.title))
    # the audience another author chose, within the publisher's reach too
    _require_audience_reached(notice, publishing=True)
    if not _still(notice, Notice.status != PUBLISHED):
        raise Conflict(gettext("通知公告「%(title)s」已经发布", title=notice.title))
    notice.status, notice.published_at = PUBLISHED, utcnow()
    db.session.commit()
    return notice


def withdraw_notice(notice_id: int) -> Notice:
    notice = get_notice(notice_id)
    _require_audience_reached(notice)
    if notice.status != PUBLISHED or not _still(notice, Notice.status == PUBLISHED):
        raise Conflict(gettext("通知公告「%(title)s」未发布，无需撤回", title=notice.title))
    notice.status = WITHDRAWN
    db.session.commit()
    return notice


def delete_notice(notice_id: int) -> Notice:
    notice = get_notice(notice_id)
    _require_audience_reached(notice)
    notice.soft_delete()
    db.session.commit()
    return notice


def beyond_reach_ids(items: list[dict[str, Any]]) -> set[int]:
    """The notices among a page's items (page_notices) whose 编辑, 发布, 撤回 and 删除 the write refuses
    (`_stored_audience_refusal`, the one rule): the list does not offer them. The page's live roles and
    departments in two queries."""
    live_roles = _live_roles(i for item in items for i in item["audience"]["role_ids"])
    live_depts = _live_ids(Dept, (i for item in items for i in item["audience"]["dept_ids"]))
    beyond = current_scope().beyond_below(live_depts)
    return {item["id"] for item in items
            if _stored_audience_refusal(item["audience"]["all"], item["audience"], live_roles, live_depts, beyond)}


# ---------------------------------------------------------------------------------------------
# The administrators' list


def _audiences(notice_ids: list[int]) -> dict[int, dict[str, list[Any]]]:
    """Per notice: its role and department ids and names, one query each for the whole page (`role_shown`: the
    role names a page shows, a built-in role's in the reader's language; the API keeps `role_names`)."""
    out: dict[int, dict[str, list[Any]]] = defaultdict(lambda: {"role_ids": [], "role_names": [], "role_shown": [],
                                                                "dept_ids": [], "dept_names": []})
    if not notice_ids:
        return out
    for notice_id, role_id, name, built_in in db.session.execute(
            select(notice_role.c.notice_id, notice_role.c.role_id, Role.name, Role.built_in)
            .outerjoin(Role, and_(Role.id == notice_role.c.role_id, Role.deleted_at.is_(None)))
            .where(notice_role.c.notice_id.in_(notice_ids)).order_by(notice_role.c.role_id)):
        out[notice_id]["role_ids"].append(role_id)
        out[notice_id]["role_names"].append(name or gettext("#%(id)s（已删除）", id=role_id))
        out[notice_id]["role_shown"].append(Role.shown(name, built_in) if name else out[notice_id]["role_names"][-1])
    for notice_id, dept_id, name in db.session.execute(
            select(notice_dept.c.notice_id, notice_dept.c.dept_id, Dept.name)
            .outerjoin(Dept, and_(Dept.id == notice_dept.c.dept_id, Dept.deleted_at.is_(None)))
            .where(notice_dept.c.notice_id.in_(notice_ids)).order_by(notice_dept.c.dept_id)):
        out[notice_id]["dept_ids"].append(dept_id)
        out[notice_id]["dept_names"].append(name or gettext("#%(id)s（已删除）", id=dept_id))
    return out


def _html(notice: Notice) -> Markup | LazyMarkdown:
    """The stored HTML (sanitised when it was rendered, on save); a row no save has rendered renders when shown."""
    return Markup(notice.content_html) if notice.content_html is not None else LazyMarkdown(notice.content)


def _item(notice: Notice, audience: Mapping[str, list[Any]] | None = None, read: bool | None = None) -> dict[str, Any]:
    audience = audience or {"role_ids": [], "role_names": [], "role_shown": [], "dept_ids": [], "dept_names": []}
    item = {"id": notice.id, "title": notice.title, "content": notice.content,
            "content_html": _html(notice), "notice_type": notice.notice_type,
            "type_name": dict_label("notice_type", notice.notice_type, TYPES.get(notice.notice_type, "")),
            "status": notice.status,
            "status_name": STATUSES.get(notice.status, ""), "published_at": notice.published_at,
            "audience": {"all": notice.audience_all, **audience},
            "gmt_created_date": notice.gmt_created_date, "gmt_created_name": notice.gmt_created_name,
            "gmt_modified_date": notice.gmt_modified_date, "gmt_modified_name": notice.gmt_modified_name}
    if read is not None:
        item["read"] = read
    return item


def notice_item(notice_id: int) -> dict[str, Any]:
    notice = get_notice(notice_id)
    return _item(notice, _audiences([notice.id])[notice.id])


def _filtered_ids(filters: Mapping[str, Any], driving: bool = True) -> Any:
    """The ids of the live notices matching the filters. `driving`: the title keyword through the trigram index
    (few matches); otherwise a per-row LIKE that no index answers, for a scan in time order (many matches)."""
    stmt = select(Notice.id).where(Notice.deleted_at.is_(None))
    if (title := _title(filters)):  # a keyword without a trigram is checked per row, as the mail's (mail.service)
        stmt = (search.join_matches(stmt, [(Notice.title, title)], db.engine.dialect.name)
                if driving and len(title) >= search.MIN_TRIGRAM
                else stmt.where(search.contains_per_row(Notice.title, title)))
    if filters.get("notice_type") is not None:
        stmt = stmt.where(Notice.notice_type == filters["notice_type"])
    if filters.get("status") is not None:
        stmt = stmt.where(Notice.status == filters["status"])
    return stmt


def _title(filters: Mapping[str, Any]) -> str:
    return str(filters.get("title") or "").strip()


def page_notices(filters: Mapping[str, Any], page: int = 1, page_size: int = 10) -> Page:
    """Newest first (title contains, type, status), as the operation log's page (actionlog.service.page_logs): a
    capped count, then the page's ids read in time order, or (a title keyword with few matches) the trigram
    index's matches sorted; audiences batched for the page."""
    title = _title(filters)
    keyword = len(title) >= search.MIN_TRIGRAM
    estimate = None
    if title and filters.get("notice_type") is None and filters.get("status") is None:
        base = select(Notice.title).where(Notice.deleted_at.is_(None)).order_by(
            Notice.gmt_created_date.desc(), Notice.id.desc())
        estimate = sample_estimate(base, lambda sub: sub.c.title.contains(title, autoescape=True), "sys_notice")
    result = newest_first_page(Notice, Notice.gmt_created_date, _filtered_ids(filters),
                               lambda: _filtered_ids(filters, driving=False), keyword=keyword, estimate=estimate,
                               unfiltered_table=None, page=page, page_size=page_size)
    audiences = _audiences([n.id for n in result.items])
    result.items = [_item(n, audiences[n.id]) for n in result.items]
    return result


# ---------------------------------------------------------------------------------------------
# Readers: what a user sees, the bell, read receipts


def visible_to(user_id: int) -> ColumnElement[bool]:
    """The notices (published or not) whose audience holds `user_id`: everyone, one of the user's live
    roles, or a department at or above the user's (the closure table's ancestors of it)."""
    roles = (select(user_role.c.role_id).join(Role, Role.id == user_role.c.role_id)
             .where(user_role.c.user_id == user_id, Role.deleted_at.is_(None)))
    dept_of_user = select(User.dept_id).where(User.id == user_id).scalar_subquery()
    ancestors = select(DeptClosure.ancestor_id).where(DeptClosure.descendant_id == dept_of_user)
    return or_(Notice.audience_all.is_(True),
               exists().where(notice_role.c.notice_id == Notice.id, notice_role.c.role_id.in_(roles)),
               exists().where(notice_dept.c.notice_id == Notice.id, notice_dept.c.dept_id.in_(ancestors)))


def _published_for(user_id: int) -> Any:
    return Notice.live().where(Notice.status == PUBLISHED, visible_to(user_id))


def _unread_select(user_id: int) -> Any:
    read = exists().where(NoticeRead.notice_id == Notice.id, NoticeRead.user_id == user_id)
    return (select(func.count()).select_from(Notice)
            .where(Notice.deleted_at.is_(None), Notice.status == PUBLISHED, visible_to(user_id), ~read))


def unread_count(principal: Principal | None) -> int:
    if principal is None or principal.kind != "user":
        return 0  # an open account is nobody's audience
    return int(db.session.execute(_unread_select(principal.id)).scalar_one())


def bell_counts(principal: Principal | None) -> dict[str, int]:
    """The top bar's one bell: unread mail and unread notices of the principal, in one statement."""
    if principal is None or principal.kind != "user":
        return {"mail": 0, "notices": 0, "total": 0}
    mail, notices = db.session.execute(select(unread_count_select(principal.id).scalar_subquery(),
                                              _unread_select(principal.id).scalar_subquery())).one()
    return {"mail": int(mail), "notices": int(notices), "total": int(mail) + int(notices)}


def mine(principal: Principal | None, page: int = 1, page_size: int = 10) -> tuple[Page, int]:
    """The published notices for the principal, newest first, each with `read`; and the principal's unread count."""
    if principal is None or principal.kind != "user":
        return Page([], 0, page, page_size), 0
    read_at = (select(NoticeRead.read_at).where(NoticeRead.notice_id == Notice.id,
                                                NoticeRead.user_id == principal.id)
               .correlate(Notice).scalar_subquery())
    stmt = (_published_for(principal.id).add_columns(read_at)
            .order_by(Notice.published_at.desc(), Notice.id.desc()))
    result = paginate(stmt, page, page_size, scalars=False)
    audiences = _audiences([row[0].id for row in result.items])
    result.items = [_item(row[0], audiences[row[0].id], read=row[1] is not None) for row in result.items]
    return result, unread_count(principal)


def readable_ids(principal: Principal | None, notice_ids: Iterable[int]) -> set[int]:
    """Those of `notice_ids` the principal may open on the reading page (`read_notice`): published, to them."""
    ids = list(notice_ids)
    if principal is None or principal.kind != "user" or not ids:
        return set()
    return set(db.session.execute(_published_for(principal.id).with_only_columns(Notice.id)
                                  .where(Notice.id.in_(ids))).scalars())


def read_notice(notice_id: int, principal: Principal | None) -> dict[str, Any]:
    """One published notice of the principal's audience, marked read by them (once: the first time is kept)."""
    if principal is None or principal.kind != "user":
        raise NotFound(gettext("通知公告不存在"))
    notice = db.session.execute(_published_for(principal.id).where(Notice.id == notice_id)).scalar_one_or_none()
    if notice is None:
        raise NotFound(gettext("通知公告不存在"))
    _insert_read(notice.id, principal.id)
    db.session.commit()
    return _item(notice, _audiences([notice.id])[notice.id], read=True)


def _insert_read(notice_id: int, user_id: int) -> None:
    """A receipt, unless there is one: the same statement on both databases (ON CONFLICT DO NOTHING), so two
    tabs opening the notice at once never fail."""
    values = {"notice_id": notice_id, "user_id": user_id, "read_at": utcnow()}
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    db.session.execute(dialect_insert(NoticeRead).values(**values).on_conflict_do_nothing())


def audience_users(notice: Notice) -> ColumnElement[bool]:
    """A condition on `sys_user`: the user is in the notice's audience."""
    if notice.audience_all:
        return true()
    in_roles = User.id.in_(select(user_role.c.user_id).join(notice_role, notice_role.c.role_id == user_role.c.role_id)
                           .join(Role, and_(Role.id == user_role.c.role_id, Role.deleted_at.is_(None)))
                           .where(notice_role.c.notice_id == notice.id))
    in_depts = User.dept_id.in_(select(DeptClosure.descendant_id)
                                .join(notice_dept, notice_dept.c.dept_id == DeptClosure.ancestor_id)
                                .where(notice_dept.c.notice_id == notice.id))
    return or_(in_roles, in_depts)


def _receipts_stmt(notice: Notice, users_within: ColumnElement[bool] | None) -> Any:
    stmt = (select(User.id, User.name, User.phone, Dept.name, NoticeRead.read_at)
            .outerjoin(NoticeRead, and_(NoticeRead.notice_id == notice.id, NoticeRead.user_id == User.id))
            .outerjoin(Dept, Dept.id == User.dept_id)
            .where(User.deleted_at.is_(None), audience_users(notice)))
    # the principal's data scope (issue 21) unless the principal names another condition: one added condition
    return stmt.where(current_scope().user_clause() if users_within is None else users_within)


def page_readers(notice_id: int, filters: Mapping[str, Any], page: int = 1, page_size: int = 10, *,
                 users_within: ColumnElement[bool] | None = None) -> Page:
    """Read receipts: the audience's live users (within `users_within`, a condition on `sys_user`; None:
    all), who read first (latest first), then who has not; `read` filters true/false, `name` contains."""
    notice = get_notice(notice_id)
    stmt = _receipts_stmt(notice, users_within)
    if filters.get("read") is not None:
        stmt = stmt.where(NoticeRead.read_at.is_not(None) if filters["read"] else NoticeRead.read_at.is_(None))
    if (name := str(filters.get("name") or "").strip()):
        stmt = stmt.where(search.contains(User.name, name, db.engine.dialect.name))
    # who read first (false sorts before true on both databases), the latest reader first
    result = paginate(stmt.order_by(NoticeRead.read_at.is_(None), NoticeRead.read_at.desc(), User.id),
                      page, page_size, scalars=False)
    result.items = [{"user_id": r[0], "name": r[1], "phone": r[2], "dept_name": r[3], "read": r[4] is not None,
                     "read_at": r[4]} for r in result.items]
    return result


def receipt_counts(notice_id: int, *, users_within: ColumnElement[bool] | None = None) -> dict[str, int]:
    """How many of the audience (within `users_within`) read the notice, and how many it has."""
    notice = get_notice(notice_id)
    inner = _receipts_stmt(notice, users_within).subquery()
    total, read = db.session.execute(select(func.count(), func.count(inner.c.read_at)).select_from(inner)).one()
    return {"total": int(total), "read": int(read), "unread": int(total) - int(read)}


def latest_for(principal: Principal | None, limit: int = 5) -> list[dict[str, Any]]:
    """The home page's list: the newest published notices for the principal, with `read`."""
    result, _ = mine(principal, 1, limit)
    return result.items

