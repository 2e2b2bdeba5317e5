"""Open-platform accounts: sign-in by secureId + secureKey; an OPEN token carries the account's roles."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from typing import Any

from flask_babel import gettext, lazy_gettext, pgettext
from sqlalchemy import bindparam, delete, insert, select

from pcloud.access import permissions
from pcloud.access.models import role_resource
from pcloud.core.database import taken_meanwhile
from pcloud.core.errors import Conflict, Forbidden, Invalid, NotFound
from pcloud.core.messages import N_
from pcloud.core.paging import Page, paginate
from pcloud.core.passwords import hash_password
from pcloud.core.routing import GRANT_METHODS
from pcloud.core.security import Principal
from pcloud.core.sorting import ordered
from pcloud.core.timefmt import utcnow
from pcloud.core.tree import serialise_tree
from pcloud.datascope import service as datascope
from pcloud.extensions import db
from pcloud.openplatform.models import OpenAccount, open_account_role
from pcloud.resources import service as resources_service
from pcloud.resources.models import Resource
from pcloud.roles.models import Role
from pcloud.sessions.service import revoke_open_sessions


def state_names() -> dict[int, str]:
    """The states as the reader says them: the context keeps them apart from the buttons' verbs (禁用 Disabled,
    not Disable)."""
    return {0: pgettext("account state", "正常"), 1: pgettext("account state", "禁用"),
            2: pgettext("account state", "冻结")}


# Sign-in refusals are also login-log reasons, stored as the source text and shown translated: auth says them
# with gettext() when it refuses.
KEY_REFUSED = N_("secureId 或 secureKey 错误")
_STATE_REFUSALS = {1: N_("开放平台账号已禁用"), 2: N_("开放平台账号已冻结")}


def state_refusal(state: int) -> str:
    """Why an account that is not normal cannot sign in (the OPEN grant's 403; the check is auth.service's):
    the source text, as KEY_REFUSED."""
    return _STATE_REFUSALS.get(state, N_("开放平台账号已停用"))


# Built once: the principal's live account with its live roles (the hidden one included), one query per request.
_PRINCIPAL = (
    select(OpenAccount.id, OpenAccount.name, Role.id, Role.role_code)
    .select_from(OpenAccount)
    .outerjoin(open_account_role, open_account_role.c.account_id == OpenAccount.id)
    .outerjoin(Role, (Role.id == open_account_role.c.role_id) & Role.deleted_at.is_(None))
    .where(OpenAccount.id == bindparam("account_id"), OpenAccount.deleted_at.is_(None), OpenAccount.state == 0))


# account id -> (permission version, name, role ids, role codes). Every change to an account or its grants
# bumps the permission version in its own transaction, so an entry is only used while nothing changed;
# revocation itself needs no cache entry: a disabled, reset or deleted account's sessions are revoked rows.
_principals: dict[int, tuple[int, str, frozenset[int], frozenset[str]]] = {}


def principal_for_session(sess: Any, token: str, version: int) -> Principal | None:
    cached = _principals.get(sess.open_account_id)
    if cached is None or cached[0] != version:
        rows = db.session.execute(_PRINCIPAL, {"account_id": sess.open_account_id}).all()
        if not rows:
            _principals.pop(sess.open_account_id, None)
            return None
        roles = [(role_id, code) for _, _, role_id, code in rows if role_id is not None]
        cached = (version, rows[0][1], frozenset(r[0] for r in roles), frozenset(r[1] for r in roles))
        if len(_principals) > 10_000:  # bounded: a process serving many accounts just reloads
            _principals.clear()
        _principals[sess.open_account_id] = cached
    return Principal(kind="open", id=sess.open_account_id, name=cached[1], phone=None, avatar=None,
                     role_ids=cached[2], role_codes=cached[3], session_id=sess.id, token=token,
                     perm_version=version)


# ---------------------------------------------------------------------------------------------
# Accounts (开放账号)
#
# Each account owns one hidden role (sys_role.hidden, linked through sys_open_account_role) whose
# resources are the catalogue entries granted to it. An OPEN token carries that role, so the one
# permission check of access.permissions decides its calls exactly as it does a user's.

STATUSES = (0, 1, 2)
KEY_ONCE = N_("密钥只在创建或重置时显示一次，系统不保存明文；如遗失请重置密钥")


def _hidden_role(account: OpenAccount) -> Role | None:
    return next((r for r in account.roles if r.hidden and r.deleted_at is None), None)


def get_account(account_id: int) -> OpenAccount:
    account = db.session.execute(OpenAccount.live().where(OpenAccount.id == account_id)).scalar_one_or_none()
    if account is None:
        raise NotFound(gettext("开放平台账号不存在"))
    return account


def account_item(account: OpenAccount) -> dict[str, Any]:
    return {"id": account.id, "name": account.name, "secure_id": account.secure_id, "status": account.state,
            "status_name": state_names().get(account.state, str(account.state)), "remark": account.remark,
            "gmt_created_date": account.gmt_created_date, "gmt_created_name": account.gmt_created_name,
            "gmt_modified_date": account.gmt_modified_date, "gmt_modified_name": account.gmt_modified_name}


ACCOUNT_SORTS = {"name": OpenAccount.name, "gmtCreatedDate": OpenAccount.gmt_created_date}


def page_accounts(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    stmt = OpenAccount.live()
    name = (filters.get("name") or "").strip()
    if name:
        stmt = stmt.where(OpenAccount.name.contains(name, autoescape=True))
    if filters.get("status") is not None:
        stmt = stmt.where(OpenAccount.state == filters["status"])
    result = paginate(ordered(stmt, ACCOUNT_SORTS, filters, OpenAccount.id.desc()), page, page_size)
    result.items = [account_item(a) for a in result.items]
    return result


def _clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid(gettext("账号名称不能为空"), field="name")
    if len(name) > 64:
        raise Invalid(gettext("账号名称不能超过 %(max)d 个字符", max=64), field="name")
    return name


DUPLICATE_ACCOUNT_NAME = N_("已有同名的开放平台账号，请换一个名称")


def _check_account_name_free(name: str, exclude_id: int | None = None) -> None:
    stmt = select(OpenAccount.id).where(OpenAccount.name == name, OpenAccount.deleted_at.is_(None))
    if exclude_id:
        stmt = stmt.where(OpenAccount.id != exclude_id)
    with db.session.no_autoflush:  # asked before a changed name is written (the index would refuse it)
        taken = db.session.execute(stmt.limit(1)).first() is not None
    if taken:
        raise Conflict(gettext(DUPLICATE_ACCOUNT_NAME), errors={"name": [gettext(DUPLICATE_ACCOUNT_NAME)]})


def _clean_remark(remark: str | None) -> str | None:
    remark = (remark or "").strip()
    if len(remark) > 500:
        raise Invalid(gettext("备注不能超过 %(max)d 个字符", max=500), field="remark")
    return remark or None


def _new_key() -> str:
    return secrets.token_urlsafe(32)


def create_account(data: dict[str, Any]) -> tuple[OpenAccount, str]:
    """A new account with a fresh secureId and secureKey; the key is returned here and never again."""
    key = _new_key()
    name = _clean_name(data.get("name"))
    _check_account_name_free(name)
    account = OpenAccount(name=name, remark=_clean_remark(data.get("remark")),
                          secure_id="op_" + secrets.token_hex(12), secure_key_hash=hash_password(key), state=0)
    # the live-name index refuses a name a concurrent create took first, at the flush for the id
    with taken_meanwhile(lambda: _check_account_name_free(name)):
        db.session.add(account)
        db.session.flush()
        role = Role(name=f"开放账号 {account.id}", role_code=f"OPEN_ACCOUNT_{account.id}", hidden=True)
        db.session.add(role)
        db.session.flush()
        db.session.execute(insert(open_account_role).values(account_id=account.id, role_id=role.id))
        permissions.bump_version()
        db.session.commit()
    return account, key


ACCOUNT_BEYOND = N_("该开放平台账号的权限超出了您的权限范围，不能修改、授权、重置密钥、改变状态或删除")


def account_refusals(account_ids: Iterable[int]) -> dict[int, str]:
    """Why the signed-in principal may not manage each of these accounts (absent: they may), asked once for a page
    of them in a few queries. An account is as strong as what it holds, and its key is that strength: whoever resets
    it (or enables, renames, grants or deletes the account) must reach all of it, as a granter must (a review reset
    the key of an account holding the user routes as an admin of one department, signed in as it, and reset
    passwords in every department; another took every entry away through 授权 and then deleted the account its
    delete had refused). An account holding nothing is anyone's to manage."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    held: dict[int, tuple[int, set[int]]] = {}  # account -> (its hidden role, the live entries it holds)
    for account_id, role_id, entry_id in db.session.execute(
            select(open_account_role.c.account_id, Role.id, role_resource.c.resource_id)
            .join(Role, Role.id == open_account_role.c.role_id)
            .join(role_resource, role_resource.c.role_id == Role.id)
            .join(Resource, Resource.id == role_resource.c.resource_id)
            .where(open_account_role.c.account_id.in_(ids), Role.hidden.is_(True), Role.deleted_at.is_(None),
                   Resource.deleted_at.is_(None))
            .order_by(open_account_role.c.account_id, Role.id)):
        role, entries = held.setdefault(account_id, (role_id, set()))
        if role == role_id:  # the first hidden role, as `_hidden_role`
            entries.add(entry_id)
    beyond = permissions.beyond_reach(resource_ids={e for _role, entries in held.values() for e in entries})[1]
    within = {role: sorted(entries) for role, entries in held.values() if not entries & beyond}
    grant_refusals = _reach_refusals(within)  # the grant's own rule: all data, every executor
    return {account_id: gettext(ACCOUNT_BEYOND) for account_id, (role, entries) in held.items()
            if entries & beyond or role in grant_refusals}


