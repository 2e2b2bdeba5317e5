"""号段管理 request and response schemas."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext
from marshmallow import ValidationError, fields, validate

from pcloud.core.schemas import BaseSchema, LocalDateTime, PageArgs, TrimmedString, limit_of
from pcloud.segments.models import (
    BAD_NEW_TAG,
    BAD_TAG,
    MAX_ID_LIMIT,
    MAX_ID_RANGE,
    MAX_SET_ID,
    MAX_STEP,
    NEW_TAG,
    NOT_WHOLE_MAX_ID,
    TAG,
    Segment,
    spelled_in_digits,
    whole_number,
)

_tag = validate.Regexp(TAG, error=BAD_TAG)
_new_tag = validate.Regexp(NEW_TAG, error=BAD_NEW_TAG)
_step = validate.Range(min=1, max=MAX_STEP)


def doc_pattern(regex: re.Pattern[str]) -> str:
    """A pattern as the OpenAPI document gives it: ECMA 262, which reads Python's end anchor \\Z as a letter Z."""
    return regex.pattern.removesuffix(r"\Z") + "$"


# In the OpenAPI document: a 64-bit id in a request is a string of digits or a JSON integer (BigId)
BIG_ID_DOC = {"oneOf": [{"type": "string", "pattern": "^[0-9]{1,19}$"},
                        {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID_LIMIT}],
              "description": "64 位 ID：数字字符串（JavaScript 不能精确表示 2^53 以上的整数），也接受 JSON 整数"}


class BigId(fields.Field):
    """A 64-bit id: a JSON integer or a string of digits (JavaScript clients cannot hold 2^63-1 exactly)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        number = whole_number(value)
        if number is None and not spelled_in_digits(value):
            raise ValidationError(gettext(NOT_WHOLE_MAX_ID))
        if number is None or not 1 <= number <= MAX_ID_LIMIT:  # how far a tag goes: service.py says what is set
            raise ValidationError(gettext(MAX_ID_RANGE, max=MAX_SET_ID))  # the range one may set, as there
        return number

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(value)


class SegmentPageArgs(PageArgs):
    biz_tag = fields.String(validate=validate.Length(max=limit_of(Segment.biz_tag)), allow_none=True)
    description = fields.String(validate=validate.Length(max=limit_of(Segment.description)), allow_none=True)


class SegmentCreateArgs(BaseSchema):
    biz_tag = TrimmedString(required=True, validate=_new_tag, metadata={"pattern": doc_pattern(NEW_TAG)})
    max_id = BigId(load_default=1, metadata=BIG_ID_DOC)
    step = fields.Integer(strict=True, validate=_step, load_default=1000)
    description = fields.String(validate=validate.Length(max=limit_of(Segment.description)), allow_none=True)
    author = fields.String(validate=validate.Length(max=limit_of(Segment.author)), allow_none=True)
    update_time = fields.Raw(load_only=True)  # echoed back by clients: accepted and ignored


class SegmentModifyArgs(BaseSchema):
    biz_tag = TrimmedString(required=True, validate=_tag, metadata={"pattern": doc_pattern(TAG)})
    max_id = BigId(metadata=BIG_ID_DOC)
    step = fields.Integer(strict=True, validate=_step)
    description = fields.String(validate=validate.Length(max=limit_of(Segment.description)), allow_none=True)
    author = fields.String(validate=validate.Length(max=limit_of(Segment.author)), allow_none=True)
    update_time = fields.Raw(load_only=True)


class SegmentOut(BaseSchema):
    biz_tag = fields.String()
    max_id = fields.String()
    step = fields.Integer()
    description = fields.String(allow_none=True)
    author = fields.String(allow_none=True)
    update_time = LocalDateTime(metadata={"type": "string", "example": "2021-02-15T18:49:43"})


class BufferOut(BaseSchema):
    start = fields.String()
    end = fields.String()
    position = fields.String()
    remaining = fields.Integer()
    used = fields.Integer()
    step = fields.Integer()
    loaded_at = LocalDateTime()


class CacheOut(BaseSchema):
    biz_tag = fields.String()
    pid = fields.Integer()
    current = fields.Nested(BufferOut, allow_none=True)
    next = fields.Nested(BufferOut, allow_none=True)
    next_ready = fields.Boolean()
    loading = fields.Boolean()
    step = fields.Integer(allow_none=True)
    stored_step = fields.Integer(allow_none=True)
    loads = fields.Integer()
    last_load_time = LocalDateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
