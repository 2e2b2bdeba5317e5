"""职级管理 forms (pages)."""

from __future__ import annotations

from flask_babel import lazy_gettext
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from pcloud.core.forms import NumberField, PageForm
from pcloud.grades.schemas import NAME_MAX, REMARK_MAX


class GradeForm(PageForm):
    name = StringField(lazy_gettext("职级名称"), validators=[DataRequired(lazy_gettext("请输入职级名称")),
                                            Length(max=NAME_MAX,
                                                   message=lazy_gettext("职级名称不能超过 %(max)d 个字符"))])
    level = NumberField(lazy_gettext("等级"), default=0, validators=[
        InputRequired(lazy_gettext("请输入等级")), NumberRange(min=0, max=1_000_000,
                                                          message=lazy_gettext("等级须为 0 到 1000000 之间的整数"))],
        render_kw={"inputmode": "numeric", "min": 0})
    remark = TextAreaField(lazy_gettext("备注"), validators=[
        Optional(), Length(max=REMARK_MAX, message=lazy_gettext("备注不能超过 %(max)d 个字符"))])
