"""短信模板 rules, shared by the pages and the JSON API, and the rendering the SMS sender uses.

A flow names a template by its code (the sign-in's SMS code: LOGIN); the text must hold {code}, the
place of the verification code, and may hold {minutes}, its validity. Without a template of that code
the sender words the message itself, as before templates existed. A code's letters a-z are saved, looked up and
searched for in capitals (`normal_code`): `login` is LOGIN, the sign-in's, and one code whatever its case, so that
the unique index of live codes keeps `login` from living beside `LOGIN`.
"""

from __future__ import annotations

import re
import string
from typing import Any

from flask_babel import gettext
from sqlalchemy import select

from pcloud.core.database import taken_meanwhile
from pcloud.core.errors import Conflict, Invalid, NotFound
from pcloud.core.messages import N_
from pcloud.core.paging import Page, paginate
from pcloud.core.schemas import limit_of
from pcloud.datascope import service as datascope
from pcloud.extensions import db
from pcloud.smstemplates.models import SmsTemplate

CODE_PLACEHOLDER, MINUTES_PLACEHOLDER = "{code}", "{minutes}"
# what reads as a placeholder: a word in braces, spaces allowed ({minute}, {Code}, { code }); only the two above are
# filled in, anything else would go out to every user as typed
_PLACEHOLDER = re.compile(r"\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}")
DUPLICATE_CODE = N_("短信编码已存在")
# a code is a key that flows and SMS gateways name a template by: an allow-list, as for other keys
_CODE_CHARACTERS = re.compile(r"[A-Za-z0-9_.-]+")
CODE_CHARACTERS_SAID = N_("短信编码只能由英文字母、数字和 _ - . 组成，如 LOGIN")
_CAPITALS = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def normal_code(code: str) -> str:
    """A template code as it is saved and looked up: its letters a-z in capitals, anything else as it is (the same
    length, and the same in Python, SQLite and PostgreSQL, whose upper() differ beyond ASCII)."""
    return code.translate(_CAPITALS)


def get_template(template_id: int) -> SmsTemplate:
    template = db.session.execute(SmsTemplate.live().where(SmsTemplate.id == template_id)).scalar_one_or_none()
    if template is None:
        raise NotFound(gettext("短信模板不存在"))
    return template


def to_item(template: SmsTemplate) -> dict[str, Any]:
    return {"id": template.id, "code": template.code, "name": template.name, "description": template.description,
            "gmt_created_date": template.gmt_created_date, "gmt_created_name": template.gmt_created_name,
            "gmt_modified_date": template.gmt_modified_date, "gmt_modified_name": template.gmt_modified_name}


def page_templates(filters: dict[str, Any], page: int = 1, page_size: int = 10) -> Page:
    stmt = SmsTemplate.live()
    if (name := (filters.get("name") or "").strip()):
        stmt = stmt.where(SmsTemplate.name.contains(name, autoescape=True))
    if (code := (filters.get("code") or "").strip()):
        stmt = stmt.where(SmsTemplate.code.contains(normal_code(code), autoescape=True))
    result = paginate(stmt.order_by(SmsTemplate.code, SmsTemplate.id), page, page_size)
    result.items = [to_item(t) for t in result.items]
    return result


def _clean(value: str | None, field: str, label: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise Invalid(gettext("请输入%(label)s", label=label), field=field)
    if len(value) > limit:
        raise Invalid(gettext("%(label)s不能超过 %(limit)s 个字符", label=label, limit=limit), field=field)
    return value


def _clean_code(code: str | None, exclude_id: int | None = None) -> str:
    code = normal_code(_clean(code, "code", gettext("短信编码"), limit_of(SmsTemplate.code)))
    if not _CODE_CHARACTERS.fullmatch(code):
        raise Invalid(gettext(CODE_CHARACTERS_SAID), field="code")
    stmt = select(SmsTemplate.id).where(SmsTemplate.code == code, SmsTemplate.deleted_at.is_(None))
    if exclude_id:
        stmt = stmt.where(SmsTemplate.id != exclude_id)
    if db.session.execute(stmt.limit(1)).first() is not None:
        raise Conflict(gettext(DUPLICATE_CODE), errors={"code": [gettext(DUPLICATE_CODE)]})
    return code


def _clean_description(text: str | None) -> str:
    text = _clean(text, "description", gettext("短信内容"), limit_of(SmsTemplate.description))
    if CODE_PLACEHOLDER not in text:
        raise Invalid(gettext("短信内容须包含验证码的占位符 %(placeholder)s",
                              placeholder=CODE_PLACEHOLDER), field="description")
    unknown = [p for p in dict.fromkeys(_PLACEHOLDER.findall(text)) if p not in (CODE_PLACEHOLDER, MINUTES_PLACEHOLDER)]
    if unknown:
        raise Invalid(gettext("短信内容中的 %(unknown)s 不会被替换，会原样发给用户：只能使用 %(code)s（验证码）和 "
                              "%(minutes)s（有效分钟数）", unknown=gettext("、").join(unknown),
                              code=CODE_PLACEHOLDER, minutes=MINUTES_PLACEHOLDER), field="description")
    return text


def _require_all_data() -> None:
    """The texts are what every user receives (the sign-in code's among them): changed only by a principal whose
    data scope is all data, as a setting (a review rewrote the sign-in SMS for the whole company as an admin of
    one department, to phish the codes)."""
    datascope.require_all_data(gettext("短信模板对全公司生效，只有数据权限为全部数据的管理员可以修改"))


def create_template(data: dict[str, Any]) -> SmsTemplate:
    _require_all_data()
    code = _clean_code(data.get("code"))
    template = SmsTemplate(code=code,
                           name=_clean(data.get("name"), "name", gettext("短信名称"), limit_of(SmsTemplate.name)),
                           description=_clean_description(data.get("description")))
    with taken_meanwhile(lambda: _clean_code(code)):
        db.session.add(template)
        db.session.commit()
    return template


def modify_template(data: dict[str, Any]) -> SmsTemplate:
    _require_all_data()
    template = get_template(data["id"])
    template_id, code = template.id, template.code
    if data.get("code") is not None:
        code = _clean_code(data["code"], exclude_id=template_id)
    with taken_meanwhile(lambda: _clean_code(code, exclude_id=template_id)):
        template.code = code
        if data.get("name") is not None:
            template.name = _clean(data["name"], "name", gettext("短信名称"), limit_of(SmsTemplate.name))
        if data.get("description") is not None:
            template.description = _clean_description(data["description"])
        db.session.commit()
    return template


def delete_template(template_id: int) -> SmsTemplate:
    _require_all_data()
    template = get_template(template_id)
    template.soft_delete()
    db.session.commit()
    return template


def render(code_name: str, code: str, ttl_seconds: int) -> str | None:
    """The text of the live template `code_name` (in any case) with the code filled in, or None if there is none."""
    text = db.session.execute(select(SmsTemplate.description).where(
        SmsTemplate.code == normal_code(code_name), SmsTemplate.deleted_at.is_(None))).scalar()
    if text is None:
        return None
    return text.replace(CODE_PLACEHOLDER, code).replace(MINUTES_PLACEHOLDER, str(max(1, ttl_seconds // 60)))
