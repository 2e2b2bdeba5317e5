"""参数设置 forms (pages): one value, its input by the parameter's type."""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from pcloud.core.forms import PageForm
from pcloud.params.service import Definition

VALUE_MAX = 1000


class ParamForm(PageForm):
    value = StringField(lazy_gettext("参数值"), validators=[
        DataRequired(lazy_gettext("请输入参数值")),
        Length(max=VALUE_MAX, message=lazy_gettext("参数值不能超过 %(max)d 个字符"))])


class ParamChoiceForm(PageForm):
    value = SelectField(lazy_gettext("参数值"), choices=[], validate_choice=False)


def form_for(d: Definition) -> FlaskForm:
    """A select for a choice or a yes/no, a text input otherwise (numbers: digits only on phones)."""
    if d.type in ("choice", "bool"):
        form = ParamChoiceForm()
        form.value.choices = ([(v, gettext(label)) for v, label in d.choices] if d.type == "choice"
                              else [("true", gettext("是")), ("false", gettext("否"))])
        return form
    form = ParamForm()
    if d.type == "int":
        form.value.render_kw = {"inputmode": "numeric"}
    return form
