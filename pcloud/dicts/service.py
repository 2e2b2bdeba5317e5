"""字典管理 rules, shared by the pages and the JSON API, and the labels the console's lists read.

A type (`sys_user_state`) names a set of items, each a stored value with its label, badge colour, order,
default flag and status. The built-in types (`BUILTIN_DICTS`) are created by setup and read by the
console's own lists and forms (user state, job status, run result, login result, notice type) through
`label`/`badge`/`options`; an administrator's edit of a label or colour shows on every page of every
process from its next request. What pages read is kept per process (`core.settingscache.VersionedCache`:
no query while nothing changed); the version row moves by trigger, whoever writes.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext
from sqlalchemy import func, select, update

from pcloud.core.database import live_row, taken_meanwhile, write_lock_first
from pcloud.core.errors import Conflict, Invalid, NotFound
from pcloud.core.i18n import language, shown_containing, translated
from pcloud.core.messages import N_
from pcloud.core.paging import Page, paginate
from pcloud.core.schemas import limit_of
from pcloud.core.settingscache import VersionedCache
from pcloud.core.timefmt import utcnow
from pcloud.datascope import service as datascope
from pcloud.dicts.models import DictData, DictType
from pcloud.extensions import db

TYPE_CODE = re.compile(r"^[a-z][a-z0-9_]{1,99}$")
# The console's badge colours (Bootstrap's text-bg-*): an item's cssClass is one of them or empty.
BADGE_COLOURS = ("primary", "secondary", "success", "danger", "warning", "info", "light", "dark")
DUPLICATE_TYPE = N_("字典类型已存在")  # said with gettext() where raised
DUPLICATE_VALUE = N_("该字典类型下已有此键值")

# type code -> (name, remark, [(value, label, colour, English label)]): created by setup, never overwritten
# there (the English label is filled where it is empty). The name and remark are stored in Chinese and shown
# through the `translated` filter.
BUILTIN_DICTS: dict[str, tuple[str, str, list[tuple[str, str, str, str]]]] = {
    "sys_user_state": (N_("用户状态"), N_("用户列表与表单的状态"), [
        ("0", "正常", "success", "Active"), ("1", "禁用", "secondary", "Disabled")]),
    "sys_yes_no": (N_("系统是否"), N_("是 / 否"), [("Y", "是", "primary", "Yes"), ("N", "否", "secondary", "No")]),
    "job_trigger_status": (N_("任务状态"), N_("任务的调度状态"), [
        ("0", "停止", "secondary", "Stopped"), ("1", "运行", "success", "Running")]),
    "job_handle_code": (N_("调度结果"), N_("调度日志的执行结果"), [
        ("0", "运行中", "info", "Running"), ("200", "成功", "success", "Success"),
        ("500", "失败", "danger", "Failed"), ("502", "超时", "warning", "Timed out"),
        ("503", "已终止", "secondary", "Killed"), ("504", "执行器丢失", "danger", "Executor lost")]),
    "login_result": (N_("登录结果"), N_("登录日志的结果"), [
        ("0", "成功", "success", "Success"), ("1", "失败", "danger", "Failed")]),
    "notice_type": (N_("通知类型"), N_("通知公告的类型"), [
        ("1", "通知", "info", "Notice"), ("2", "公告", "warning", "Announcement")]),
}


# ---------------------------------------------------------------------------------------------
# What pages and clients read, kept per process


def _enabled_items() -> dict[str, list[dict[str, Any]]]:
    """Every enabled type's enabled items, in `sort` order: two statements for the whole set."""
    types = set(db.session.execute(select(DictType.dict_type).where(
        DictType.deleted_at.is_(None), DictType.status == 0)).scalars())
    found: dict[str, list[dict[str, Any]]] = {t: [] for t in types}
    rows = db.session.execute(select(DictData).where(
        DictData.deleted_at.is_(None), DictData.status == 0, DictData.dict_type.in_(types))
        .order_by(DictData.dict_type, DictData.sort, DictData.id)).scalars() if types else []
    for row in rows:
        found[row.dict_type].append({"label": row.label, "label_en": row.label_en, "value": row.value,
                                     "sort": row.sort, "css_class": row.css_class or "",
                                     "is_default": bool(row.is_default)})
    return found


