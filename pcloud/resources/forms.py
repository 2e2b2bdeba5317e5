"""访问资源 forms (pages)."""

from __future__ import annotations

from wtforms import RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from pcloud.core.forms import PageForm
from pcloud.core.schemas import limit_of
from pcloud.resources.models import Resource


class ResourceForm(PageForm):
    parent_id = SelectField("上级资源", coerce=int, choices=[], validate_choice=False)
    name = StringField("资源名称", validators=[DataRequired("请输入资源名称"), Length(max=limit_of(Resource.name))])
    resource_url = StringField("资源路径", validators=[DataRequired("请输入资源路径"),
                                                              Length(max=limit_of(Resource.resource_url))],
                               render_kw={"placeholder": "/api/admin/example/{id}/delete", "autocomplete": "off"})
    method = SelectField("请求方式", choices=[("*", "*（全部）"), ("GET", "GET"), ("POST", "POST"), ("PUT", "PUT"),
                                          ("DELETE", "DELETE")], default="*")
    biz_type = RadioField("资源类型", coerce=int, choices=[(0, "接口"), (1, "按钮")], default=0)
