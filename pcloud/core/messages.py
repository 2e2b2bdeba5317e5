"""marshmallow's stock validation messages, said in Simplified Chinese at their source.

The interface's language is Chinese (API.md: `msg` and `errors` fit to show an administrator as is).
Setting the libraries' default messages once, here, means every schema of every module speaks
Chinese without each validator repeating its message, and no code parses English text back.
A validator that passes its own `error=` keeps it. Imported by `core.schemas`.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

_FIELD_MESSAGES: dict[type[fields.Field], dict[str, str]] = {
    fields.Field: {"required": "必填项不能为空", "null": "不能为 null", "validator_failed": "取值不正确"},
    fields.String: {"invalid": "必须是字符串", "invalid_utf8": "不是有效的 UTF-8 字符串"},
    fields.Number: {"invalid": "必须是数字", "too_large": "数值过大"},
    fields.Integer: {"invalid": "必须是整数"},
    fields.Float: {"special": "不允许 NaN 或无穷大"},
    fields.Decimal: {"special": "不允许 NaN 或无穷大"},
    fields.Boolean: {"invalid": "必须是布尔值"},
    fields.List: {"invalid": "必须是数组"},
    fields.Tuple: {"invalid": "必须是数组"},
    fields.Mapping: {"invalid": "必须是对象"},
    fields.Nested: {"type": "类型不正确"},
    fields.DateTime: {"invalid": "时间格式不正确", "invalid_awareness": "时间格式不正确",
                      "format": "时间无法格式化"},
    fields.Date: {"invalid": "日期格式不正确，应为 2021-02-15", "invalid_awareness": "日期格式不正确",
                  "format": "日期无法格式化"},
    fields.Time: {"invalid": "时间格式不正确", "invalid_awareness": "时间格式不正确", "format": "时间无法格式化"},
    fields.TimeDelta: {"invalid": "时长格式不正确", "format": "时长无法格式化"},
    fields.Email: {"invalid": "邮箱地址格式不正确"},
    fields.URL: {"invalid": "网址格式不正确"},
    fields.UUID: {"invalid_uuid": "UUID 格式不正确"},
    fields.IP: {"invalid_ip": "IP 地址格式不正确"},
    fields.Enum: {"unknown": "取值必须是其中之一：{choices}"},
}


def speak_chinese() -> None:
    """Replace the stock English messages (idempotent)."""
    for field_class, messages in _FIELD_MESSAGES.items():
        field_class.default_error_messages = {**field_class.default_error_messages, **messages}
    Schema._default_error_messages = {"type": "类型不正确，应为 JSON 对象", "unknown": "未知字段"}

    validate.Length.message_min = "长度不能少于 {min}"
    validate.Length.message_max = "长度不能超过 {max}"
    validate.Length.message_all = "长度须在 {min} 到 {max} 之间"
    validate.Length.message_equal = "长度必须是 {equal}"
    validate.Range.message_gte = "大于或等于"
    validate.Range.message_gt = "大于"
    validate.Range.message_lte = "小于或等于"
    validate.Range.message_lt = "小于"
    validate.Range.message_min = "必须{min_op} {{min}}"
    validate.Range.message_max = "必须{max_op} {{max}}"
    validate.Range.message_all = "必须{min_op} {{min}} 且{max_op} {{max}}"
    validate.OneOf.default_message = "取值必须是其中之一：{choices}"
    validate.Regexp.default_message = "格式不正确"
    validate.Equal.default_message = "必须等于 {other}"
    validate.ContainsOnly.default_message = "包含不允许的取值，允许的取值：{choices}"
    validate.NoneOf.default_message = "取值不允许"
    validate.Email.default_message = "邮箱地址格式不正确"
    validate.URL.default_message = "网址格式不正确"


speak_chinese()