_CACHE: VersionedCache[dict[str, list[dict[str, Any]]]] = VersionedCache("dicts", _enabled_items)


def items_of(dict_type: str) -> list[dict[str, Any]]:
    """The enabled items of an enabled type, in order ([] for an unknown or disabled type)."""
    return list(_CACHE.get().get(dict_type, ()))


def public_items(dict_type: str) -> list[dict[str, Any]]:
    if not TYPE_CODE.match(dict_type or ""):
        raise NotFound(gettext("字典类型不存在"))
    return items_of(dict_type)


def _shown(item: dict[str, Any], english: bool) -> str:
    """An item's label in the request's language: its English label on an English page when it has one."""
    return (item["label_en"] or item["label"]) if english else item["label"]


def shown_label(row: Any) -> str:
    """The label a page shows for an item (a DictData or its dict): as `_shown`, for this request's language (the
    flashes, the edit page's title and the delete confirm name an item as its list does)."""
    item = row if isinstance(row, dict) else {"label": row.label, "label_en": row.label_en}
    return _shown(item, language() == "en")


def badge(dict_type: str, value: Any, fallback: str | None = None) -> tuple[str, str]:
    """(label, colour) of a value: its item's, else (`fallback`, a built-in value's built-in name, or the value,
    "secondary"): an item of a built-in type disabled or deleted (or the type disabled) names its value as setup
    did, never as a bare code (用户管理 showed every active user as 0)."""
    text = "" if value is None else str(value)
    english = language() == "en"
    for item in _CACHE.get().get(dict_type, ()):
        if item["value"] == text:
            return _shown(item, english), item["css_class"] or "secondary"
    if fallback is None:
        built = {v: (english_label if english else label_)
                 for v, label_, _colour, english_label in BUILTIN_DICTS.get(dict_type, ("", "", []))[2]}
        fallback = built.get(text, text)
    return fallback, "secondary"


def label(dict_type: str, value: Any, fallback: str | None = None) -> str:
    return badge(dict_type, value, fallback)[0]


def options(dict_type: str) -> list[tuple[str, str]]:
    """(value, label) of the enabled items: a filter's or a form's choices."""
    english = language() == "en"
    return [(item["value"], _shown(item, english)) for item in items_of(dict_type)]


# ---------------------------------------------------------------------------------------------
# Types


def get_type(type_id: int) -> DictType:
    found = db.session.execute(DictType.live().where(DictType.id == type_id)).scalar_one_or_none()
    if found is None:
        raise NotFound(gettext("字典类型不存在"))
    return found


def type_by_code(code: str) -> DictType | None:
    return db.session.execute(DictType.live().where(DictType.dict_type == code)).scalar_one_or_none()


def type_item(row: DictType, counts: dict[str, int] | None = None) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "dict_type": row.dict_type, "status": row.status,
            "builtin": bool(row.builtin), "remark": row.remark, "item_count": (counts or {}).get(row.dict_type, 0),
            "gmt_created_date": row.gmt_created_date, "gmt_created_name": row.gmt_created_name,
            "gmt_modified_date": row.gmt_modified_date, "gmt_modified_name": row.gmt_modified_name}


def _item_counts(codes: list[str]) -> dict[str, int]:
    if not codes:
        return {}
    return dict(db.session.execute(select(DictData.dict_type, func.count()).where(
        DictData.deleted_at.is_(None), DictData.dict_type.in_(codes)).group_by(DictData.dict_type)).all())


