"""操作日志 request and response schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from pcloud.actionlog.models import ActionLog
from pcloud.actionlog.service import shown_params
from pcloud.core.i18n import translated
from pcloud.core.schemas import BaseSchema, Id, LocalDate, LocalDateTime, PageArgs, limit_of


class ActionLogPageArgs(PageArgs):
    name = fields.String(validate=validate.Length(max=limit_of(ActionLog.name)), allow_none=True,
                         metadata={"description": "operator name contains"})
    user_id = Id(allow_none=True, metadata={"description": "the operator's user id"})
    path = fields.String(validate=validate.Length(max=limit_of(ActionLog.path)), allow_none=True)
    status = fields.String(validate=validate.OneOf(["success", "fail"]), allow_none=True)
    title = fields.String(validate=validate.Length(max=limit_of(ActionLog.title)), allow_none=True,
                          metadata={"description": "the action's name, exactly (用户新增, 登录, ...)"})
    start_time = LocalDateTime(allow_none=True)
    end_time = LocalDateTime(allow_none=True)
    visit_date = LocalDate(allow_none=True, metadata={"description": "yyyy-MM-dd: that local day"})


class Outcome(fields.String):
    """A row's stored outcome sentence, answered in the request's language (core.i18n.translated): the recorder
    stores its source string and values; a row stored earlier as plain text is answered as stored."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return super()._serialize(translated(value), attr, obj, **kwargs)


class Params(fields.String):
    """A row's recorded parameters as the reader may read them (actionlog.service.shown_params)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return super()._serialize(shown_params(value), attr, obj, **kwargs)


class ActionLogOut(BaseSchema):
    id = fields.Integer()
    user_id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    title = fields.String()
    method = fields.String()
    path = fields.String()
    params = Params(allow_none=True, metadata={"description": "a script's source and diff masked without the script "
                                                              "grant (docs/API.md, Action log)"})
    status = fields.String()
    msg = Outcome(allow_none=True, metadata={"description": "in the request's language (docs/API.md, Languages)"})
    client_ip = fields.String(allow_none=True)
    os = fields.String(allow_none=True)
    browser = fields.String(allow_none=True)
    cost_ms = fields.Integer()
    gmt_created_date = LocalDateTime()
    # The original front end shows the time of an action from this name.
    gmt_modified_date = LocalDateTime(attribute="gmt_created_date", dump_only=True)


class ActionLogStatisticsOut(BaseSchema):
    daily_visits = fields.Integer(metadata={"description": "distinct users with a logged action today"})
    daily_interface_visits = fields.Integer(metadata={"description": "logged calls today"})
