"""marshmallow's stock validation messages, replaced by the console's own (Chinese source strings, English on
request: docs/API.md, Languages).

Setting the libraries' default messages once, here, means every schema of every module speaks the console's
words without each validator repeating its message, and no code parses English text back.
A validator that passes its own `error=` keeps it. Imported by `core.schemas`.

Each message is a lazy string (`lazy_gettext`), said in the request's language when it is formatted or sent
(core.i18n): the validators format theirs when they fail, inside the request.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext, lazy_gettext
from marshmallow import Schema, fields, validate


class _Template:
    """A validator's message template, translated only when the error is finally formatted (in the request).

    marshmallow formats some templates in two stages: Range fills `{min_op}` when the validator is built, at
    import, and `{min}` when it fails. A lazy string would be fixed in the import's language by the first
    stage, so this keeps the stages and applies them to the translation at the last one."""

    _STAGE_KEYS = frozenset({"min_op", "max_op"})

    def __init__(self, template: str, stages: tuple[dict[str, Any], ...] = ()):
        self.template = template
        self.stages = stages

    def format(self, **values: Any) -> Any:
        if values and set(values) <= self._STAGE_KEYS:
            return _Template(self.template, (*self.stages, values))
        text = gettext(self.template)
        for stage in self.stages:
            text = text.format(**{key: str(value) for key, value in stage.items()})
        return text.format(**values)

    def __str__(self) -> str:
        return self.format()


class Said(str):
    """A sentence `gettext` said in the request's language (core.i18n has it return one), remembering its source
    string and the values filled in, so that a log keeping it to be read later (the operation log's `msg`, a
    login-log reason) stores those (`core.i18n.stored`) and each reader reads it in their own language, not in the
    words of whoever it was said to. Anything made from it (a concatenation, an f-string, `%`, a join, a slice) is
    a plain str, stored as it was said."""

    source: str
    params: dict[str, Any]


def said_as(text: str, source: str, params: dict[str, Any]) -> Said:
    """`text`, the translation of `source` filled in with `params`, as a `Said`."""
    sentence = Said(text)
    sentence.source, sentence.params = source, params
    return sentence


def said_now(message: Any) -> str:
    """A message as text in the request's language: a `Said` as it is (remembering its source), anything else
    (a lazy message said now, a composed text) as plain text. What a log should read in each reader's language is
    said by `gettext` where it is raised or answered (an error's default, an HTTP status's message)."""
    return message if isinstance(message, Said) else str(message)


def N_(text: str) -> str:  # noqa: N802 - gettext's convention: mark for the catalogue, translate later
    """Mark a source string for the catalogue without translating it here: a constant said later (by
    `gettext(value)` in the request) or data written by setup (a menu's name, translated when shown)."""
    return text


_FIELD_MESSAGES: dict[type[fields.Field], dict[str, Any]] = {
    fields.Field: {
        "required": lazy_gettext("必填项不能为空"),
        "null": lazy_gettext("不能为 null"),
        "validator_failed": lazy_gettext("取值不正确"),
    },
    fields.String: {"invalid": lazy_gettext("必须是字符串"), "invalid_utf8": lazy_gettext("不是有效的 UTF-8 字符串")},
    fields.Number: {"invalid": lazy_gettext("必须是数字"), "too_large": lazy_gettext("数值过大")},
    fields.Integer: {"invalid": lazy_gettext("必须是整数")},
    fields.Float: {"special": lazy_gettext("不允许 NaN 或无穷大")},
    fields.Decimal: {"special": lazy_gettext("不允许 NaN 或无穷大")},
    fields.Boolean: {"invalid": lazy_gettext("必须是布尔值")},
    fields.List: {"invalid": lazy_gettext("必须是数组")},
    fields.Tuple: {"invalid": lazy_gettext("必须是数组")},
    fields.Mapping: {"invalid": lazy_gettext("必须是对象")},
    fields.Nested: {"type": lazy_gettext("类型不正确")},
    fields.DateTime: {"invalid": lazy_gettext("时间格式不正确"), "invalid_awareness": lazy_gettext("时间格式不正确"),
                      "format": lazy_gettext("时间无法格式化")},
    fields.Date: {"invalid": lazy_gettext("日期格式不正确，应为 2021-02-15"),
                  "invalid_awareness": lazy_gettext("日期格式不正确"), "format": lazy_gettext("日期无法格式化")},
    fields.Time: {
        "invalid": lazy_gettext("时间格式不正确"),
        "invalid_awareness": lazy_gettext("时间格式不正确"),
        "format": lazy_gettext("时间无法格式化"),
    },
    fields.TimeDelta: {"invalid": lazy_gettext("时长格式不正确"), "format": lazy_gettext("时长无法格式化")},
    fields.Email: {"invalid": lazy_gettext("邮箱地址格式不正确")},
    fields.URL: {"invalid": lazy_gettext("网址格式不正确")},
    fields.UUID: {"invalid_uuid": lazy_gettext("UUID 格式不正确")},
    fields.IP: {"invalid_ip": lazy_gettext("IP 地址格式不正确")},
    }


def use_console_messages() -> None:
    """Replace the stock messages by the console's (idempotent)."""
    for field_class, messages in _FIELD_MESSAGES.items():
        field_class.default_error_messages = {**field_class.default_error_messages, **messages}
    # the schema-level messages every schema merges before its own `error_messages` (marshmallow's documented
    # class attribute; a schema that names its own keeps them)
    Schema.error_messages = {"type": lazy_gettext("类型不正确，应为 JSON 对象"), "unknown": lazy_gettext("未知字段")}

    validate.Length.message_min = _Template(N_("长度不能少于 {min}"))
    validate.Length.message_max = _Template(N_("长度不能超过 {max}"))
    validate.Length.message_all = _Template(N_("长度须在 {min} 到 {max} 之间"))
    validate.Length.message_equal = _Template(N_("长度必须是 {equal}"))
    validate.Range.message_gte = lazy_gettext("大于或等于")
    validate.Range.message_gt = lazy_gettext("大于")
    validate.Range.message_lte = lazy_gettext("小于或等于")
    validate.Range.message_lt = lazy_gettext("小于")
    validate.Range.message_min = _Template(N_("必须{min_op} {{min}}"))
    validate.Range.message_max = _Template(N_("必须{max_op} {{max}}"))
    validate.Range.message_all = _Template(N_("必须{min_op} {{min}} 且{max_op} {{max}}"))
    validate.OneOf.default_message = _Template(N_("取值必须是其中之一：{choices}"))
    validate.Regexp.default_message = lazy_gettext("格式不正确")
    validate.Equal.default_message = _Template(N_("必须等于 {other}"))
    validate.ContainsOnly.default_message = _Template(N_("包含不允许的取值，允许的取值：{choices}"))
    validate.NoneOf.default_message = lazy_gettext("取值不允许")
    validate.Email.default_message = lazy_gettext("邮箱地址格式不正确")
    validate.URL.default_message = lazy_gettext("网址格式不正确")


use_console_messages()
