"""Sign-in rules: password, SMS and OPEN grants, loading the principal from a session, the login lock.

The sessions themselves (open, revoke, online) are `pcloud.sessions`, below this module and `users`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypeVar

from flask import Flask, current_app
from flask_babel import gettext
from sqlalchemy import bindparam, func, select, update

from pcloud.access.models import PermissionVersion
from pcloud.auth.models import LoginLock, SmsCode
from pcloud.auth.sms import sign_in_code_delivery
from pcloud.core.background import run_in_background
from pcloud.core.database import ChangeSignal, change_signal, read_outside_transaction, serialise, write_lock_first
from pcloud.core.errors import BadCredentials, Forbidden, Invalid, NotFound, PCloudError, TooManyRequests
from pcloud.core.i18n import said
from pcloud.core.messages import N_
from pcloud.core.passwords import hash_password, needs_rehash, verify_password
from pcloud.core.security import SUPER_ADMIN, Principal, current_principal
from pcloud.core.timefmt import utcnow
from pcloud.datascope import service as datascope
from pcloud.extensions import db
from pcloud.loginlog import service as login_log
from pcloud.openplatform import service as open_service
from pcloud.openplatform.models import OpenAccount
from pcloud.params.service import value as param
from pcloud.roles.models import Role
from pcloud.sessions import service as sessions
from pcloud.sessions.models import UserSession
from pcloud.sessions.service import MAX_TOKEN_LENGTH, hash_token
from pcloud.users import service as user_service
from pcloud.users.lookups import phone_is_valid
from pcloud.users.models import User, user_role

log = logging.getLogger(__name__)
E = TypeVar("E", bound=PCloudError)
GRANT_TYPES = ("ADMIN", "SMS", "OPEN")
BAD_CREDENTIALS = N_("手机号或密码错误")
SMS_CODE_WRONG = N_("验证码错误或已过期，请重新获取")
# A wrong secret once this few attempts (or fewer) are left before a lock (its key's or its address's) says how many
# (as RuoYi does)
WARN_WHEN_LEFT = 2


class LockWarnings(NamedTuple):
    """A wrong secret's refusal in its own first words, near a lock and at the failure that locks it: its key's (a
    phone's, a secureId's) and its client address's."""

    warning: str
    locked: str
    address_warning: str
    address_locked: str


# Each wrong-secret refusal of a locked key. One rule (`_wrong_secret`) for the password and the SMS code (the phone's
# lock), the OPEN grant's key (the secureId's) and the old password of a password change (the phone's); every one
# counts against its address's lock too.
LOCK_WARNINGS = {
    BAD_CREDENTIALS: LockWarnings(N_("手机号或密码错误，再错 %(left)s 次将锁定 %(minutes)s 分钟"),
                                  N_("手机号或密码错误，账号已锁定，请 %(minutes)s 分钟后再试"),
                                  N_("手机号或密码错误，该地址再错 %(left)s 次将锁定 %(minutes)s 分钟"),
                                  N_("手机号或密码错误，该地址已锁定，请 %(minutes)s 分钟后再试")),
    SMS_CODE_WRONG: LockWarnings(N_("验证码错误或已过期，再错 %(left)s 次将锁定 %(minutes)s 分钟"),
                                 N_("验证码错误或已过期，账号已锁定，请 %(minutes)s 分钟后再试"),
                                 N_("验证码错误或已过期，该地址再错 %(left)s 次将锁定 %(minutes)s 分钟"),
                                 N_("验证码错误或已过期，该地址已锁定，请 %(minutes)s 分钟后再试")),
    open_service.KEY_REFUSED: LockWarnings(
        N_("secureId 或 secureKey 错误，再错 %(left)s 次将锁定 %(minutes)s 分钟"),
        N_("secureId 或 secureKey 错误，账号已锁定，请 %(minutes)s 分钟后再试"),
        N_("secureId 或 secureKey 错误，该地址再错 %(left)s 次将锁定 %(minutes)s 分钟"),
        N_("secureId 或 secureKey 错误，该地址已锁定，请 %(minutes)s 分钟后再试")),
    user_service.OLD_PASSWORD_WRONG: LockWarnings(N_("原密码不正确，再错 %(left)s 次将锁定 %(minutes)s 分钟"),
                                                  N_("原密码不正确，账号已锁定，请 %(minutes)s 分钟后再试"),
                                                  N_("原密码不正确，该地址再错 %(left)s 次将锁定 %(minutes)s 分钟"),
                                                  N_("原密码不正确，该地址已锁定，请 %(minutes)s 分钟后再试")),
}
LAST_SEEN_EVERY = timedelta(seconds=60)


# Built once (statement construction costs more than the query on a warm cache). One statement, one
# round trip: the live session of a token hash, the permission version, and for a user's session the
# user (not deleted, enabled) with one row per live role (no row of roles: a user with no role); for an
# open account's, whether the account is still live and enabled.
_PRINCIPAL = (
    select(UserSession.id, UserSession.subject, UserSession.user_id, UserSession.open_account_id,
           UserSession.last_seen_at, UserSession.expires_at,
           select(PermissionVersion.version).where(PermissionVersion.id == 1).scalar_subquery().label("version"),
           User.id.label("live_user_id"), User.name, User.phone, User.avatar, User.password_change_required,
           Role.id.label("role_id"), Role.role_code, OpenAccount.id.label("live_open_id"))
    .select_from(UserSession)
    .outerjoin(User, (User.id == UserSession.user_id) & User.deleted_at.is_(None) & (User.state == 0))
    .outerjoin(OpenAccount, (OpenAccount.id == UserSession.open_account_id) & OpenAccount.deleted_at.is_(None)
               & (OpenAccount.state == 0))
    .outerjoin(user_role, user_role.c.user_id == User.id)
    .outerjoin(Role, (Role.id == user_role.c.role_id) & Role.deleted_at.is_(None))
    .where(UserSession.token_hash == bindparam("token_hash"), UserSession.kind == bindparam("kind"),
           UserSession.revoked_at.is_(None), UserSession.expires_at > bindparam("now"))
)