def page_types(filters: dict[str, Any], page: int = 1, page_size: int = 10, *, as_shown: bool = False) -> Page:
    """`as_shown` (the page): the name filter also finds a built-in type by the name the page shows for it, its
    stored name in the reader's language (User state for 用户状态), in any case; the API's filter is the stored
    name's."""
    stmt = DictType.live()
    for key, column in (("name", DictType.name), ("dict_type", DictType.dict_type)):
        if (value := (filters.get(key) or "").strip()):
            found = column.contains(value, autoescape=True)
            if key == "name" and as_shown and (shown := _built_in_names_showing(value)):
                found = found | (DictType.builtin.is_(True) & DictType.name.in_(shown))
            stmt = stmt.where(found)
    if filters.get("status") is not None:
        stmt = stmt.where(DictType.status == filters["status"])
    result = paginate(stmt.order_by(DictType.id), page, page_size)
    counts = _item_counts([t.dict_type for t in result.items])
    result.items = [type_item(t, counts) for t in result.items]
    return result


def _built_in_names_showing(text: str) -> list[str]:
    """The stored names of the live built-in types whose shown name contains `text`, in any case."""
    return shown_containing(db.session.execute(select(DictType.name).where(
        DictType.deleted_at.is_(None), DictType.builtin.is_(True))).scalars(), text)


def all_type_choices() -> list[tuple[str, str]]:
    """(code, "name (code)") of every live type: the item filter's and form's picker."""
    rows = db.session.execute(select(DictType.dict_type, DictType.name).where(DictType.deleted_at.is_(None))
                              .order_by(DictType.id)).all()
    return [(r.dict_type, gettext("%(name)s（%(code)s）", name=translated(r.name), code=r.dict_type))
            for r in rows]


def _text(value: Any, field: str, label_: str, limit: int, required: bool = True) -> str | None:
    """`label_` is a marked source string (N_), said here in the request's language."""
    text = (value or "").strip() if isinstance(value, str) or value is None else str(value)
    if not text:
        if required:
            raise Invalid(gettext("请输入%(label)s", label=gettext(label_)), field=field)
        return None
    if len(text) > limit:
        raise Invalid(gettext("%(label)s不能超过 %(limit)s 个字符", label=gettext(label_), limit=limit), field=field)
    return text


def _clean_code(code: Any, exclude_id: int | None = None) -> str:
    code = _text(code, "dictType", N_("字典类型"), limit_of(DictType.dict_type)) or ""
    if not TYPE_CODE.match(code):
        raise Invalid(gettext("字典类型须以小写字母开头，只含小写字母、数字和下划线，2 到 100 个字符"),
                      field="dictType")
    stmt = select(DictType.id).where(DictType.dict_type == code, DictType.deleted_at.is_(None))
    if exclude_id:
        stmt = stmt.where(DictType.id != exclude_id)
    if db.session.execute(stmt.limit(1)).first() is not None:
        raise Conflict(gettext(DUPLICATE_TYPE), errors={"dictType": [gettext(DUPLICATE_TYPE)]})
    return code


def _clean_status(status: Any) -> int:
    if status not in (0, 1):
        raise Invalid(gettext("状态须为 0（正常）或 1（停用）"), field="status")
    return int(status)


def _require_all_data() -> None:
    """Dictionaries label and colour the console for every reader in the company (a review made every active user
    show as 停用 as an admin of one department): changed only under the scope of all data, as settings are."""
    datascope.require_all_data(gettext("字典对全公司生效，只有数据权限为全部数据的管理员可以修改"))


def create_type(data: dict[str, Any]) -> DictType:
    _require_all_data()
    name = _text(data.get("name"), "name", N_("字典名称"), limit_of(DictType.name))
    code = _clean_code(data.get("dict_type"))
    row = DictType(name=name, dict_type=code,
                   status=_clean_status(data.get("status", 0) if data.get("status") is not None else 0),
                   remark=_text(data.get("remark"), "remark", N_("备注"), limit_of(DictType.remark), required=False),
                   builtin=False)
    with taken_meanwhile(lambda: _clean_code(code)):
        db.session.add(row)
        db.session.commit()
    return row