def account_refusal(account: OpenAccount) -> str | None:
    """Why the signed-in principal may not manage this account (None: they may): `account_refusals`."""
    return account_refusals([account.id]).get(account.id)


SESSION_BEYOND = N_("该开放平台账号的权限超出了您的权限范围，不能强退它的会话")


def sign_out_refusals(account_ids: Iterable[int]) -> dict[int, str]:
    """Why the signed-in principal may not end these accounts' sessions (absent: they may), for a page of sessions
    at once: whoever ends an account's session (the online list's kick) must reach the account, as its 状态 and
    重置密钥 need, as a user whose roles reach further than the principal's is not theirs to sign out."""
    return {account_id: gettext(SESSION_BEYOND) for account_id in account_refusals(account_ids)}


def _require_account_reached(account: OpenAccount) -> None:
    """403 with `account_refusal`'s reason, before any change of the account."""
    refusal = account_refusal(account)
    if refusal:
        raise Forbidden(refusal)


def modify_account(data: dict[str, Any]) -> OpenAccount:
    account = get_account(data["id"])
    _require_account_reached(account)
    account_id, name = account.id, account.name
    if data.get("name") is not None:
        name = _clean_name(data["name"])
        _check_account_name_free(name, account_id)
    remark = _clean_remark(data["remark"]) if "remark" in data else account.remark
    # the permission version's update autoflushes the name: a concurrent rename into it trips the index there
    with taken_meanwhile(lambda: _check_account_name_free(name, account_id)):
        account.name, account.remark = name, remark
        permissions.bump_version()  # the cached principal carries the name
        db.session.commit()
    return account


