"""Base marshmallow schemas: camelCase on the wire, local ISO times, paging arguments."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache
from typing import Any, ClassVar

import marshmallow as ma
from flask_babel import gettext, lazy_gettext
from marshmallow import fields, validate

from pcloud.core.routing import MAX_ID
from pcloud.core.timefmt import (
    DATE_RANGE_MSG,
    TIME_RANGE_MSG,
    OutOfRange,
    day_in_range,
    format_local,
    parse_to_utc,
)


def camelcase(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class BaseSchema(ma.Schema):
    """Attributes are snake_case in Python and camelCase on the wire; unknown fields are refused.

    An input schema may name the entity's output schema in `echo_of`: clients of the original PCloud
    send a row back as they received it (API.md, "Clients of the original PCloud"), so the keys that
    the output carries and this input does not load (audit fields, `label`, `children`, `roles`, ...)
    are dropped before validation. Any other unknown key is still refused.
    """

    echo_of: ClassVar[type[ma.Schema] | None] = None

    class Meta:
        unknown = ma.RAISE

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        field_obj.data_key = camelcase(field_obj.data_key or field_name)

    @ma.pre_load
    def _drop_echoed(self, data: Any, **_: Any) -> Any:
        if self.echo_of is None or not isinstance(data, dict):
            return data
        ignorable = echo_keys(type(self))
        # Those clients also send a cleared select (a department's manager) as "": no reference, not a typo.
        blank_means_none = cleared_keys(type(self))
        return {k: (None if v == "" and k in blank_means_none else v) for k, v in data.items()
                if k not in ignorable}

    @ma.pre_load
    def _refuse_characters(self, data: Any, **_: Any) -> Any:
        """A field whose text holds a character `refused_character` names is refused, saying which."""
        if isinstance(data, dict):
            bad = {key: [refused_character_message(found)] for key, value in data.items()
                   if (found := _refused_within(value)) is not None}
            if bad:
                raise ma.ValidationError(bad)
        return data


@cache
def echo_keys(schema_cls: type[BaseSchema]) -> frozenset[str]:
    """Wire names the output schema carries that the input schema does not load."""
    if schema_cls.echo_of is None:
        return frozenset()
    loads = {f.data_key or name for name, f in schema_cls().load_fields.items()}
    carried = {f.data_key or name for name, f in schema_cls.echo_of().dump_fields.items()}
    return frozenset(carried - loads)


@cache
def cleared_keys(schema_cls: type[BaseSchema]) -> frozenset[str]:
    """Wire names of the nullable integer fields (references such as `managerId`)."""
    return frozenset(f.data_key or name for name, f in schema_cls().load_fields.items()
                     if isinstance(f, fields.Integer) and f.allow_none)


# Characters no text of the console holds: NUL (no database stores it: PostgreSQL refuses it), the other control
# characters but tab and the line breaks (an escape sequence in a name rewrites a terminal that prints it), and the
# bidirectional overrides and isolates U+202A-U+202E and U+2066-U+2069, which turn the text after them around where
# it is shown (a name in a confirm dialog or a log line reading as another: "Trojan Source").
_REFUSED_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
NUL = "U+0000"


def refused_character(text: str) -> str | None:
    """The first character of `text` that no input may hold, as U+XXXX; None when there is none."""
    found = _REFUSED_CHARACTERS.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def refused_character_message(found: str) -> str:
    if found == NUL:
        return gettext("不能包含空字符 (\\u0000)")
    return gettext("不能包含控制字符或文字方向控制字符（%(char)s）", char=found)


def _refused_within(value: Any) -> str | None:
    """The first refused character of a request value, however nested (texts, lists, objects)."""
    if isinstance(value, str):
        return refused_character(value)
    values = value if isinstance(value, list | tuple) else value.values() if isinstance(value, dict) else ()
    return next((found for v in values if (found := _refused_within(v)) is not None), None)


class LocalDateTime(fields.Field):
    """Naive UTC in the database, `2021-02-15T18:49:43` local on the wire; input may carry an offset."""

    default_error_messages = {"invalid": lazy_gettext("时间格式不正确，应为 2021-02-15T18:49:43"),
                              "range": TIME_RANGE_MSG}

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return format_local(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            return parse_to_utc(value.strip())
        except OutOfRange as exc:  # year 0001 or 9999: said as such, never an overflow further on
            raise self.make_error("range") from exc
        except ValueError as exc:
            raise self.make_error("invalid") from exc


class LocalDate(fields.Date):
    """A calendar day `2021-02-15` within the range every time conversion can hold (core.timefmt)."""

    default_error_messages = {"range": DATE_RANGE_MSG}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        day = super()._deserialize(value, attr, data, **kwargs)
        try:
            return day_in_range(day)
        except OutOfRange as exc:
            raise self.make_error("range") from exc


def Name(max_len: int = 64, required: bool = False, **kw: Any) -> fields.String:  # noqa: N802
    """A trimmed, non-blank human name."""
    return fields.String(required=required, validate=validate.Length(min=1, max=max_len), **kw)


class TrimmedString(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        result = super()._deserialize(value, attr, data, **kwargs)
        return result.strip()


def is_blank(value: Any) -> bool:
    """"" or only spaces (a refused character, even one Python counts as a space, is not blank: it is refused)."""
    return isinstance(value, str) and not value.strip() and refused_character(value) is None


class FilterArgs(BaseSchema):
    """The arguments of a list (its page, list or export): a field sent as "" or only spaces is not given, whatever
    its type (a status, a state, an id, a time, a kind, a text, the paging), so it filters nothing and its default
    applies (API.md, Conventions). A browser form's empty option sends "", and so do the original front end's
    cleared selects and inputs, for "any"; the pages read their filter bars the same way (`core.pages.page_filters`).
    """

    @ma.pre_load
    def _blank_is_not_given(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict) and any(is_blank(value) for value in data.values()):
            return {key: value for key, value in data.items() if not is_blank(value)}
        return data


class PageArgs(FilterArgs):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000_000))
    page_size = fields.Integer(load_default=10, validate=validate.Range(min=1, max=200))

    @ma.pre_load
    def _page_no(self, data: Any, **_: Any) -> Any:
        """The original front end's pickers send `pageNo`: the same as `page` (which wins if both come)."""
        if isinstance(data, dict) and "pageNo" in data:
            data = dict(data)
            page_no = data.pop("pageNo")
            data.setdefault("page", page_no)
        return data