def modify_type(data: dict[str, Any]) -> DictType:
    _require_all_data()
    # locked before its items follow a new code: an item created meanwhile (which shares the lock) commits first
    # and moves with the others, or waits and finds its code gone (422); unlocked, a review's items kept the old
    # code, which no type had any more
    row = live_row(DictType, data["id"], for_update=True)
    if row is None:
        raise NotFound(gettext("字典类型不存在"))
    row_id, code = row.id, row.dict_type
    if data.get("name") is not None:
        row.name = _text(data["name"], "name", N_("字典名称"), limit_of(DictType.name))
    if data.get("dict_type") is not None and data["dict_type"].strip() != row.dict_type:
        if row.builtin:
            raise Conflict(gettext("内置字典类型「%(code)s」由系统使用，不能修改其编码", code=row.dict_type))
        code = _clean_code(data["dict_type"], exclude_id=row.id)
        # the items follow their type's code
        db.session.execute(update(DictData).where(DictData.dict_type == row.dict_type,
                                                  DictData.deleted_at.is_(None)).values(dict_type=code))
        row.dict_type = code
    if data.get("status") is not None:
        row.status = _clean_status(data["status"])
    if "remark" in data:
        row.remark = _text(data.get("remark"), "remark", N_("备注"), limit_of(DictType.remark), required=False)
    with taken_meanwhile(lambda: _clean_code(code, exclude_id=row_id)):
        db.session.commit()
    return row


def delete_type(type_id: int, cascade: bool = False) -> DictType:
    _require_all_data()
    # locked before its items are counted: an item created meanwhile waits and then finds the type gone (422),
    # or was created first and is counted; a second delete waits and finds it gone (404)
    row = live_row(DictType, type_id, for_update=True)
    if row is None:
        raise NotFound(gettext("字典类型不存在"))
    if row.builtin:
        raise Conflict(gettext("内置字典类型「%(name)s」由系统使用，不能删除", name=translated(row.name)))
    count = _item_counts([row.dict_type]).get(row.dict_type, 0)
    if count and not cascade:
        raise Conflict(gettext("不能删除字典类型「%(name)s」：仍有 %(n)s 个字典数据，请先删除这些数据或选择一并删除",
                               name=translated(row.name), n=count))
    now = utcnow()
    if count:
        db.session.execute(update(DictData).where(DictData.dict_type == row.dict_type,
                                                  DictData.deleted_at.is_(None)).values(deleted_at=now))
    row.deleted_at = now
    db.session.commit()
    return row


# ---------------------------------------------------------------------------------------------
# Items


def get_data(data_id: int) -> DictData:
    found = db.session.execute(DictData.live().where(DictData.id == data_id)).scalar_one_or_none()
    if found is None:
        raise NotFound(gettext("字典数据不存在"))
    return found


def data_item(row: DictData) -> dict[str, Any]:
    return {"id": row.id, "dict_type": row.dict_type, "label": row.label, "label_en": row.label_en,
            "value": row.value, "sort": row.sort,
            "css_class": row.css_class or "", "is_default": bool(row.is_default), "status": row.status,
            "remark": row.remark, "gmt_created_date": row.gmt_created_date, "gmt_created_name": row.gmt_created_name,
            "gmt_modified_date": row.gmt_modified_date, "gmt_modified_name": row.gmt_modified_name}