def set_status(account_id: int, status: int) -> OpenAccount:
    if status not in STATUSES:
        raise Invalid(gettext("状态必须是 0（正常）、1（禁用）或 2（冻结）"), field="status")
    account = get_account(account_id)
    _require_account_reached(account)
    account.state = status
    if status != 0:
        revoke_open_sessions(account.id, "open-status")
    permissions.bump_version()  # drops cached principals, even of a session opened during this change
    db.session.commit()
    return account


def reset_key(account_id: int) -> str:
    account = get_account(account_id)
    _require_account_reached(account)
    key = _new_key()
    account.secure_key_hash = hash_password(key)
    revoke_open_sessions(account.id, "open-reset-key")
    permissions.bump_version()
    db.session.commit()
    return key


def delete_account(account_id: int) -> OpenAccount:
    account = get_account(account_id)
    _require_account_reached(account)
    account.soft_delete()
    role = _hidden_role(account)
    if role is not None:
        role.soft_delete()
        db.session.execute(delete(role_resource).where(role_resource.c.role_id == role.id))
    revoke_open_sessions(account.id, "open-deleted")
    permissions.bump_version()
    db.session.commit()
    return account


# ---------------------------------------------------------------------------------------------
# The interface catalogue (接口目录): access resources under one group resource, granted per account

