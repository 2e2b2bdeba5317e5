"""用户管理 request and response schemas."""

from __future__ import annotations

import shutil
import tempfile
from typing import IO, Any

import marshmallow as ma
from flask import current_app, request
from flask_babel import gettext
from marshmallow import fields, validate
from werkzeug.exceptions import RequestEntityTooLarge

from pcloud.core.errors import Invalid
from pcloud.core.schemas import AuditOut, BaseSchema, FilterArgs, FlagInt, Id, IdList, PageArgs, limit_of
from pcloud.users.models import User

PHONE_MAX, NAME_MAX, AVATAR_MAX = limit_of(User.phone), limit_of(User.name), limit_of(User.avatar)
PASSWORD_MAX = 72  # bcrypt reads the first 72 bytes
SORTABLE = ("id", "name", "phone", "state", "gmtCreatedDate")


class UserFilterArgs(FilterArgs):
    phone = fields.String(validate=validate.Length(max=PHONE_MAX), allow_none=True)
    keyword = fields.String(validate=validate.Length(max=NAME_MAX), allow_none=True)
    role_ids = IdList(allow_none=True)
    dept_id = Id(allow_none=True)
    state = FlagInt(validate=validate.OneOf([0, 1]), allow_none=True)


class UserPageArgs(PageArgs, UserFilterArgs):
    order_by = fields.String(validate=validate.OneOf(SORTABLE), allow_none=True,
                             metadata={"description": "sort column; default gmtCreatedDate"})
    order_dir = fields.String(validate=validate.OneOf(["asc", "desc"]), allow_none=True)


class UserCreateArgs(BaseSchema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=PHONE_MAX))
    name = fields.String(required=True, validate=validate.Length(min=1, max=NAME_MAX))
    password = fields.String(required=True, validate=validate.Length(min=1, max=PASSWORD_MAX))
    state = FlagInt(validate=validate.OneOf([0, 1]), load_default=0)
    role_ids = IdList(load_default=list)
    avatar = fields.String(validate=validate.Length(max=AVATAR_MAX), allow_none=True)
    dept_id = Id(allow_none=True)
    post_id = Id(allow_none=True)
    grade_id = Id(allow_none=True)


class UserModifyArgs(BaseSchema):
    id = Id(required=True)
    phone = fields.String(validate=validate.Length(min=1, max=PHONE_MAX))
    name = fields.String(validate=validate.Length(min=1, max=NAME_MAX))
    password = fields.String(validate=validate.Length(min=1, max=PASSWORD_MAX), allow_none=True)
    state = FlagInt(validate=validate.OneOf([0, 1]))
    role_ids = IdList()
    avatar = fields.String(validate=validate.Length(max=AVATAR_MAX), allow_none=True)
    dept_id = Id(allow_none=True)
    post_id = Id(allow_none=True)
    grade_id = Id(allow_none=True)


class UserDownloadArgs(UserFilterArgs):
    order_by = fields.String(validate=validate.OneOf(SORTABLE), allow_none=True,
                             metadata={"description": "the rows' order, as the page's; default gmtCreatedDate"})
    order_dir = fields.String(validate=validate.OneOf(["asc", "desc"]), allow_none=True)
    ids = IdList(load_default=list)
    file_name = fields.String(validate=validate.Length(max=100), allow_none=True)
    type = fields.Raw(load_only=True, allow_none=True,  # ignored whatever it holds (API.md), so any JSON value
                      metadata={"description": "ignored: the original front end sends 'excel'"})


class RoleBrief(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    role_code = fields.String()


class UserOut(AuditOut):
    id = fields.Integer()
    phone = fields.String()
    name = fields.String()
    avatar = fields.String(allow_none=True)
    state = fields.Integer()
    online = fields.Boolean()
    roles = fields.List(fields.Nested(RoleBrief), attribute="live_roles")
    dept_id = fields.Integer(allow_none=True)
    dept_name = fields.String(allow_none=True)
    post_id = fields.Integer(allow_none=True)
    post_name = fields.String(allow_none=True)
    grade_id = fields.Integer(allow_none=True)
    grade_name = fields.String(allow_none=True)


# Rows echoed back by clients of the original PCloud (API.md): what the output carries is ignored.
UserCreateArgs.echo_of = UserModifyArgs.echo_of = UserOut


class UserImportArgs(BaseSchema):
    """The import's form fields (multipart, beside `file`)."""

    dry_run = fields.Boolean(load_default=True, metadata={"description": "true: check only, write nothing"})
    update_existing = fields.Boolean(load_default=False,
                                     metadata={"description": "true: a known phone updates that user; false: an error"})


class ImportErrorOut(BaseSchema):
    row = fields.Integer()
    column = fields.String()
    message = fields.String()


class ImportPasswordOut(BaseSchema):
    row = fields.Integer()
    phone = fields.String()
    name = fields.String()
    password = fields.String(metadata={"description": "generated initial password, listed once, stored only as a hash"})


class UserImportOut(BaseSchema):
    total = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    skipped = fields.Integer()
    error_count = fields.Integer(metadata={"description": "all errors; `errors` lists the first 1000"})
    errors = fields.List(fields.Nested(ImportErrorOut))
    passwords = fields.List(fields.Nested(ImportPasswordOut))
    dry_run = fields.Boolean()


def _import_limit() -> int:
    limit = int(current_app.config.get("PCLOUD_IMPORT_MAX_BYTES", 20 * 1024 * 1024))
    request.max_content_length = limit
    return limit


def _too_large(limit: int) -> Invalid:
    return Invalid(gettext("文件过大：导入文件不能超过 %(limit)s MB", limit=limit // (1024 * 1024)), field="file")


def import_body(options: bool = True) -> tuple[IO[bytes], dict[str, Any]]:
    """(the request's raw body as a file, the options from the query) for the page's import: the body read under
    PCLOUD_IMPORT_MAX_BYTES into a temporary file (in memory up to 1 MB); too large or empty: 422."""
    limit = _import_limit()
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=1 << 20)  # noqa: SIM115 - returned open
    try:
        shutil.copyfileobj(request.stream, spool, 1 << 16)
    except RequestEntityTooLarge as exc:
        spool.close()
        raise _too_large(limit) from exc
    if spool.tell() == 0:
        spool.close()
        raise Invalid(gettext("请选择要导入的 Excel 文件"), field="file")
    spool.seek(0)
    if not options:
        return spool, {}
    try:
        return spool, UserImportArgs().load(request.args.to_dict())
    except ma.ValidationError as exc:
        spool.close()
        raise Invalid(gettext("参数校验失败"), errors=exc.normalized_messages()) from exc  # type: ignore[arg-type]


def import_upload() -> tuple[Any, dict[str, Any]]:
    """(the uploaded file's stream, the form's options) of an import request, read under the import's own size
    limit (PCLOUD_IMPORT_MAX_BYTES instead of the site's MAX_CONTENT_LENGTH); a file too large, missing or
    wrong options: 422, never a 413 or a 500. Called before anything else reads the form."""
    limit = _import_limit()
    try:
        form, files = request.form, request.files
    except RequestEntityTooLarge as exc:
        raise _too_large(limit) from exc
    upload = files.get("file")
    if upload is None or not upload.filename:
        raise Invalid(gettext("请选择要导入的 Excel 文件"), field="file")
    try:
        options = UserImportArgs().load({k: v for k, v in form.items() if k != "csrf_token"})
    except ma.ValidationError as exc:
        raise Invalid(gettext("参数校验失败"), errors=exc.normalized_messages()) from exc  # type: ignore[arg-type]
    return upload.stream, options
