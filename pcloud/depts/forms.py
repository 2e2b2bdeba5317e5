"""部门管理 forms (pages)."""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from pcloud.core.forms import NumberField, PageForm, parent_id_or_invalid
from pcloud.core.schemas import SEQUENCE_MAX
from pcloud.core.timefmt import OutOfRange, day_in_range
from pcloud.depts.schemas import NAME_MAX


class LocalDateField(DateField):
    """A date input whose format error speaks Chinese, within the days every time conversion can hold."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(gettext("日期格式不正确，应为 2021-02-15")) from exc
        if self.data is not None:
            try:
                day_in_range(self.data)
            except OutOfRange as exc:
                self.data = None
                raise ValueError(str(exc)) from exc


class DeptForm(PageForm):
    parent_id = SelectField(lazy_gettext("上级部门"), coerce=parent_id_or_invalid, choices=[], validate_choice=False,
                            render_kw={"data-tree-select": ""})
    name = StringField(lazy_gettext("部门名称"), validators=[DataRequired(lazy_gettext("请输入部门名称")),
                                            Length(max=NAME_MAX,
                                                   message=lazy_gettext("部门名称不能超过 %(max)d 个字符"))])
    manager_id = HiddenField(lazy_gettext("负责人"))
    established_time = LocalDateField(lazy_gettext("成立日期"), validators=[Optional()])
    sequence = NumberField(lazy_gettext("排序"), default=0, validators=[
        Optional(), NumberRange(min=0, max=SEQUENCE_MAX, message=lazy_gettext("排序须在 %(min)s 到 %(max)s 之间"))],
        render_kw={"inputmode": "numeric"})