CATALOGUE_CODE = "open.catalogue"
# Names written by `pcloud init` (stored in Chinese, shown through the `translated` filter)
CATALOGUE_NAME = N_("开放平台接口目录")
# Put in the catalogue by `pcloud init` (code -> entry): the ID service.
BUILTIN_ENTRIES = {
    "open.segment.get": {"name": N_("号段取号（单个）"), "resource_url": "/api/integration/segment/get/{bizTag}",
                         "method": "GET"},
    "open.segment.batch": {"name": N_("号段取号（批量）"),
                           "resource_url": "/api/integration/segment/batch/{bizTag}/{count}", "method": "GET"},
}
resources_service.reserve_subtree(
    CATALOGUE_CODE, lazy_gettext("开放平台接口目录由「开放平台 › 接口目录」维护，不能在访问资源中修改、删除或新增下级"))
_URL_OK = re.compile(r"^/api/[^\s?#]*$")


def catalogue_group(create: bool = False) -> Resource | None:
    group = db.session.execute(select(Resource).where(Resource.code == CATALOGUE_CODE,
                                                      Resource.deleted_at.is_(None))).scalar_one_or_none()
    if group is None and create:
        group = Resource(parent_id=0, name=CATALOGUE_NAME, resource_url="", method="*", biz_type=0,
                         built_in=False, code=CATALOGUE_CODE)
        db.session.add(group)
        db.session.flush()
    return group


def ensure_catalogue() -> dict[str, int]:
    """`pcloud init` / `pcloud sync`: the catalogue group and the ID-service entries. Idempotent and safe from several
    processes at once (INSERT ... ON CONFLICT (code) DO NOTHING). A built-in row an older version let be deleted
    keeps its code, which the insert skips: it is brought back as written here, with its id and held by nobody.
    Their `built_in` stays false: the access resources' sync would retire a built-in whose code is no route of
    its own; the code marks them (`is_builtin_entry`)."""
    group_values = {"parent_id": 0, "name": CATALOGUE_NAME, "resource_url": "", "method": "*", "biz_type": 0,
                    "built_in": False}
    created = resources_service.insert_builtin(Resource, CATALOGUE_CODE, group_values)
    restored = _restore_builtin(CATALOGUE_CODE, group_values)
    group_id = db.session.execute(select(Resource.id).where(Resource.code == CATALOGUE_CODE)).scalar_one()
    for code, entry in BUILTIN_ENTRIES.items():
        values = {"parent_id": group_id, "biz_type": 0, "built_in": False, **entry}
        created += resources_service.insert_builtin(Resource, code, values)
        restored += _restore_builtin(code, values)
    if created or restored:
        permissions.bump_version()
    db.session.commit()
    return {"created": created, "restored": restored}