class FlagInt(fields.Integer):
    """A 0/1 flag that also accepts true/false, as clients of the original PCloud send it."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if value is True or value is False:
            return int(value)
        return super()._deserialize(value, attr, data, **kwargs)


class AuditOut(BaseSchema):
    gmt_created_date = LocalDateTime(dump_only=True)
    gmt_created_name = fields.String(dump_only=True, allow_none=True)
    gmt_modified_date = LocalDateTime(dump_only=True)
    gmt_modified_name = fields.String(dump_only=True, allow_none=True)


ID_RANGE = validate.Range(min=1, max=MAX_ID)


def Id(**kw: Any) -> fields.Integer:  # noqa: N802
    """An entity id: a JSON integer 1..2^31-1, the range of the id columns. Strict: the string "3" is refused
    everywhere (API.md, "Ids"), so one id is one rule in every module."""
    return fields.Integer(strict=True, validate=ID_RANGE, **kw)


def IdList(max_len: int = 1000, **kw: Any) -> fields.List:  # noqa: N802
    """A list of ids (each as `Id`), at most `max_len` of them."""
    return fields.List(Id(), validate=validate.Length(max=max_len), **kw)


# ---------------------------------------------------------------------------------------------
# Field factories every module uses, so one kind of field has one rule (range, strictness, trimming) and a
# text's limit is written once: in the model's column (`limit_of(Dept.name)`).

SEQUENCE_MAX = 1_000_000


def limit_of(column: Any) -> int:
    """The length of a String(n) model column: the one place a text field's limit is defined (schema, form and
    service read it from there)."""
    return int(column.type.length)


def ParentId(**kw: Any) -> fields.Integer:  # noqa: N802
    """A parent in a tree: 0 (a root) or a node id, a JSON integer like every id."""
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_ID), **kw)


def FilterId(**kw: Any) -> fields.Integer:  # noqa: N802
    """An id to filter a list by, 0 meaning "all": a JSON integer 0..2^31-1, strict like every id."""
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_ID), **kw)


def Sequence(**kw: Any) -> fields.Integer:  # noqa: N802
    """Order among siblings (smaller first): a JSON integer 0..SEQUENCE_MAX in every tree."""
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=SEQUENCE_MAX), **kw)


def Text(limit: int, required: bool = False, blank: bool = False, **kw: Any) -> TrimmedString:  # noqa: N802
    """Trimmed text of at most `limit` characters; blank refused unless `blank`."""
    return TrimmedString(required=required, validate=validate.Length(min=0 if blank else 1, max=limit), **kw)

