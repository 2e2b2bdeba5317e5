"""参数设置: the run-time settings an administrator may change, read by the services that obey them.

The catalogue (`CATALOGUE`) is code: each parameter has a key, a type (int, bool, text, choice) with its
range or choices, and the environment variable whose value is its default (config.py keeps the variable
names and the code's defaults). A value an administrator sets is a row of sys_config; a parameter the
deployment set in the environment is `source: environment` and read-only (409 on modify), so the host's
setting always wins and every host agrees on it only if the deployment gives them the same environment.

Readers call `value(key)`: the stored values are kept per process in a `core.settingscache.VersionedCache`
(no query while the database's change signal holds; see that module), so a change counts in every process
of every host from its next request, whoever wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext
from sqlalchemy import delete, select

from pcloud.core.database import serialise
from pcloud.core.errors import Conflict, Invalid, NotFound
from pcloud.core.i18n import said as stored_said
from pcloud.core.i18n import translated
from pcloud.core.messages import N_
from pcloud.core.numbers import digits_only
from pcloud.core.paging import Page
from pcloud.core.settingscache import VersionedCache
from pcloud.datascope import service as datascope
from pcloud.extensions import db
from pcloud.params.models import Parameter

TYPES = ("int", "bool", "text", "choice")
PASSWORD_CLASSES = {"letter": (N_("字母"), r"[A-Za-z]"), "upper": (N_("大写字母"), r"[A-Z]"),
                    "lower": (N_("小写字母"), r"[a-z]"), "digit": (N_("数字"), r"\d"),
                    "symbol": (N_("符号"), r"[^A-Za-z0-9]")}


@dataclass(frozen=True)
class Definition:
    """A parameter. Its name, remark and choices' labels are marked source strings (N_): the operation log
    stores them as they are, pages and the API say them in the request's language (`to_item`, `said`)."""

    key: str
    env: str  # the environment variable (and app.config key) holding the default
    name: str
    type: str
    remark: str = ""
    low: int | None = None
    high: int | None = None
    choices: tuple[tuple[str, str], ...] = ()
    limit: int = 200  # text: at most this many characters