def _restore_builtin(code: str, values: dict[str, Any]) -> int:
    """The row of `code`, soft-deleted, live again as `values` say and granted to no one (a deleted row's grants
    are no one's to regain); 1 if it was deleted."""
    row = db.session.execute(select(Resource).where(Resource.code == code)).scalar_one()
    if row.deleted_at is None:
        return 0
    for key, value in values.items():
        setattr(row, key, value)
    row.deleted_at = None
    permissions.forget_grants(resource_id=row.id)
    return 1


def is_builtin_entry(res: Resource) -> bool:
    """Written by `pcloud init` / `pcloud sync` (the ID service's routes), known by its code: nobody deletes it nor
    changes its path or method (its name may change)."""
    return res.code in BUILTIN_ENTRIES


BUILT_IN_UNDELETABLE = N_("内置接口不能删除")
BUILT_IN_FIXED = N_("内置接口的路径和请求方式不能修改，只能修改名称")
BEYOND_REACH = N_("该接口超出了您的权限范围（您自己不能调用它），不能修改或删除：授权了它的账号都会随之改变")


def beyond_reach_entry_ids(entry_ids: Iterable[int]) -> set[int]:
    """The entries among these the signed-in principal may neither modify nor delete, asked once for all of them:
    the ones they could not call themselves, which they may not grant either (the reach rule,
    `access.permissions.beyond_reach`: every account holding an entry changes with it; the super administrator
    reaches everything)."""
    return permissions.beyond_reach(resource_ids=entry_ids)[1]


def entry_refusal(res: Resource) -> str | None:
    """Why the principal may not modify or delete this entry (`beyond_reach_entry_ids`); None: they may."""
    return gettext(BEYOND_REACH) if beyond_reach_entry_ids([res.id]) else None


def _require_entry_reached(res: Resource) -> None:
    refusal = entry_refusal(res)
    if refusal:
        raise Forbidden(refusal)


def _catalogue_select() -> Any:
    group = catalogue_group()
    return Resource.live().where(Resource.parent_id == (group.id if group else -1))


def entry_item(res: Resource, granted: bool | None = None) -> dict[str, Any]:
    item = {"id": res.id, "name": res.name, "resource_url": res.resource_url, "method": res.method,
            "built_in": is_builtin_entry(res),
            "gmt_created_date": res.gmt_created_date, "gmt_created_name": res.gmt_created_name,
            "gmt_modified_date": res.gmt_modified_date, "gmt_modified_name": res.gmt_modified_name}
    if granted is not None:
        item["permission"] = granted
    return item


def _name_filter(stmt: Any, name: str | None) -> Any:
    name = (name or "").strip()
    return stmt.where(Resource.name.contains(name, autoescape=True)) if name else stmt


