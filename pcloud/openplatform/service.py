"""Open-platform accounts: sign-in by secureId + secureKey; an OPEN token carries the account's roles."""

from __future__ import annotations

from sqlalchemy import select

from pcloud.auth.models import UserSession
from pcloud.auth.passwords import verify_password
from pcloud.core.errors import Forbidden, Unauthorized
from pcloud.core.security import Principal
from pcloud.extensions import db
from pcloud.openplatform.models import OpenAccount

STATE_NAMES = {0: "正常", 1: "禁用", 2: "冻结"}


def authenticate(secure_id: str, secure_key: str) -> OpenAccount:
    account = db.session.execute(
        OpenAccount.live().where(OpenAccount.secure_id == (secure_id or "").strip())).scalar_one_or_none()
    if account is None or not verify_password(secure_key or "", account.secure_key_hash if account else None):
        raise Unauthorized("secureId 或 secureKey 错误")
    if account.state != 0:
        raise Forbidden(f"开放平台账号已{STATE_NAMES.get(account.state, '停用')}")
    return account


def principal_for_session(sess: UserSession, token: str, version: int) -> Principal | None:
    account = db.session.execute(
        select(OpenAccount).where(OpenAccount.id == sess.open_account_id, OpenAccount.deleted_at.is_(None),
                                  OpenAccount.state == 0)).scalar_one_or_none()
    if account is None:
        return None
    live_roles = [r for r in account.roles if r.deleted_at is None]
    return Principal(kind="open", id=account.id, name=account.name, phone=None, avatar=None,
                     role_ids=frozenset(r.id for r in live_roles),
                     role_codes=frozenset(r.role_code for r in live_roles),
                     session_id=sess.id, token=token, perm_version=version)
