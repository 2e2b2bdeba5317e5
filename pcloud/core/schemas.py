"""Base marshmallow schemas: camelCase on the wire, local ISO times, paging arguments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any, ClassVar

import marshmallow as ma
from marshmallow import fields, validate

from pcloud.core.routing import MAX_ID
from pcloud.core.timefmt import format_local, parse_to_utc


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
    def _refuse_nul(self, data: Any, **_: Any) -> Any:
        """No database stores a NUL character (PostgreSQL refuses it): say so instead of failing later."""
        if isinstance(data, dict):
            bad = {k: ["不能包含空字符 (\\u0000)"] for k, v in data.items() if _has_nul(v)}
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


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    return False


class LocalDateTime(fields.Field):
    """Naive UTC in the database, `2021-02-15T18:49:43` local on the wire; input may carry an offset."""

    default_error_messages = {"invalid": "时间格式不正确，应为 2021-02-15T18:49:43"}

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return format_local(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            return parse_to_utc(value.strip())
        except ValueError as exc:
            raise self.make_error("invalid") from exc


def Name(max_len: int = 64, required: bool = False, **kw: Any) -> fields.String:  # noqa: N802
    """A trimmed, non-blank human name."""
    return fields.String(required=required, validate=validate.Length(min=1, max=max_len), **kw)


class TrimmedString(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        result = super()._deserialize(value, attr, data, **kwargs)
        return result.strip()


class PageArgs(BaseSchema):
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


# ---------------------------------------------------------------------------------------------
# A compiled dump: the same output as `schema.dump`, for a list answered on every request.
#
# marshmallow's dump walks, per value, Field.serialize -> get_value -> _serialize through several calls;
# for the user page (10 items of 17 fields and their roles) that was about 0.45 ms of a 1.7 ms request.
# Compiled once, each field becomes one step: the value read as marshmallow reads it, then the field's
# own formatting (as is, int(), str(), or the field's _serialize when it has its own). Whatever the compiler does
# not know (dump hooks, a custom accessor, dotted attributes, dump defaults, Function/Method fields)
# falls back to marshmallow itself for that field or schema, so the output is the same by construction;
# tests/test_core.py compares both on the schemas that use it.

Dumper = Callable[[Any], Any]


def _read(obj: Any, key: str) -> Any:
    """marshmallow.utils.get_value for an undotted key: obj[key], else the attribute, else `missing`."""
    if type(obj) is dict:
        return obj[key] if key in obj else getattr(obj, key, ma.missing)
    return ma.utils.get_value(obj, key)


def _converter(field: fields.Field) -> Callable[[Any], Any] | None:
    """value -> serialized value for the field types whose formatting needs no attr/obj; None otherwise."""
    cls = type(field)
    if cls._serialize is fields.Field._serialize:  # Raw, Boolean: the value as is
        return _same
    if (isinstance(field, fields.Number) and cls._serialize is fields.Number._serialize
            and cls._format_num is fields.Number._format_num and not field.as_string):
        num_type = field.num_type
        return lambda value: value if type(value) is num_type else None if value is None else num_type(value)
    if cls._serialize is fields.String._serialize:
        text = ma.utils.ensure_text_type
        return lambda value: value if type(value) is str else None if value is None else text(value)
    if isinstance(field, fields.Nested) and cls._serialize is fields.Nested._serialize:
        schema = field.schema
        nested = _one_dumper(schema)
        if schema.many or field.many:
            return lambda value: None if value is None else [nested(each) for each in value]
        return lambda value: None if value is None else nested(value)
    if isinstance(field, fields.List) and cls._serialize is fields.List._serialize:
        inner = _converter(field.inner)
        if inner is None:
            return None
        if inner is _same:
            return lambda value: None if value is None else list(value)
        return lambda value: None if value is None else [inner(each) for each in value]
    return None


def _same(value: Any) -> Any:
    return value


# How a field's value is formatted: as read, by a converter, by the field's own _serialize(value, name, obj),
# or entirely by marshmallow's Field.serialize (which also reads the value).
_AS_IS, _CONVERT, _OWN, _MARSHMALLOW = range(4)
_compiled: dict[int, tuple[ma.Schema, Dumper]] = {}


def _field_op(schema: ma.Schema, name: str, field: fields.Field) -> tuple[str, str, str, int, Any]:
    key = field.data_key if field.data_key is not None else name
    attr = field.attribute or name
    if not field._CHECK_ATTRIBUTE or field.dump_default is not ma.missing or "." in attr:
        return key, name, attr, _MARSHMALLOW, lambda obj: field.serialize(name, obj, accessor=schema.get_attribute)
    convert = _converter(field)
    if convert is None:
        return key, name, attr, _OWN, field._serialize
    return key, name, attr, (_AS_IS if convert is _same else _CONVERT), convert


def _one_dumper(schema: ma.Schema) -> Dumper:
    """`schema.dump(obj, many=False)`, compiled once per schema instance."""
    known = _compiled.get(id(schema))
    if known is not None and known[0] is schema:
        return known[1]
    hooks = schema._hooks.get(ma.decorators.PRE_DUMP) or schema._hooks.get(ma.decorators.POST_DUMP)
    if hooks or type(schema).get_attribute is not ma.Schema.get_attribute or schema.dict_class is not dict:
        dump_one: Dumper = lambda obj: schema.dump(obj, many=False)  # noqa: E731
    else:
        ops = [_field_op(schema, name, field) for name, field in schema.dump_fields.items()]
        missing = ma.missing

        def dump_one(obj: Any) -> Any:
            out = {}
            as_dict = type(obj) is dict
            for key, name, attr, how, fn in ops:
                if how == _MARSHMALLOW:
                    value = fn(obj)
                    if value is not missing:
                        out[key] = value
                    continue
                if as_dict and attr in obj:
                    value = obj[attr]
                else:
                    value = _read(obj, attr)
                    if value is missing:
                        continue
                if how == _CONVERT:
                    value = fn(value)
                elif how == _OWN:
                    value = fn(value, name, obj)
                out[key] = value
            return out
    _compiled[id(schema)] = (schema, dump_one)
    return dump_one


def compiled_dumper(schema: ma.Schema) -> Dumper:
    """A function giving `schema.dump(obj)` (honouring `schema.many`)."""
    dump_one = _one_dumper(schema)
    if schema.many:
        return lambda obj: dump_one(obj) if obj is None else [dump_one(each) for each in obj]
    return dump_one