def page_entries(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    result = paginate(_name_filter(_catalogue_select(), filters.get("name")).order_by(Resource.id), page, page_size)
    result.items = [entry_item(r) for r in result.items]
    return result


def list_entries(name: str | None = None) -> list[Resource]:
    return list(db.session.execute(_name_filter(_catalogue_select(), name).order_by(Resource.id)).scalars())


def get_entry(entry_id: int) -> Resource:
    res = db.session.execute(_catalogue_select().where(Resource.id == entry_id)).scalar_one_or_none()
    if res is None:
        raise NotFound(gettext("接口目录中没有该接口"))
    return res


def _clean_entry(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if not partial or data.get("name") is not None:
        name = (data.get("name") or "").strip()
        if not name or len(name) > 128:
            raise Invalid(gettext("接口名称不能为空，且不超过 %(max)d 个字符", max=128), field="name")
        values["name"] = name
    if not partial or data.get("resource_url") is not None:
        url = (data.get("resource_url") or "").strip()
        if not _URL_OK.match(url) or len(url) > 255:
            raise Invalid(gettext("接口路径须是 /api/ 下的路由模式，如 /api/integration/segment/get/{bizTag}"),
                          field="resourceUrl")
        values["resource_url"] = url
    if not partial or data.get("method") is not None:
        method = (data.get("method") or "*").strip().upper()
        if method not in GRANT_METHODS:
            raise Invalid(gettext("请求方式必须是 GET、POST、PUT、DELETE 或 *"), field="method")
        values["method"] = method
    return values


NO_ROUTE = N_("接口路径与请求方式没有匹配到任何 API 路由")
WIDENING = N_(
    "接口「%(name)s」已授权给账号，不能扩大其范围（否则这些账号的权限会一起扩大）；请新建一个接口并授权给需要的账号")


def _require_route_and_reach(method: str, url: str) -> None:
    """An entry names at least one real route (422), and only routes the principal may call (403): the reach
    rule of roles, in access.permissions, so the catalogue is never a way around one's own grants."""
    if not permissions.matches_a_route(method, url):
        raise Invalid(gettext(NO_ROUTE), field="resourceUrl")
    permissions.require_pattern_reach(method, url)


def create_entry(data: dict[str, Any]) -> Resource:
    values = _clean_entry(data, partial=False)
    _require_route_and_reach(values["method"], values["resource_url"])
    group = catalogue_group(create=True)
    assert group is not None
    res = Resource(parent_id=group.id, biz_type=0, built_in=False, **values)
    db.session.add(res)
    permissions.bump_version()
    db.session.commit()
    return res


def _granted_anywhere(entry_id: int) -> bool:
    """Held by a live role (an account's hidden role, or any other): widening it would widen them."""
    return db.session.execute(
        select(role_resource.c.role_id).join(Role, Role.id == role_resource.c.role_id)
        .where(role_resource.c.resource_id == entry_id, Role.deleted_at.is_(None)).limit(1)).first() is not None


def modify_entry(data: dict[str, Any]) -> Resource:
    res = get_entry(data["id"])
    _require_entry_reached(res)
    values = _clean_entry(data, partial=True)
    method, url = values.get("method", res.method), values.get("resource_url", res.resource_url)
    if (method, url) != (res.method, res.resource_url):
        if is_builtin_entry(res):  # what `pcloud init` wrote for the ID service: the accounts granted it call that
            raise Conflict(gettext(BUILT_IN_FIXED))
        _require_route_and_reach(method, url)
        if permissions.pattern_widens(res.method, res.resource_url, method, url) and _granted_anywhere(res.id):
            raise Conflict(gettext(WIDENING, name=res.name))
    for key, value in values.items():
        setattr(res, key, value)
    permissions.bump_version()
    db.session.commit()
    return res


def grantees(entry_id: int) -> list[str]:
    """Names of live accounts granted the entry."""
    rows = db.session.execute(
        select(OpenAccount.name).join(open_account_role, open_account_role.c.account_id == OpenAccount.id)
        .join(role_resource, role_resource.c.role_id == open_account_role.c.role_id)
        .where(role_resource.c.resource_id == entry_id, OpenAccount.deleted_at.is_(None)))
    return [r[0] for r in rows]


def delete_entry(entry_id: int) -> Resource:
    serialise_tree(Resource)  # no grant of it meanwhile (`grant` reads the catalogue under the same lock)
    res = get_entry(entry_id)
    if is_builtin_entry(res):
        raise Conflict(gettext(BUILT_IN_UNDELETABLE))
    _require_entry_reached(res)
    holders = grantees(res.id)
    if holders:
        raise Conflict(gettext("接口「%(name)s」仍授权给 %(n)s 个账号（%(accounts)s），请先取消这些账号的授权",
                               name=res.name, n=len(holders), accounts=gettext("、").join(holders[:5])))
    resources_service.discard(res)  # as an access resource's delete: no role holds it any more (a user's role too)
    permissions.bump_version()
    db.session.commit()
    return res


def granted_entry_ids(account: OpenAccount) -> set[int]:
    role = _hidden_role(account)
    if role is None:
        return set()
    return {r[0] for r in db.session.execute(
        select(role_resource.c.resource_id).where(role_resource.c.role_id == role.id))}


def locked_entry_ids(account: OpenAccount, entry_ids: Iterable[int]) -> set[int]:
    """The entries the grant page shows but does not let the caller tick: beyond their own reach (the rule
    `grant` applies) and not granted to the account now (what it holds may be kept or taken away)."""
    return permissions.beyond_reach(resource_ids=entry_ids)[1] - granted_entry_ids(account)


def account_permissions(account_id: int, name: str | None = None) -> list[dict[str, Any]]:
    account = get_account(account_id)
    granted = granted_entry_ids(account)
    return [entry_item(r, r.id in granted) for r in list_entries(name)]


def page_account_permissions(account_id: int, name: str | None, page: int, page_size: int | None) -> Page:
    """One page of the catalogue marked with the account's grants; no `page_size`: the whole of it."""
    account = get_account(account_id)
    granted = granted_entry_ids(account)
    stmt = _name_filter(_catalogue_select(), name).order_by(Resource.id)
    if page_size is None:
        items = list(db.session.execute(stmt).scalars())
        result = Page(items, len(items), 1, max(len(items), 1))
    else:
        result = paginate(stmt, page, page_size)
    result.items = [entry_item(r, r.id in granted) for r in result.items]
    return result


def _reach_refusals(role_entries: dict[int, list[int]]) -> dict[int, str]:
    """An account belongs to no department and lists no executor: its hidden role's data scope is everyone's
    and, once an entry opens the job console, it reaches every executor. So only a granter who reaches that
    much may add entries to it, as for a role they hand out, or manage an account holding them: hidden role id ->
    the reason, for each of these roles (holding those entries) refused, asked at once for a page of accounts."""
    executors = permissions.job_group_refusals(role_entries)
    refusals: dict[int, str] = {}
    for role_id in role_entries:
        if datascope.roles_refusal([role_id]):
            refusals[role_id] = gettext("开放平台账号的数据范围是全部数据，超出了您的数据权限，不能给它授权")
        elif role_id in executors:
            refusals[role_id] = gettext("开放平台账号不限执行器，超出了您能管理的执行器，不能给它授予任务调度的接口")
    return refusals


def grant(account_id: int, entry_ids: list[int]) -> OpenAccount:
    """Exactly these catalogue entries from now on; an id outside the catalogue: 422, nothing changed. The
    catalogue read stays so until the commit (an entry's delete waits: core.tree.serialise_tree)."""
    serialise_tree(Resource)
    account = get_account(account_id)
    _require_account_reached(account)  # taking entries away changes it too: the account's rule, as for a role
    wanted = sorted(set(entry_ids or []))
    known = {r.id for r in list_entries()}
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise Invalid(gettext("授权中包含接口目录里没有的接口，未做任何修改"),
                      errors={"resourceIds": [gettext("不在接口目录中：%(ids)s",
                                                      ids=", ".join(map(str, unknown[:20])))]})
    # Only what is added must lie within the granter's reach, as for a role: keeping a grant is no escalation.
    added = set(wanted) - granted_entry_ids(account)
    permissions.require_within_reach(resource_ids=added)
    role = _hidden_role(account)
    if role is None:  # an account made before hidden roles existed
        role = Role(name=f"开放账号 {account.id}", role_code=f"OPEN_ACCOUNT_{account.id}", hidden=True)
        db.session.add(role)
        db.session.flush()
        db.session.execute(insert(open_account_role).values(account_id=account.id, role_id=role.id))
    if added and (refusal := _reach_refusals({role.id: wanted}).get(role.id)):
        raise Forbidden(refusal)
    db.session.execute(delete(role_resource).where(role_resource.c.role_id == role.id))
    if wanted:
        db.session.execute(insert(role_resource), [{"role_id": role.id, "resource_id": i} for i in wanted])
    account.gmt_modified_date = utcnow()
    permissions.bump_version()
    db.session.commit()
    return account


def refresh(account_id: int) -> None:
    get_account(account_id)
    permissions.bump_version()
    db.session.commit()
