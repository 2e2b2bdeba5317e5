"""开放平台 forms (pages)."""

from __future__ import annotations

from flask_babel import lazy_gettext
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from pcloud.core.forms import PageForm
from pcloud.core.schemas import limit_of
from pcloud.openplatform.models import OpenAccount
from pcloud.resources.models import Resource

# Text limits, from the model columns (the one place each is defined)
NAME_MAX = limit_of(OpenAccount.name)
REMARK_MAX = limit_of(OpenAccount.remark)
ENTRY_NAME_MAX = limit_of(Resource.name)
URL_MAX = limit_of(Resource.resource_url)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AccountForm(PageForm):
    name = StringField(lazy_gettext("账号名称"), validators=[
        DataRequired(lazy_gettext("请输入账号名称")),
        Length(max=NAME_MAX, message=lazy_gettext("账号名称不能超过 %(max)d 个字符"))])
    remark = TextAreaField(lazy_gettext("备注"), validators=[
        Optional(), Length(max=REMARK_MAX, message=lazy_gettext("备注不能超过 %(max)d 个字符"))])


class EntryNameForm(PageForm):
    """A built-in entry's page: only its name changes (its path and method are shown, not sent)."""

    name = StringField(lazy_gettext("接口名称"), validators=[
        DataRequired(lazy_gettext("请输入接口名称")),
        Length(max=ENTRY_NAME_MAX, message=lazy_gettext("接口名称不能超过 %(max)d 个字符"))])


class EntryForm(EntryNameForm):
    resource_url = StringField(lazy_gettext("接口路径"), validators=[
        DataRequired(lazy_gettext("请输入接口路径")),
        Length(max=URL_MAX, message=lazy_gettext("接口路径不能超过 %(max)d 个字符"))])
    method = SelectField(lazy_gettext("请求方式"), choices=[("GET", "GET"), ("POST", "POST"), ("PUT", "PUT"),
                                                        ("DELETE", "DELETE"), ("*", lazy_gettext("全部 (*)"))],
                         default="GET")


class GrantForm(PageForm):
    entry_ids = MultiCheckboxField(lazy_gettext("可调用的接口"), coerce=int, choices=[])