DAY, DAYS_MAX = 86_400, 30 * 86_400
CATALOGUE: dict[str, Definition] = {d.key: d for d in (
    Definition("sys.login.maxFailures", "PCLOUD_LOGIN_MAX_FAILURES", N_("登录失败锁定次数"), "int",
               N_("同一手机号或 secureId 在统计窗口内失败达到该次数即锁定"), 1, 100),
    Definition("sys.login.windowMinutes", "PCLOUD_LOGIN_WINDOW_MINUTES", N_("登录失败统计窗口（分钟）"), "int",
               N_("统计登录失败次数的时间窗口"), 1, 1440),
    Definition("sys.login.lockMinutes", "PCLOUD_LOGIN_LOCK_MINUTES", N_("登录锁定时长（分钟）"), "int",
               N_("锁定后多久自动解锁"), 1, 10080),
    Definition("sys.login.maxIpFailures", "PCLOUD_LOGIN_MAX_IP_FAILURES", N_("同一地址登录失败锁定次数"), "int",
               N_("同一客户端地址（任意账号）在统计窗口内失败达到该次数即锁定该地址"), 1, 100_000),
    Definition("sys.password.minLength", "PCLOUD_PASSWORD_MIN_LENGTH", N_("密码最小长度"), "int",
               N_("新密码至少多少个字符（至多 72）"), 6, 72),
    Definition("sys.password.classes", "PCLOUD_PASSWORD_CLASSES", N_("密码须包含的字符"), "choice",
               N_("新密码必须同时包含的字符种类"), choices=(
                   ("letter,digit", N_("字母和数字")), ("letter,digit,symbol", N_("字母、数字和符号")),
                   ("upper,lower,digit", N_("大写字母、小写字母和数字")),
                   ("upper,lower,digit,symbol", N_("大写字母、小写字母、数字和符号")))),
    Definition("sys.password.changeAtFirstSignIn", "PCLOUD_FORCE_PASSWORD_CHANGE", N_("新用户首次登录须修改密码"),
               "bool",
               N_("开启后，管理员新建或重置密码的用户下次登录须先修改密码（导入时生成的密码总须修改）")),
    Definition("sys.session.webTtl", "PCLOUD_WEB_SESSION_TTL", N_("网页会话有效期（秒）"), "int",
               N_("页面登录后多久过期（新登录生效）"), 300, DAYS_MAX),
    Definition("sys.session.tokenTtl", "PCLOUD_TOKEN_TTL", N_("接口令牌有效期（秒）"), "int",
               N_("API 令牌签发后多久过期（新签发生效）"), 300, DAYS_MAX),
    Definition("sys.sms.ttlSeconds", "PCLOUD_SMS_TTL_SECONDS", N_("短信验证码有效期（秒）"), "int", "", 60, 3600),
    Definition("sys.sms.cooldownSeconds", "PCLOUD_SMS_COOLDOWN_SECONDS", N_("短信发送间隔（秒）"), "int",
               N_("同一手机号两次发送验证码的最短间隔"), 0, 3600),
    Definition("sys.sms.maxPerAddress", "PCLOUD_SMS_MAX_PER_ADDRESS", N_("同一地址每小时发送验证码条数"), "int",
               N_("同一客户端地址一小时内最多可请求的验证码条数（不论手机号），超过则拒绝"), 1, 100_000),
    Definition("sys.sms.maxAttempts", "PCLOUD_SMS_MAX_ATTEMPTS", N_("短信验证码尝试次数"), "int",
               N_("一条验证码最多可校验的次数"), 1, 20),
    Definition("sys.export.maxRows", "PCLOUD_EXPORT_MAX_ROWS", N_("导出行数上限"), "int",
               N_("「导出全部」超过该行数时拒绝，请先筛选"), 1, 1_000_000),
    Definition("sys.log.actionRetentionDays", "PCLOUD_ACTION_LOG_RETENTION_DAYS", N_("操作日志保留天数"), "int",
               N_("维护任务删除更早的操作日志"), 1, 3650),
    Definition("sys.log.loginRetentionDays", "PCLOUD_LOGIN_LOG_RETENTION_DAYS", N_("登录日志保留天数"), "int",
               N_("维护任务删除更早的登录日志"), 1, 3650),
    Definition("sys.log.jobRetentionDays", "PCLOUD_JOB_LOG_RETENTION_DAYS", N_("调度日志保留天数"), "int",
               N_("调度日志清理任务至少保留的天数"), 1, 3650),
    Definition("sys.company.name", "PCLOUD_COMPANY_NAME", N_("公司名称"), "text",
               N_("组织架构图的根节点名称"), limit=64),
)}
KEY_MAX = 100


def _stored() -> dict[str, str]:
    return dict(db.session.execute(select(Parameter.config_key, Parameter.config_value)).all())


_CACHE: VersionedCache[dict[str, str]] = VersionedCache("params", _stored)


def definition(key: str) -> Definition:
    found = CATALOGUE.get(key)
    if found is None:
        raise NotFound(gettext("参数不存在"))
    return found


def from_environment(d: Definition) -> bool:
    return d.env in current_app.config.get("PCLOUD_SET_BY_ENVIRONMENT", ())


def parse(d: Definition, raw: Any) -> Any:
    """The typed value of `raw` (a JSON value, a form's text or a stored text) for `d`, or Invalid."""
    name = gettext(d.name)
    if d.type == "int":
        if isinstance(raw, bool):
            raise Invalid(gettext("「%(name)s」须为整数", name=name), field="value")
        if isinstance(raw, str):
            text = raw.strip()
            if not digits_only(text.removeprefix("-")) or len(text) > 12:
                raise Invalid(gettext("「%(name)s」须为整数", name=name), field="value")
            raw = int(text)
        if not isinstance(raw, int):
            raise Invalid(gettext("「%(name)s」须为整数", name=name), field="value")
        if (d.low is not None and raw < d.low) or (d.high is not None and raw > d.high):
            raise Invalid(gettext("「%(name)s」须在 %(low)s 到 %(high)s 之间", name=name, low=d.low, high=d.high),
                          field="value")
        return raw
    if d.type == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower() if isinstance(raw, str | int) else None
        if text in ("true", "1", "yes", "y"):
            return True
        if text in ("false", "0", "no", "n"):
            return False
        raise Invalid(gettext("「%(name)s」须为 true 或 false", name=name), field="value")
    if not isinstance(raw, str):
        raise Invalid(gettext("「%(name)s」须为文本", name=name), field="value")
    text = raw.strip()
    if d.type == "choice":
        if text not in dict(d.choices):
            raise Invalid(gettext("「%(name)s」须为以下之一：%(values)s", name=name,
                                  values=", ".join(c for c, _ in d.choices)), field="value")
        return text
    if not text:
        raise Invalid(gettext("请输入「%(name)s」", name=name), field="value")
    if len(text) > d.limit:
        raise Invalid(gettext("「%(name)s」不能超过 %(limit)s 个字符", name=name, limit=d.limit), field="value")
    if "\x00" in text:
        raise Invalid(gettext("「%(name)s」含有不可用的字符", name=name), field="value")
    return text


