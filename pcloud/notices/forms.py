"""通知公告 forms (pages)."""

from __future__ import annotations

from flask_babel import lazy_gettext
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from pcloud.core.forms import PageForm
from pcloud.notices.models import CONTENT_MAX
from pcloud.notices.service import IMAGE_MAX_BYTES, TITLE_MAX, TYPES


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class NoticeForm(PageForm):
    image_max_bytes = IMAGE_MAX_BYTES  # 插入图片 refuses a bigger file when it is chosen (static/js/notice-image.js)
    title = StringField(lazy_gettext("标题"), validators=[
        DataRequired(lazy_gettext("请输入标题")),
        Length(max=TITLE_MAX, message=lazy_gettext("标题不能超过 %(max)d 个字符"))])
    notice_type = SelectField(lazy_gettext("类型"), coerce=int, choices=sorted(TYPES.items()), default=1)
    content = TextAreaField(lazy_gettext("内容"), validators=[
        DataRequired(lazy_gettext("请输入内容")),
        Length(max=CONTENT_MAX, message=lazy_gettext("内容不能超过 %(max)d 个字符"))],
                            render_kw={"rows": 10})
    audience = RadioField(lazy_gettext("可见范围"), choices=[
        ("all", lazy_gettext("全员")), ("some", lazy_gettext("指定角色或部门"))], default="all")
    role_ids = MultiCheckboxField(lazy_gettext("角色"), coerce=int, choices=[])
    # a tree-select picker over the indented options (static/js/app.js), several departments at once
    dept_ids = SelectMultipleField(lazy_gettext("部门（含下级部门）"), coerce=int, choices=[], render_kw={"size": 6})

    def values(self) -> dict[str, object]:
        """What the service takes, as the API's schema gives it: the ticked roles and departments whatever the
        radio says, so that 全员 beside a tick is refused as the API refuses it rather than sent to everyone."""
        return {"title": self.title.data, "content": self.content.data, "notice_type": self.notice_type.data,
                "audience": {"all": self.audience.data == "all", "role_ids": list(self.role_ids.data or []),
                             "dept_ids": list(self.dept_ids.data or [])}}
