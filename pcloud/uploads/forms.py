"""云上传 forms (pages): storage settings, every choice from the service's allow-lists."""

from __future__ import annotations

from flask_babel import lazy_gettext
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from pcloud.core.forms import PageForm
from pcloud.uploads.service import STORAGE_BUCKETS, STORAGE_NAME_MAX, STORAGE_TYPES


class StorageForm(PageForm):
    name = StringField(lazy_gettext("存储名称"), validators=[
        DataRequired(lazy_gettext("请输入存储名称")),
        Length(max=STORAGE_NAME_MAX, message=lazy_gettext("存储名称不能超过 %(max)d 个字符"))])
    type = SelectField(lazy_gettext("存储类型"), choices=list(STORAGE_TYPES.items()))
    bucket_name = SelectField(lazy_gettext("存储桶"),
                              choices=[(b, b) for buckets in STORAGE_BUCKETS.values() for b in buckets])