# What the database NOTIFYs when a table the lookup reads changes (migration 0012's triggers).
PRINCIPAL_CHANNEL = "pcloud_caller"
CACHE_SIZE = 10_000
_CACHE = "pcloud.principal_cache"


class PrincipalCache:
    """This process's copy of recent principal lookups (the rows of `_PRINCIPAL`), per (token hash, kind).

    An entry is trusted only while the database's change signal (core.database) holds the value taken
    before the entry was read. The database moves it itself: on PostgreSQL a trigger on each table the
    lookup reads NOTIFYs every listening process of every host at commit; on SQLite (one host) any commit
    to the file moves its data version. So a revocation, a disabled or deleted user, a removed role or a
    grant counts from the next request everywhere, whoever wrote it (another host, a job, psql)."""

    def __init__(self, signal: ChangeSignal) -> None:
        self.signal = signal
        self.mark: object | None = None
        self.entries: dict[tuple[str, str], tuple[object, Sequence[Any]]] = {}

    def rows(self, key: tuple[str, str], read: Callable[[], Sequence[Any]]) -> Sequence[Any]:
        mark = self.signal.current()  # before the read: a change committed meanwhile moves it again
        if mark is None:
            return read()
        if mark != self.mark:
            self.entries, self.mark = {}, mark
        entry = self.entries.get(key)
        if entry is not None and entry[0] == mark:
            return entry[1]
        rows = read()
        if rows and len(self.entries) < CACHE_SIZE:  # bounded: beyond it a principal is just read each time
            self.entries[key] = (mark, rows)
        return rows


def install_principal_cache(app: Flask) -> None:
    """Keep a `PrincipalCache` for this app, on its database's change signal (none: every lookup reads)."""
    with app.app_context():
        signal = change_signal(db.engine, PRINCIPAL_CHANNEL)
    if signal is not None:
        app.extensions[_CACHE] = PrincipalCache(signal)


def _principal_rows(token_hash: str, kind: str, now: datetime) -> Sequence[Any]:
    def read() -> Sequence[Any]:
        return read_outside_transaction(_PRINCIPAL, {"token_hash": token_hash, "kind": kind, "now": now})

    cache: PrincipalCache | None = current_app.extensions.get(_CACHE)
    return read() if cache is None else cache.rows((token_hash, kind), read)


def load_principal(token: str, kind: str) -> Principal | None:
    """The live session behind a raw token, with its user and roles; None if unknown or ended.

    Read in one statement outside any transaction (core.database), or from this process's `PrincipalCache`
    while the database's change signal says nothing it read has changed: a revoked session, a disabled or
    deleted user and a removed role count from the next request on every host. The permission version
    rides along, so the permission cache costs no query.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    now = utcnow()
    rows = _principal_rows(hash_token(token), kind, now)
    if not rows or rows[0].expires_at <= now:  # a kept session may have expired since it was read
        return None
    sess = rows[0]
    version = sess.version or 0
    if sess.subject == "open":
        # deleted or disabled since the session opened (its sessions are revoked then, unless it was done
        # around the app)
        principal = None if sess.live_open_id is None else open_service.principal_for_session(sess, token, version)
    elif sess.live_user_id is None:
        principal = None  # deleted or disabled since the session opened
    else:
        roles = [(r.role_id, r.role_code) for r in rows if r.role_id is not None]
        principal = Principal(kind="user", id=sess.live_user_id, name=sess.name, phone=sess.phone,
                              avatar=sess.avatar, role_ids=frozenset(r[0] for r in roles),
                              role_codes=frozenset(r[1] for r in roles), session_id=sess.id, token=token,
                              perm_version=version, password_change_required=bool(sess.password_change_required))
    if principal is None:
        return None
    if now - sess.last_seen_at > LAST_SEEN_EVERY:  # throttled: not a write per request
        sessions.touch(sess.id, now)
    return principal


def must_change_password(principal: Principal) -> bool:
    """The guard's hook (core.security): a user whose password someone else set, or generated, may do nothing but
    change it (and read their profile, sign out) until they have. An open-platform account never."""
    return principal.kind == "user" and principal.password_change_required


def sign_out(token: str, who: Principal | None = None, ip: str | None = None,
             user_agent: str | None = None) -> None:
    """End the principal's own session (API logout and the page's 退出登录); the login log records it."""
    sessions.revoke_token(token, "logout")
    db.session.commit()
    if who is not None:
        login_log.record("logout", reason=N_("退出登录"), user_id=who.user_id,
                         phone=who.phone if who.kind == "user" else who.name, ip=ip, user_agent=user_agent,
                         grant_type="OPEN" if who.kind == "open" else None)


def change_own_password(user_id: int, old_password: str, new_password: str, *, keep_session_id: int | None,
                        ip: str | None) -> None:
    """The user's own change (API and profile page). The old password is checked as a sign-in checks one: a
    wrong one counts against the phone's lock and the address's, and a locked phone or address is refused
    (429) before it is checked, so a stolen session is no way to guess the password at the server's speed."""
    user = user_service.get_user(user_id)
    key = _phone_key(user.phone)
    counts = reserve_attempt(key, ip)
    try:
        user_service.change_own_password(user_id, old_password, new_password, keep_session_id=keep_session_id)
    except Invalid as exc:
        db.session.rollback()
        if "oldPassword" in (exc.errors or {}):
            record_failure(key, ip, counts)
            refused = _wrong_secret(user_service.OLD_PASSWORD_WRONG, counts, Invalid)
            refused.errors = {"oldPassword": [refused.msg]}
            raise refused from None
        _old_password_right(key, ip)
        raise
    _old_password_right(key, ip)


