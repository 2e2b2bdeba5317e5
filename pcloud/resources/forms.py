"""访问资源 forms (pages)."""

from __future__ import annotations

from flask_babel import lazy_gettext
from wtforms import RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from pcloud.core.forms import PageForm
from pcloud.core.schemas import limit_of
from pcloud.resources.models import Resource


class ResourceForm(PageForm):
    parent_id = SelectField(lazy_gettext("上级资源"), coerce=int, choices=[], validate_choice=False)
    name = StringField(lazy_gettext("资源名称"), validators=[DataRequired(lazy_gettext("请输入资源名称")),
                                                         Length(max=limit_of(Resource.name))])
    resource_url = StringField(lazy_gettext("资源路径"),
                               validators=[DataRequired(lazy_gettext("请输入资源路径")),
                                           Length(max=limit_of(Resource.resource_url))],
                               render_kw={"placeholder": "/api/admin/example/{id}/delete", "autocomplete": "off"})
    method = SelectField(lazy_gettext("请求方式"),
                         choices=[("*", lazy_gettext("*（全部）")), ("GET", "GET"), ("POST", "POST"), ("PUT", "PUT"),
                                  ("DELETE", "DELETE")], default="*")
    biz_type = RadioField(lazy_gettext("资源类型"), coerce=int,
                          choices=[(0, lazy_gettext("接口")), (1, lazy_gettext("按钮"))], default=0)