def default(d: Definition) -> Any:
    """The environment's value, else the code's default (both in app.config, read as they are now)."""
    raw = current_app.config.get(d.env)
    try:
        return parse(d, raw)
    except Invalid:
        return raw  # a deployment's value outside the page's range is still what it asked for


def value(key: str) -> Any:
    """The effective value of one parameter: the environment's if it sets it, else the stored value, else
    the default. No query while nothing changed (the process's VersionedCache)."""
    d = CATALOGUE[key]
    if not from_environment(d):
        stored = _CACHE.get().get(key)
        if stored is not None:
            try:
                return parse(d, stored)
            except Invalid:
                pass  # a row written by hand outside the rule: the default holds
    return default(d)


def _encode(d: Definition, typed: Any) -> str:
    if d.type == "bool":
        return "true" if typed else "false"
    return str(typed)


def to_item(d: Definition, stored: dict[str, str] | None = None) -> dict[str, Any]:
    env = from_environment(d)
    stored = _CACHE.get() if stored is None else stored
    return {"key": d.key, "name": gettext(d.name), "value": value(d.key), "type": d.type,
            "choices": [{"value": v, "label": gettext(label)} for v, label in d.choices], "default": default(d),
            "source": "environment" if env else "database", "env": d.env, "customised": d.key in stored and not env,
            "remark": gettext(d.remark) if d.remark else "", "low": d.low, "high": d.high}