def _old_password_right(key: str, ip: str | None) -> None:
    clear_failures(key)
    _give_back_address(ip)
    db.session.commit()


def reset_password_by_phone(phone: str, new_password: str) -> User:
    """An operator's reset from the command line: new password, every session revoked, lock lifted."""
    user = user_service.reset_password_by_phone(phone, new_password)
    clear_failures(user.phone)
    db.session.commit()
    return user


# Why a session ended, as the sign-in page tells it (UX.md: the user lands there with the reason).
END_MESSAGES = {
    "expired": N_("会话已过期，请重新登录"),
    "forced": N_("您已被管理员强制下线，请重新登录"),
    "password": N_("密码已修改，请使用新密码重新登录"),
    "disabled": N_("账号已被禁用，如有疑问请联系管理员"),
    "deleted": N_("账号已被删除，如有疑问请联系管理员"),
    "logout": N_("您已退出登录，请重新登录"),
}
END_DEFAULT = N_("登录已失效，请重新登录")
# The same for an API token, as its 401 says it (API.md, Authentication): what the calling system does next
TOKEN_END_MESSAGES = {
    "expired": N_("令牌已过期，请重新登录获取新令牌"),
    "open-reset-key": N_("开放平台账号的密钥已重置，请用新密钥重新登录"),
    "open-status": N_("开放平台账号已被禁用或冻结，令牌已失效"),
    "open-deleted": N_("开放平台账号已被删除"),
}


def session_end_message(token: str, kind: str) -> str | None:
    """For a token that no longer signs anyone in: why, in one sentence (None: never a session here), said as
    `gettext` says it (the operation log stores its source, core.i18n.stored)."""
    sess = sessions.find_session(token, kind)
    if sess is None:
        return None
    said_for = {**END_MESSAGES, **TOKEN_END_MESSAGES} if kind == "api" else END_MESSAGES
    if sess.revoked_at is not None:
        return gettext(said_for.get(sess.revoke_reason or "", END_DEFAULT))
    if sess.expires_at <= utcnow():
        return gettext(said_for["expired"])
    if sess.subject != "open":
        state = db.session.execute(select(User.state, User.deleted_at).where(User.id == sess.user_id)).first()
        if state is None or state.deleted_at is not None:
            return gettext(END_MESSAGES["deleted"])
        if state.state != 0:
            return gettext(END_MESSAGES["disabled"])
    return gettext(END_DEFAULT)


# ---------------------------------------------------------------------------------------------
# Password sign-in and the login lock


# The lock is one counter per phone for both grants (a password guess and an SMS-code guess count
# alike, and a locked phone signs in neither way), plus one per client address, so locking someone
# out locks the attacker's own address too. Counting is atomic in the database: an attempt reserves
# its slot on both counters (INSERT ... ON CONFLICT DO UPDATE SET failures = failures + 1 RETURNING),
# the address's first, before the secret is checked, so N parallel guesses count N and at most
# sys.login.maxFailures per phone and sys.login.maxIpFailures per address (参数设置) are ever checked.
# A sign-in clears the phone's counter and gives its address slot back; so does an attempt the phone's
# lock refused unchecked, for the address (what the address counts is secrets checked and refused).


def _hashed_key(prefix: str, value: str) -> str:
    """A counter's key for what is not a phone, in its own namespace: a secureId or an address spelled like a
    phone cannot count against that phone. Fits the 32-character key column."""
    return prefix + hashlib.sha256(value.encode()).hexdigest()[:32 - len(prefix)]


def _phone_key(phone: str) -> str:
    """A phone's counter is the phone itself (what unlock and the login log name); typed text that no phone
    spells (a colon, which every other namespace's key has, or longer than the column) is hashed into a
    namespace of its own, so a "phone" typed as "ip:<hash>" cannot lock an address out."""
    return phone if ":" not in phone and len(phone) <= 32 else _hashed_key("phone:", phone)


def _ip_key(ip: str | None) -> str:
    return _hashed_key("ip:", ip or "")


def _open_key(secure_id: str) -> str:
    return _hashed_key("open:", secure_id)


def _refusal(error: type[E], source: str, **values: Any) -> E:
    """A sign-in refusal said in the request's language; the login log stores its source text and values
    (`source_msg`, core.i18n.said), said in each reader's language where it is shown."""
    exc = error(gettext(source, **values))
    exc.source_msg = said(source, **values)
    return exc


