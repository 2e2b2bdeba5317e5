"""站内信 forms (pages)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext
from wtforms import HiddenField, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length

from pcloud.core.forms import PageForm
from pcloud.mail.schemas import DESCRIPTION_MAX, NAME_MAX, PHONE_MAX


class MailForm(PageForm):
    # the user picked in the recipient picker (its id); else `phone`, the picker's search box, is a typed phone
    recipient_id = HiddenField()
    phone = StringField(lazy_gettext("收信人"))
    name = StringField(lazy_gettext("标题"), validators=[
        DataRequired(lazy_gettext("请输入标题")),
        Length(max=NAME_MAX, message=lazy_gettext("标题不能超过 %(max)d 个字符"))])
    description = TextAreaField(lazy_gettext("内容"), validators=[
        DataRequired(lazy_gettext("请输入内容")),
        Length(max=DESCRIPTION_MAX, message=lazy_gettext("内容不能超过 %(max)d 个字符"))])

    def validate_phone(self, field: Any) -> None:
        if (self.recipient_id.data or "").strip():
            return  # a user picked: the search box shows their name (the service checks the pick)
        phone = (field.data or "").strip()
        if not phone:
            raise ValidationError(lazy_gettext("请选择收信人，或输入收信人手机号"))
        if len(phone) > PHONE_MAX:
            raise ValidationError(lazy_gettext("手机号不能超过 %(max)d 个字符", max=PHONE_MAX))