def page_params(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    """Every parameter of the catalogue, in its order, filtered by key or name (contains; the name as the
    reader sees it, or its Chinese source)."""
    key = (filters.get("key") or "").strip().lower()
    name = (filters.get("name") or "").strip().lower()
    stored = _CACHE.get()
    found = [d for d in CATALOGUE.values()
             if key in d.key.lower() and (name in d.name or name in gettext(d.name).lower())]
    chosen = found[(page - 1) * page_size: page * page_size]
    return Page([to_item(d, stored) for d in chosen], len(found), page, page_size)


def get_param(key: str) -> dict[str, Any]:
    return to_item(definition(key))


def _writable(d: Definition) -> None:
    """A setting applies to the whole company (every user's sign-in, password, session, the logs kept): only a
    principal whose data scope is all data changes it (403; a second review lifted the sign-in lock and
    shortened the logs' retention as an admin of one department). One set in the environment: nobody."""
    datascope.require_all_data(gettext("参数设置对全公司生效，只有数据权限为全部数据的管理员可以修改"))
    if from_environment(d):
        raise Conflict(gettext("参数「%(name)s」由环境变量 %(env)s 设置，不能在此修改", name=gettext(d.name),
                               env=d.env))


PARAM_LOCK = 0x7061726D  # 'parm': one save of a key at a time (core.database.serialise)


def modify(key: str, raw: Any) -> tuple[Definition, Any, Any]:
    """Store a new value; returns (definition, old value, new value) for the operation log."""
    d = definition(key)
    _writable(d)
    if raw is None:
        raise Invalid(gettext("请输入「%(name)s」", name=gettext(d.name)), field="value")
    new = parse(d, raw)
    old = value(key)
    # a key never set is inserted (config_key is unique): two first saves at once take turns, and the second
    # updates the row the first inserted, as any later save does, instead of losing on the unique key
    serialise(PARAM_LOCK, key)
    row = db.session.execute(select(Parameter).where(Parameter.config_key == key)).scalar_one_or_none()
    if row is None:
        db.session.add(Parameter(config_key=key, config_value=_encode(d, new)))
    else:
        row.config_value = _encode(d, new)
    db.session.commit()
    return d, old, new


def reset(key: str) -> tuple[Definition, Any, Any]:
    """Back to the default: the stored value is removed. Returns (definition, old value, new value)."""
    d = definition(key)
    _writable(d)
    old = value(key)
    db.session.execute(delete(Parameter).where(Parameter.config_key == key))
    db.session.commit()
    return d, old, default(d)


def shown(d: Definition, typed: Any) -> str:
    """A value as the operation log stores it (in the console's source language)."""
    if d.type == "bool":
        return "是" if typed else "否"
    if d.type == "choice":
        return dict(d.choices).get(typed, str(typed))
    return str(typed)


def said(d: Definition, typed: Any) -> str:
    """A value as the page says it, in the request's language."""
    if d.type == "bool":
        return gettext("是") if typed else gettext("否")
    if d.type == "choice":
        label = dict(d.choices).get(typed)
        return gettext(label) if label else str(typed)
    return translated(str(typed))  # the built-in default company name 公司 reads Company on an English page


def shown_raw(d: Definition, typed: Any) -> str:
    """A value as a form's input holds it."""
    return _encode(d, typed)


def change_message(d: Definition, old: Any, new: Any) -> str:
    """The change as the operation log stores it: the sentence of `change_said` as its source string and values
    (core.i18n.said: the name and the values in the source language), read in each reader's language. A save of
    the value it had is said so, not "changed from 5 to 5" (a browser review)."""
    if old == new:
        return stored_said(N_("参数「%(name)s」（%(key)s）未改变，仍为「%(value)s」"), name=d.name, key=d.key,
                           value=shown(d, new))
    return stored_said(N_("参数「%(name)s」（%(key)s）由「%(old)s」改为「%(new)s」"), name=d.name, key=d.key,
                       old=shown(d, old), new=shown(d, new))


def change_said(d: Definition, old: Any, new: Any) -> str:
    """The same change said to the reader (the page's flash), in the request's language."""
    if old == new:
        return gettext("参数「%(name)s」（%(key)s）未改变，仍为「%(value)s」", name=gettext(d.name), key=d.key,
                       value=said(d, new))
    return gettext("参数「%(name)s」（%(key)s）由「%(old)s」改为「%(new)s」", name=gettext(d.name), key=d.key,
                   old=said(d, old), new=said(d, new))


# ---------------------------------------------------------------------------------------------
# The rules other modules read


def password_problem(password: str) -> str | None:
    """The password policy (minimum length, classes required), or None when `password` meets it. Beyond 72
    bytes bcrypt reads nothing more: a longer password would sign in with its first 72 bytes alone (which the
    classes were not checked on), so it is refused on every door."""
    import re

    if len(password.encode("utf-8", "surrogatepass")) > 72:
        return gettext("密码不能超过 72 个字节")
    length, classes, need = _password_policy()
    missing = [c for c in classes if not re.search(PASSWORD_CLASSES[c][1], password)]
    if len(password) < length or missing:
        if need:
            return gettext("密码至少 %(n)s 位，且须同时包含%(need)s", n=length, need=need)
        return gettext("密码至少 %(n)s 位", n=length)
    return None


def _password_policy() -> tuple[int, list[str], str]:
    """The minimum length, the classes required, and those classes said (字母和数字; "" for none)."""
    length = value("sys.password.minLength")
    classes = [c for c in str(value("sys.password.classes")).split(",") if c in PASSWORD_CLASSES]
    names = [gettext(PASSWORD_CLASSES[c][0]) for c in classes]
    need = (gettext("%(items)s和%(last)s", items=gettext("、").join(names[:-1]), last=names[-1])
            if len(names) > 1 else "".join(names))
    return length, classes, need


def password_hint() -> str:
    """The policy as the hint under a new password field says it (至少 8 位，须同时包含字母和数字)."""
    length, _classes, need = _password_policy()
    if need:
        return gettext("至少 %(n)s 位，须同时包含%(need)s", n=length, need=need)
    return gettext("至少 %(n)s 位", n=length)