def _lock_refusal(row_until: Any, now: Any, by_address: bool = False) -> TooManyRequests:
    minutes = max(1, int((row_until - now).total_seconds() // 60) + 1)
    if by_address:
        return _refusal(TooManyRequests, N_("该地址登录失败次数过多，请 %(minutes)s 分钟后再试"), minutes=minutes)
    return _refusal(TooManyRequests, N_("登录失败次数过多，账号已锁定，请 %(minutes)s 分钟后再试"), minutes=minutes)


def _count(key: str) -> tuple[int, Any]:
    """Add one to the key's counter, atomically, and return (count, locked_until) after it.

    A window that has run out, or a lock that has expired, starts the count again at 1.
    """
    from sqlalchemy import and_, case, or_
    from sqlalchemy.dialects import postgresql, sqlite

    now = utcnow()
    cutoff = now - timedelta(minutes=param("sys.login.windowMinutes"))
    table = LoginLock.__table__
    restart = or_(and_(table.c.locked_until.is_(None), table.c.window_start < cutoff),
                  and_(table.c.locked_until.is_not(None), table.c.locked_until <= now))
    dialect = sqlite if db.engine.dialect.name == "sqlite" else postgresql
    stmt = dialect.insert(table).values(phone=key, failures=1, window_start=now, locked_until=None)
    stmt = stmt.on_conflict_do_update(index_elements=["phone"], set_={
        "failures": case((restart, 1), else_=table.c.failures + 1),
        "window_start": case((restart, now), else_=table.c.window_start),
        "locked_until": case((restart, None), else_=table.c.locked_until),
    }).returning(table.c.failures, table.c.locked_until)
    count, locked_until = db.session.execute(stmt).one()
    db.session.commit()
    return count, locked_until


def _lock(key: str, minutes: int) -> None:
    db.session.execute(update(LoginLock).where(LoginLock.phone == key).values(
        locked_until=utcnow() + timedelta(minutes=minutes)))
    db.session.commit()


def _reserve_address(ip: str | None) -> int:
    """The address's slot for this attempt: 429 if the address is locked, or if attempts in parallel took every
    slot it had left (refused unchecked); else its count."""
    count, locked_until = _count(_ip_key(ip))
    now = utcnow()
    if locked_until is not None and locked_until > now:
        raise _lock_refusal(locked_until, now, by_address=True)
    if count > param("sys.login.maxIpFailures"):
        raise _refusal(TooManyRequests, N_("该地址登录失败次数过多，请稍后再试"))
    return count


def _give_back_address(ip: str | None) -> None:
    """Free the slot an attempt took on its address's counter (in the caller's transaction); a counter left at
    nothing, and no lock, is deleted, as a phone's is once its user signs in."""
    from sqlalchemy import delete

    key = _ip_key(ip)
    db.session.execute(update(LoginLock).where(LoginLock.phone == key, LoginLock.failures > 0)
                       .values(failures=LoginLock.failures - 1))
    db.session.execute(delete(LoginLock).where(LoginLock.phone == key, LoginLock.failures <= 0,
                                               LoginLock.locked_until.is_(None)))


def _give_back_attempt(key: str, ip: str | None) -> None:
    """Free both slots an attempt took, its key's (a phone's, a secureId's) and its address's (in the caller's
    transaction)."""
    db.session.execute(update(LoginLock).where(LoginLock.phone == key, LoginLock.failures > 0)
                       .values(failures=LoginLock.failures - 1))
    _give_back_address(ip)


def reserve_attempt(key: str, ip: str | None) -> tuple[int, int]:
    """Before a secret is checked: 429 if the address or the key (a phone, an open account's secureId) is
    locked, else count this attempt against both. (The key's count, the address's.)"""
    address = _reserve_address(ip)
    count, locked_until = _count(key)
    now = utcnow()
    refusal = None
    if locked_until is not None and locked_until > now:
        refusal = _lock_refusal(locked_until, now)
    elif count > param("sys.login.maxFailures"):
        # more parallel attempts than the limit: the rest are refused without being checked
        refusal = _refusal(TooManyRequests, N_("登录失败次数过多，账号已锁定，请稍后再试"))
    if refusal is not None:
        _give_back_address(ip)  # nothing was checked: the slot is the address's again
        db.session.commit()
        raise refusal
    return count, address


def record_failure(key: str, ip: str | None, counts: tuple[int, int]) -> None:
    """After a wrong secret (its slots kept): lock the key, and the address, at their limits."""
    count, address = counts
    if count >= param("sys.login.maxFailures"):
        _lock(key, param("sys.login.lockMinutes"))
    if address >= param("sys.login.maxIpFailures"):
        _lock(_ip_key(ip), param("sys.login.lockMinutes"))


def clear_failures(phone: str) -> None:
    from sqlalchemy import delete

    db.session.execute(delete(LoginLock).where(LoginLock.phone == phone))


def _live_user_by_phone(phone: str) -> User | None:
    return db.session.execute(User.live().where(User.phone == phone)).scalar_one_or_none()


# ---------------------------------------------------------------------------------------------
# The credential check, one for the three grants (ARCHITECTURE.md, Requests)
#
# Constant time: every attempt that gets past the lock pays one bcrypt comparison, against the hash of the
# live user or account, or against a dummy hash of the configured cost when there is none (unknown, deleted),
# so how long a refusal takes does not tell whether a phone or secureId exists. A disabled one is compared too.
# Same transaction: bcrypt runs outside any transaction (it is slow), so what it read is confirmed by reading
# the row again, locked, in the transaction that stores the session (`_open_checked_session`): a password or
# key changed, a disable or a delete committed meanwhile refuses the sign-in; one committed after it waits for
# the lock and then revokes the new session with the others.


@dataclass(frozen=True)
class Checked:
    """A secret found right, and what the check read, to be confirmed when the session is stored."""

    subject: str  # "user" or "open"
    row_id: int
    secret_hash: str | None  # the hash the password or key matched; None: an SMS code
    lock_key: str  # the login-lock counter a sign-in clears
    refusal: str  # the message if the credential changed meanwhile (the grant's own 401)
    phone: str | None = None  # SMS: the phone the code was sent to, still the user's
    sms_code_id: int | None = None  # SMS: the code, used once
    new_hash: str | None = None  # the password hashed again at the configured cost (core.passwords.needs_rehash)
    attempt: tuple[int, int] = (0, 0)  # this sign-in's counts (reserve_attempt): a check again reuses them


class _HashMoved(Exception):
    """A person's stored password hash changed between the check and the session's write: a parallel sign-in
    stored the same password again at the configured cost, or the password was changed. Checked once more."""


def _state_refusal(subject: str, state: int) -> Forbidden:
    if subject == "open":  # said in the request's language as every refusal, the source text for the login log
        return _refusal(Forbidden, open_service.state_refusal(state))
    return _refusal(Forbidden, N_("账号已被禁用，请联系管理员"))


def _check_secret(subject: str, row: Any, secret: str, lock_key: str, count: tuple[int, int], ip: str | None,
                  refusal: str) -> Checked:
    """`row` (id, secret, state) or None. One bcrypt comparison whatever it is, then the state."""
    secret_hash = row.secret if row is not None else None
    if not verify_password(secret or "", secret_hash):  # no hash: a dummy of the same cost, still compared
        record_failure(lock_key, ip, count)
        raise _wrong_secret(refusal, count)
    if row.state != 0:
        # The secret was right: the attempt guessed nothing, so it gives back the slots it took, else a system retrying
        # while its account is disabled would find the account locked once it is enabled again
        _give_back_attempt(lock_key, ip)
        db.session.commit()
        raise _state_refusal(subject, row.state)
    # A person's password only: an open account's key is random and long, which no bcrypt cost adds to.
    new_hash = hash_password(secret) if subject == "user" and needs_rehash(secret_hash) else None
    return Checked(subject, row.id, secret_hash, lock_key, refusal, new_hash=new_hash, attempt=count)


def _wrong_secret(refusal: str, counts: tuple[int, int], error: type[PCloudError] = BadCredentials) -> PCloudError:
    """A wrong secret (`refusal`, a key of LOCK_WARNINGS): its one message, and once few attempts are left before
    a lock, how many, or that this one locked it, in the refusal's own first words: the nearer lock of its key's and
    its address's (the key's when they fall together). `counts` are this attempt's (reserve_attempt) on the key typed
    (a phone, a secureId), known or not, and on the caller's address, so they tell nothing of whether it exists."""
    minutes, said_as = param("sys.login.lockMinutes"), LOCK_WARNINGS[refusal]
    left = param("sys.login.maxFailures") - counts[0]
    warning, locked = said_as.warning, said_as.locked
    address_left = param("sys.login.maxIpFailures") - counts[1]
    if address_left < left:
        left, warning, locked = address_left, said_as.address_warning, said_as.address_locked
    if left <= 0:
        return _refusal(error, locked, minutes=minutes)
    if left <= WARN_WHEN_LEFT:
        return _refusal(error, warning, left=left, minutes=minutes)
    return _refusal(error, refusal)


def authenticate_password(phone: str, password: str, ip: str | None = None,
                          attempt: tuple[int, int] | None = None) -> Checked:
    """The user with that phone and password; 401 (one message), 403 disabled, 429 locked. `attempt`: the
    counts this sign-in already took (checked again, it is the same attempt), else one is counted."""
    phone = (phone or "").strip()
    key = _phone_key(phone)
    count = reserve_attempt(key, ip) if attempt is None else attempt
    row = db.session.execute(select(User.id, User.password_hash.label("secret"), User.state).where(
        User.phone == phone, User.deleted_at.is_(None))).one_or_none()
    return _check_secret("user", row, password, key, count, ip, BAD_CREDENTIALS)


def authenticate_open(secure_id: str, secure_key: str, ip: str | None = None) -> Checked:
    """The open account with that secureId and secureKey; the same lock as phones, per secureId and address."""
    secure_id = (secure_id or "").strip()
    key = _open_key(secure_id)
    count = reserve_attempt(key, ip)
    row = db.session.execute(select(OpenAccount.id, OpenAccount.secure_key_hash.label("secret"), OpenAccount.state)
                             .where(OpenAccount.secure_id == secure_id, OpenAccount.deleted_at.is_(None))
                             ).one_or_none()
    return _check_secret("open", row, secure_key, key, count, ip, open_service.KEY_REFUSED)


# Read again, locked, in the session's transaction: the secret, the state and what the profile shows.
_USER_NOW = (select(User.password_hash.label("secret"), User.state, User.phone, User.name, User.avatar,
                    User.password_change_required)
             .where(User.id == bindparam("row_id"), User.deleted_at.is_(None)).with_for_update())
_OPEN_NOW = (select(OpenAccount.secure_key_hash.label("secret"), OpenAccount.state, OpenAccount.secure_id,
                    OpenAccount.name)
             .where(OpenAccount.id == bindparam("row_id"), OpenAccount.deleted_at.is_(None)).with_for_update())


def _open_checked_session(checked: Checked, kind: str, ip: str | None, user_agent: str | None
                          ) -> tuple[str, int, dict[str, Any], bool]:
    """Store the session in one write transaction that first confirms the check still holds: the row read
    again under the write lock (SELECT ... FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite) must still
    be live, enabled, with the hash (or, for SMS, the phone) that was checked. (token, ttl, profile, whether
    the user must change the password before anything else)."""
    db.session.commit()  # the check's reads end here
    write_lock_first()  # SQLite: the write lock before the read, as FOR UPDATE takes the row's
    try:
        open_ = checked.subject == "open"
        row = db.session.execute(_OPEN_NOW if open_ else _USER_NOW, {"row_id": checked.row_id}).one_or_none()
        if row is not None and not open_ and checked.secret_hash is not None and row.secret != checked.secret_hash:
            raise _HashMoved()
        if row is None or (checked.secret_hash is not None and row.secret != checked.secret_hash) or (
                checked.phone is not None and row.phone != checked.phone):
            raise _refusal(BadCredentials, checked.refusal)
        if row.state != 0:
            raise _state_refusal(checked.subject, row.state)
        if checked.sms_code_id is not None:  # used once: two parallel sign-ins with one code, one session
            used = db.session.execute(update(SmsCode).where(SmsCode.id == checked.sms_code_id,
                                                            SmsCode.used_at.is_(None)).values(used_at=utcnow()))
            if not used.rowcount:
                raise _refusal(BadCredentials, checked.refusal)
            # and the phone's earlier codes with it: only the newest is checked, so an older one (seen on a lock
            # screen) would otherwise become the newest, and sign in, once this one is used
            db.session.execute(update(SmsCode).where(SmsCode.phone == checked.phone, SmsCode.used_at.is_(None))
                               .values(used_at=utcnow()))
        if open_:
            token, ttl = sessions.open_session(kind, open_account_id=checked.row_id, ip=ip, user_agent=user_agent)
            profile_ = {"id": checked.row_id, "secure_id": row.secure_id, "name": row.name}
        else:
            if checked.new_hash is not None:  # the same password at the configured cost: no session is ended
                db.session.execute(update(User).where(User.id == checked.row_id).values(
                    password_hash=checked.new_hash))
            token, ttl = sessions.open_session(kind, user_id=checked.row_id, ip=ip, user_agent=user_agent)
            profile_ = {"id": checked.row_id, "phone": row.phone, "name": row.name, "avatar": row.avatar}
        clear_failures(checked.lock_key)
        _give_back_address(ip)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return token, ttl, profile_, not open_ and bool(row.password_change_required)


# ---------------------------------------------------------------------------------------------
# SMS codes


def _hash_code(phone: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


# pg_advisory_xact_lock(SMS_SEND_LOCK, hashtext(phone)): one send of a phone at a time ("smsc" in ASCII)
SMS_SEND_LOCK = 0x736D7363


def _serialise_sends(phone: str, ip: str | None) -> None:
    """One send of an address, and of a phone, at a time, held until its code is stored: the counts read after
    it see the code of a send that went first, on whatever host. PostgreSQL: transaction-scoped advisory locks
    of the address, then of the phone (always in that order; READ COMMITTED: the reads after them see the
    other's commit); SQLite: the write lock, taken up front with BEGIN IMMEDIATE (a transaction already writing
    holds it)."""
    serialise(SMS_SEND_LOCK, f"ip:{ip or ''}", phone)


def send_sms_code(phone: str, ip: str | None = None) -> None:
    """One send per phone per cooldown, and at most sys.sms.maxPerAddress per client address per hour, whatever
    the phones (one client could text every phone it tried), however many requests ask at once on however many
    hosts (the checks and the code's row in one transaction, serialised per address and phone). Same answer
    whether or not the phone belongs to a user."""
    phone = (phone or "").strip()
    if not phone_is_valid(phone):
        raise Invalid(gettext("手机号格式不正确"), field="phone")
    _serialise_sends(phone, ip)
    now = utcnow()
    if ip is not None and db.session.execute(select(func.count()).select_from(SmsCode).where(
            SmsCode.ip == ip, SmsCode.created_at > now - timedelta(hours=1))).scalar_one() \
            >= param("sys.sms.maxPerAddress"):
        db.session.rollback()
        raise TooManyRequests(gettext("此地址请求验证码过于频繁，请一小时后再试"))
    last = db.session.execute(
        select(SmsCode.created_at).where(SmsCode.phone == phone).order_by(SmsCode.created_at.desc()).limit(1)
    ).scalar()
    if last and last > now - timedelta(seconds=param("sys.sms.cooldownSeconds")):
        db.session.rollback()  # the lock goes with the transaction
        wait = param("sys.sms.cooldownSeconds") - int((now - last).total_seconds())
        raise TooManyRequests(gettext("验证码发送过于频繁，请 %(seconds)s 秒后再试", seconds=max(wait, 1)))
    code = f"{secrets.randbelow(10**6):06d}"
    ttl = param("sys.sms.ttlSeconds")
    known = _live_user_by_phone(phone) is not None
    # The same work for every phone up to the answer (the message worded, a code saved so the cooldown answers
    # alike), and the gateway called beside the answer, not before it: the answer's time must not tell which
    # phones are registered. Only a registered phone's send is queued, so the queue is bounded by the registered
    # phones (one per cooldown each), whatever a caller sends.
    delivery = sign_in_code_delivery(phone, code, ttl)
    db.session.add(SmsCode(phone=phone, code_hash=_hash_code(phone, code), created_at=now,
                           expires_at=now + timedelta(seconds=ttl), attempts=0, ip=ip))
    db.session.commit()
    if known:
        run_in_background(lambda: _deliver(delivery))


def _deliver(delivery: Callable[[], None]) -> None:
    """A failed send keeps its code, and so its cooldown, as an unknown phone's does: forgetting it would let a
    second request tell the two apart while the gateway fails (200 against 429)."""
    try:
        delivery()
    except Exception:  # noqa: BLE001 - any gateway failure: for the operator, the user may ask again later
        log.exception("the SMS gateway failed to send a sign-in code; the phone may ask again after the cooldown")


def authenticate_sms(phone: str, code: str, ip: str | None = None) -> Checked:
    """The user whose fresh code this is. Shares the phone's lock with the password grant; each guess takes
    one of the code's attempts atomically (UPDATE ... SET attempts = attempts + 1 WHERE attempts < max)
    before it is compared, so parallel guesses cannot exceed the limit."""
    phone = (phone or "").strip()
    count = reserve_attempt(_phone_key(phone), ip)
    now = utcnow()
    wrong = SMS_CODE_WRONG
    row_id = db.session.execute(
        select(SmsCode.id).where(SmsCode.phone == phone, SmsCode.used_at.is_(None), SmsCode.expires_at > now)
        .order_by(SmsCode.created_at.desc()).limit(1)).scalar()
    taken = 0
    if row_id is not None:
        taken = db.session.execute(update(SmsCode).where(
            SmsCode.id == row_id, SmsCode.attempts < param("sys.sms.maxAttempts"), SmsCode.used_at.is_(None))
            .values(attempts=SmsCode.attempts + 1)).rowcount or 0
        db.session.commit()
    row = db.session.get(SmsCode, row_id) if taken else None
    if row is None or not hmac.compare_digest(row.code_hash, _hash_code(phone, (code or "").strip())):
        record_failure(_phone_key(phone), ip, count)
        raise _wrong_secret(wrong, count)
    user = db.session.execute(select(User.id, User.state).where(User.phone == phone, User.deleted_at.is_(None))
                              ).one_or_none()
    if user is None:
        raise _refusal(BadCredentials, wrong)
    if user.state != 0:
        raise _state_refusal("user", user.state)
    return Checked("user", user.id, None, _phone_key(phone), wrong, phone=phone, sms_code_id=row.id)


def grant_of(grant_type: str | None) -> str:
    """The grant a sign-in asks for, as every reader of it must read it (the operation log's caller once read
    "OPEN " as a phone sign-in while this signed the account in: a user's name on an account's sign-in)."""
    return (grant_type or "").strip().upper()


def sign_in(grant_type: str | None, data: dict[str, Any], ip: str | None, user_agent: str | None,
            kind: str = "api") -> tuple[str, int, dict[str, Any], bool]:
    """Check the grant and open a session: (token, lifetime seconds, profile, whether the password must be
    changed first: the session opens all the same, for that change). Every attempt, whatever its
    outcome, is one row of the login log, written after the attempt's own transaction has ended."""
    grant = grant_of(grant_type)
    who = (data.get("secure_id") if grant == "OPEN" else data.get("phone")) or ""
    entry = {"grant_type": grant[:8] or None, "phone": who if isinstance(who, str) else None,
             "ip": ip, "user_agent": user_agent}
    try:
        token, ttl, profile_, must_change = _sign_in(grant, data, ip, user_agent, kind)
    except Exception as exc:  # a refusal, or the database failing under it: the attempt is logged either way
        db.session.rollback()  # nothing of the attempt stays open while its row is written
        reason = (exc.source_msg or exc.msg) if isinstance(exc, PCloudError) else N_("系统异常")
        login_log.record("login", result=1, reason=reason, **entry)
        raise
    login_log.record("login", result=0, reason=N_("登录成功"), user_id=None if grant == "OPEN" else profile_["id"],
                     **entry)
    return token, ttl, profile_, must_change


def _sign_in(grant: str, data: dict[str, Any], ip: str | None, user_agent: str | None,
             kind: str) -> tuple[str, int, dict[str, Any], bool]:
    if grant not in GRANT_TYPES:
        refused = _refusal(Invalid, N_("grantType 必须是 ADMIN、SMS 或 OPEN"))
        refused.errors = {"grantType": [refused.msg]}
        raise refused
    required = {"ADMIN": ("phone", "password"), "SMS": ("phone", "verify_code"),
                "OPEN": ("secure_id", "secure_key")}[grant]
    missing = {k: [gettext("必填项不能为空")] for k in required if not data.get(k)}
    if missing:  # a field left out is the request's fault, not a wrong secret: 422, counted against nobody
        refused = _refusal(Invalid, N_("参数校验失败"))
        refused.errors = {_camel(k): v for k, v in missing.items()}
        raise refused
    if grant == "OPEN":
        checked = authenticate_open(data["secure_id"], data["secure_key"], ip)
        return _open_checked_session(checked, kind, ip, user_agent)
    if grant == "SMS":
        return _open_checked_session(authenticate_sms(data["phone"], data["verify_code"], ip), kind, ip, user_agent)
    checked = authenticate_password(data["phone"], data["password"], ip)
    try:
        return _open_checked_session(checked, kind, ip, user_agent)
    except _HashMoved:
        # Checked again against the hash stored now: the same password passes (a parallel sign-in hashed it again
        # at the configured cost), a changed one is refused as any wrong password is: as one attempt, not two.
        checked = authenticate_password(data["phone"], data["password"], ip, attempt=checked.attempt)
        try:
            return _open_checked_session(checked, kind, ip, user_agent)
        except _HashMoved:
            raise _refusal(BadCredentials, checked.refusal) from None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def user_for_phone_hint(phone: str) -> tuple[int | None, str | None, str | None]:
    """Who a sign-in attempt was for, for the action log (never says whether it exists to the client)."""
    user = _live_user_by_phone((phone or "").strip()) if phone else None
    return (user.id, user.name, user.phone) if user else (None, None, (phone or "")[:32] or None)


# ---------------------------------------------------------------------------------------------
# Unlock (issue 22.3): an administrator lifts a sign-in lock at once, by phone (or secureId) or by address.


def _require_unlockable(user: User, scope: datascope.DataScope) -> None:
    """A user's lock is lifted by whoever's data scope covers the user (one's own always; else 404 exactly as
    if absent, as users.service.get_user answers), a super administrator's only by a super administrator, and
    a user whose roles reach further than the caller's only by someone they do not outreach (403): the rule of
    offline, modify and kick (users.service.outreaches), else a weaker administrator frees a stronger one's
    account for whoever is guessing its password."""
    caller = current_principal()
    itself = caller is not None and caller.user_id == user.id
    if not (itself or scope.covers_user(user.id, user.dept_id)):
        raise NotFound(gettext("用户不存在"))
    if caller is not None and not caller.is_super_admin and any(r.role_code == SUPER_ADMIN for r in user.live_roles):
        raise Forbidden(gettext("只有超级管理员可以解除超级管理员的登录锁定"))
    if user_service.outreaches(caller, user):
        raise Forbidden(gettext("该用户的角色超出了您的权限范围，不能解除其登录锁定"))


OPEN_LOCK_BEYOND = N_("该开放平台账号的权限超出了您的权限范围，不能解除其登录锁定")


def _open_refusals(secure_ids: Iterable[str]) -> dict[str, str]:
    """{secureId: why the caller may not manage its live account} for those of `secure_ids` that are one (the
    account's reach rule, `open_service.account_refusals`: one query for them all)."""
    wanted = sorted(set(secure_ids))
    if not wanted:
        return {}
    accounts = dict(db.session.execute(select(OpenAccount.id, OpenAccount.secure_id).where(
        OpenAccount.secure_id.in_(wanted), OpenAccount.deleted_at.is_(None))).tuples().all())
    return {accounts[i]: why for i, why in open_service.account_refusals(accounts).items()}


def _require_may_unlock(scope: datascope.DataScope, *, phone: str | None = None, client_ip: str | None = None,
                        user: User | None = None, open_refusal: str | None = None) -> None:
    """The rule of `unlock` (`user`: the live user of `phone`, if any; `open_refusal`: `_open_refusals` of a
    `phone` that is a live account's secureId)."""
    if phone:
        if user is not None:
            _require_unlockable(user, scope)
        elif not scope.all:
            raise NotFound(gettext("用户不存在"))
        elif open_refusal:  # a secureId: its account's lock is lifted by whom may manage it (状态, 重置密钥, 强退)
            raise Forbidden(gettext(OPEN_LOCK_BEYOND))
    if client_ip and not scope.all:
        raise Forbidden(gettext("只有数据权限为全部数据的用户可以解除 IP 地址的登录锁定"))


def unlock_offers(phones: list[str], addresses: list[str]) -> set[tuple[str, str]]:
    """The ("phone" | "client_ip", value) pairs among a list page's phones and client addresses that `unlock`
    would lift for the caller: the rows offer 解锁 only there. One query for the phones' users."""
    scope = datascope.current_scope()
    phones, addresses = sorted(set(phones)), sorted(set(addresses))
    users = {u.phone: u for u in db.session.execute(User.live().where(User.phone.in_(phones))).scalars()} \
        if phones else {}
    open_refusals = _open_refusals(p for p in phones if p not in users) if scope.all else {}

    def allowed(**asked: Any) -> bool:
        try:
            _require_may_unlock(scope, **asked)
        except (NotFound, Forbidden):
            return False
        return True

    return ({("phone", p) for p in phones if allowed(phone=p, user=users.get(p), open_refusal=open_refusals.get(p))}
            | {("client_ip", a) for a in addresses if allowed(client_ip=a)})


def unlock(phone: str | None = None, client_ip: str | None = None) -> bool:
    """Forget the failures counted against a phone (or an open account's secureId), or against a client
    address, and the lock they led to. Whether there was anything to lift.

    Within the caller's data scope, as the login log shows: a live user's phone when the scope covers the user
    (`_require_unlockable`); a phone of nobody, a secureId or an address only under the scope of all data (a
    phone of nobody: 404 alike, so the answer does not tell whether it is a user's outside the scope), and a live
    account's secureId only by whom the account's reach is within (403, as its 状态 and 重置密钥)."""
    phone, client_ip = (phone or "").strip() or None, (client_ip or "").strip() or None
    if not phone and not client_ip:
        raise Invalid(gettext("请填写手机号或 IP 地址"), field="phone")
    scope = datascope.current_scope()
    user = _live_user_by_phone(phone) if phone else None
    _require_may_unlock(scope, phone=phone, client_ip=client_ip, user=user,
                        open_refusal=_open_refusals([phone]).get(phone) if phone and user is None and scope.all
                        else None)
    keys: list[str] = []
    if phone:
        keys += [_phone_key(phone), _open_key(phone)] if scope.all else [_phone_key(phone)]
    if client_ip:
        keys.append(_ip_key(client_ip))
    from sqlalchemy import delete

    removed = db.session.execute(delete(LoginLock).where(LoginLock.phone.in_(keys))).rowcount or 0
    db.session.commit()
    return removed > 0


def unlock_user(user_id: int) -> tuple[str, bool]:
    """Lift the lock of a user's phone: (the user's name, whether there was one)."""
    user = user_service.get_user(user_id)
    return user.name, unlock(phone=user.phone)


def phones_with_failures(phones: list[str]) -> set[str]:
    """The phones among `phones` with failures counted or a lock in force (what unlock would lift)."""
    if not phones:
        return set()
    now = utcnow()
    cutoff = now - timedelta(minutes=param("sys.login.windowMinutes"))
    found = db.session.execute(select(LoginLock.phone).where(
        LoginLock.phone.in_(phones),
        (LoginLock.locked_until > now) | (LoginLock.locked_until.is_(None) & (LoginLock.window_start >= cutoff))))
    return set(found.scalars())