def page_data(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    stmt = DictData.live()
    if (code := (filters.get("dict_type") or "").strip()):
        stmt = stmt.where(DictData.dict_type == code)
    if (text := (filters.get("label") or "").strip()):
        stmt = stmt.where(DictData.label.contains(text, autoescape=True))
    if filters.get("status") is not None:
        stmt = stmt.where(DictData.status == filters["status"])
    result = paginate(stmt.order_by(DictData.dict_type, DictData.sort, DictData.id), page, page_size)
    result.items = [data_item(d) for d in result.items]
    return result


def _clean_type_of_item(code: Any, exclusive: bool = False) -> str:
    """A live type, locked until the commit (shared; `exclusive` for an item marked default, which unmarks the
    others under the same lock): a delete of the type waits for this item and counts it, or went first (422)."""
    code = _text(code, "dictType", N_("字典类型"), limit_of(DictData.dict_type)) or ""
    write_lock_first()
    if db.session.execute(select(DictType.id).where(DictType.dict_type == code, DictType.deleted_at.is_(None))
                          .with_for_update(read=not exclusive)).first() is None:
        raise Invalid(gettext("字典类型不存在"), field="dictType")
    return code


def _clean_value(code: str, value: Any, exclude_id: int | None = None) -> str:
    value = _text(value, "value", N_("字典键值"), limit_of(DictData.value)) or ""
    stmt = select(DictData.id).where(DictData.dict_type == code, DictData.value == value,
                                     DictData.deleted_at.is_(None))
    if exclude_id:
        stmt = stmt.where(DictData.id != exclude_id)
    if db.session.execute(stmt.limit(1)).first() is not None:
        raise Conflict(gettext(DUPLICATE_VALUE), errors={"value": [gettext(DUPLICATE_VALUE)]})
    return value


def _check_builtin_value(code: str, value: str) -> None:
    """A built-in type labels the values the console's code reads (a user's state 0 or 1): an item of another value
    would be offered by the lists' filters, which refuse it. Its labels, colours and order stay the administrator's."""
    if code in BUILTIN_DICTS and value not in (allowed := [item[0] for item in BUILTIN_DICTS[code][2]]):
        raise Invalid(gettext(
            "「%(name)s」是内置字典类型，其键值由系统使用，只能是 %(values)s；可以修改标签、颜色和排序",
            name=translated(BUILTIN_DICTS[code][0]), values=gettext("、").join(allowed)), field="value")


def _clean_css_class(value: Any) -> str | None:
    value = (value or "").strip()
    if value and value not in BADGE_COLOURS:
        raise Invalid(gettext("标签颜色须为以下之一：%(colours)s", colours=", ".join(BADGE_COLOURS)), field="cssClass")
    return value or None


def _label_en(value: Any) -> str | None:
    return _text(value, "labelEn", N_("英文标签"), limit_of(DictData.label_en), required=False)


def _lock_types(*codes: str | None) -> None:
    """The types' rows locked until the commit (FOR UPDATE on PostgreSQL; on SQLite the write lock the first
    write takes serialises the writers anyway): items of one type marked default at once wait for each other."""
    wanted = sorted({c for c in codes if c})
    if wanted:
        db.session.execute(select(DictType.id).where(DictType.dict_type.in_(wanted), DictType.deleted_at.is_(None))
                           .order_by(DictType.id).with_for_update())


def _only_default(row: DictData) -> None:
    """One default per type: marking an item default unmarks the others, under the type's lock, so the later
    of two items marked at once sees the earlier one committed and unmarks it."""
    if row.is_default:
        _lock_types(row.dict_type)
        stmt = update(DictData).where(DictData.dict_type == row.dict_type, DictData.deleted_at.is_(None),
                                      DictData.is_default.is_(True))
        if row.id:
            stmt = stmt.where(DictData.id != row.id)
        db.session.execute(stmt.values(is_default=False))


def create_data(data: dict[str, Any]) -> DictData:
    _require_all_data()
    code = _clean_type_of_item(data.get("dict_type"), exclusive=bool(data.get("is_default")))
    label = _text(data.get("label"), "label", N_("字典标签"), limit_of(DictData.label))
    label_en = _label_en(data.get("label_en"))
    value = _clean_value(code, data.get("value"))
    _check_builtin_value(code, value)
    row = DictData(dict_type=code, label=label, label_en=label_en, value=value, sort=int(data.get("sort") or 0),
                   css_class=_clean_css_class(data.get("css_class")), is_default=bool(data.get("is_default")),
                   status=_clean_status(data.get("status") if data.get("status") is not None else 0),
                   remark=_text(data.get("remark"), "remark", N_("备注"), limit_of(DictData.remark), required=False))
    with taken_meanwhile(lambda: _clean_value(code, value)):
        _only_default(row)
        db.session.add(row)
        db.session.commit()
    return row


def modify_data(data: dict[str, Any]) -> DictData:
    _require_all_data()
    row = get_data(data["id"])
    row_id = row.id
    if data.get("is_default"):  # the lock before this save writes anything
        _lock_types(row.dict_type, data.get("dict_type"))
    changes: dict[str, Any] = {}  # all checked before the row is touched: a check's query would flush it
    code, value = row.dict_type, row.value
    if data.get("dict_type") is not None:
        code = changes["dict_type"] = _clean_type_of_item(data["dict_type"], exclusive=bool(data.get("is_default")))
    if data.get("label") is not None:
        changes["label"] = _text(data["label"], "label", N_("字典标签"), limit_of(DictData.label))
    if "label_en" in data:
        changes["label_en"] = _label_en(data.get("label_en"))
    if data.get("value") is not None or data.get("dict_type") is not None:
        value = changes["value"] = _clean_value(code, data.get("value", row.value), exclude_id=row_id)
        if (code, value) != (row.dict_type, row.value):
            _check_builtin_value(code, value)
    if data.get("sort") is not None:
        changes["sort"] = int(data["sort"])
    if "css_class" in data:
        changes["css_class"] = _clean_css_class(data.get("css_class"))
    if data.get("is_default") is not None:
        changes["is_default"] = bool(data["is_default"])
    if data.get("status") is not None:
        changes["status"] = _clean_status(data["status"])
    if "remark" in data:
        changes["remark"] = _text(data.get("remark"), "remark", N_("备注"), limit_of(DictData.remark),
                                  required=False)
    with taken_meanwhile(lambda: _clean_value(code, value, exclude_id=row_id)):
        for key, new in changes.items():
            setattr(row, key, new)
        with db.session.no_autoflush:
            _only_default(row)
        db.session.commit()
    return row


def delete_data(data_id: int) -> DictData:
    _require_all_data()
    row = get_data(data_id)
    row.soft_delete()
    db.session.commit()
    return row


# ---------------------------------------------------------------------------------------------
# Setup


def ensure_builtin_dicts() -> list[str]:
    """Create the built-in types and their items where missing (`pcloud init`/`sync`); an administrator's
    edits are kept. A built-in item still labelled as built gets its English label where it has none (a
    database made before there were English labels). Also the version row the caches read. Returns the type
    codes created."""
    from pcloud.params.models import SettingVersion

    if db.session.get(SettingVersion, 1) is None:
        db.session.add(SettingVersion(id=1, version=0))
        db.session.flush()
    created = []
    for code, (name, remark, items) in BUILTIN_DICTS.items():
        if type_by_code(code) is not None:
            for value, label_, _colour, english in items:
                db.session.execute(update(DictData).where(
                    DictData.dict_type == code, DictData.value == value, DictData.label == label_,
                    DictData.deleted_at.is_(None), func.coalesce(DictData.label_en, "") == "")
                    .values(label_en=english))
            continue
        db.session.add(DictType(name=name, dict_type=code, status=0, builtin=True, remark=remark))
        for sort, (value, label_, colour, english) in enumerate(items, start=1):
            db.session.add(DictData(dict_type=code, label=label_, label_en=english, value=value, sort=sort,
                                    css_class=colour, is_default=sort == 1, status=0))
        created.append(code)
    db.session.commit()
    return created
