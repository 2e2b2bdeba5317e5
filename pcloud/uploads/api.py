"""Image upload under /api/admin/upload (and /api/oss/upload, the original PCloud's name) and the files."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, abort, request
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import fields, validate

from pcloud.core.messages import N_
from pcloud.core.operations import operation
from pcloud.core.schemas import AuditOut, BaseSchema, FilterArgs, Id, LocalDateTime, PageArgs, Text
from pcloud.core.security import current_principal, public
from pcloud.uploads import service

blp = Blueprint("uploads_api", __name__, url_prefix="/api", description="文件上传（头像等图片）")


class UploadArgs(BaseSchema):
    file = Upload(required=True, metadata={"description": "PNG, JPEG, GIF or WebP, at most 2 MiB and 4096×4096 pixels"})


class UploadOut(BaseSchema):
    url = fields.String(metadata={"description": "where the image is served, e.g. /api/oss/files/xxx.png"})


def _store(args: dict[str, Any]) -> dict[str, str]:
    return {"url": service.store_image(args["file"].stream, current_principal())}


@operation(blp, "/admin/upload", "Upload", UploadOut, title=N_("上传图片"), args=UploadArgs, location="files")
def upload(args: dict[str, Any]) -> dict[str, str]:
    """上传图片（multipart 字段 file；按内容识别类型，最大 2 MiB、4096×4096 像素，重新编码）；data.url 为访问地址"""
    return _store(args)


@operation(blp, "/oss/upload", "OssUpload", UploadOut, title=N_("上传图片"), args=UploadArgs, location="files")
def oss_upload(args: dict[str, Any]) -> dict[str, str]:
    """上传图片（原版前端的地址，同 /api/admin/upload）"""
    return _store(args)


@blp.route("/oss/files/<name>", methods=["GET"])
@public
@blp.response(200, content_type="image/*", description="the stored image")
def served(name: str) -> Response:
    """已上传的图片（地址不可猜测，无需令牌：<img> 不带令牌；从数据库读出，任一主机都能提供）"""
    found = service.served(name)
    if found is None:
        abort(404)
    data, content_type = found
    resp = Response(data, mimetype=content_type)
    # A name is never reused for other bytes: browsers and proxies may keep it for good.
    resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.set_etag(name)
    return resp.make_conditional(request)


# ---------------------------------------------------------------------------------------------
# 云上传 (cloud storage): the original front end's src/api/upload.js and src/api/oss.js, and our file browser


class StorageOut(AuditOut):
    id = fields.Integer()
    name = fields.String()
    type = fields.String(metadata={"description": "DATABASE: uploads live in the database, shared by every host"})
    type_name = fields.String()
    bucket_name = fields.String()


class StoragePageArgs(PageArgs):
    """The original's page and list bodies (page, pageSize, name, type)."""

    name = fields.String(validate=validate.Length(max=service.STORAGE_NAME_MAX), allow_none=True,
                         metadata={"description": "name contains"})
    type = fields.String(validate=validate.Length(max=16), allow_none=True)


class StorageListArgs(FilterArgs):
    """Any body: the list is never filtered (the original sends its list query)."""

    class Meta:
        unknown = ma.EXCLUDE


# An allow-list: the only fields are these, so no host, endpoint, key or path can be sent (422 unknown field).
class StorageCreateArgs(BaseSchema):
    name = Text(service.STORAGE_NAME_MAX, required=True)
    type = fields.String(required=True, validate=validate.OneOf(sorted(service.STORAGE_TYPES),
                                                                 error=service.TYPE_REFUSED))
    bucket_name = fields.String(allow_none=True, validate=validate.Length(max=64),
                                metadata={"description": "sys_upload (the default): the one bucket of DATABASE"})


class StorageModifyArgs(BaseSchema):
    id = Id(required=True)
    name = Text(service.STORAGE_NAME_MAX)
    type = fields.String(validate=validate.OneOf(sorted(service.STORAGE_TYPES), error=service.TYPE_REFUSED))
    bucket_name = fields.String(allow_none=True, validate=validate.Length(max=64))


StorageCreateArgs.echo_of = StorageOut
StorageModifyArgs.echo_of = StorageOut


class FilePageArgs(PageArgs):
    name = fields.String(validate=validate.Length(max=32), allow_none=True, metadata={"description": "name contains"})
    content_type = fields.String(validate=validate.OneOf(sorted(service.MIMETYPES.values())), allow_none=True)


class FileOut(BaseSchema):
    name = fields.String()
    size = fields.Integer(metadata={"description": "bytes"})
    content_type = fields.String()
    modified = LocalDateTime()
    url = fields.String()
    avatar_user_id = fields.Integer(allow_none=True, metadata={"description": "the user whose avatar it is"})


class ObjectsArgs(FilterArgs):
    """src/views/personalized/upload/form.vue postObjects: maxKey, ossType, bucketName, prefix, marker."""

    max_key = fields.Integer(load_default=1000, validate=validate.Range(min=1, max=1000))
    oss_type = fields.String(allow_none=True, validate=validate.Length(max=16))
    bucket_name = fields.String(allow_none=True, validate=validate.Length(max=64))
    prefix = fields.String(allow_none=True, validate=validate.Length(max=32))
    marker = fields.String(allow_none=True, validate=validate.Length(max=32))


class ObjectOut(BaseSchema):
    key = fields.String()
    size = fields.Integer()
    storage_class = fields.String()
    last_modified = LocalDateTime()
    url = fields.String()
    file = fields.Boolean()


@operation(blp, "/admin/upload/page", "StoragePage", StorageOut, paged=True, args=StoragePageArgs)
def storage_page(args: dict[str, Any]) -> Any:
    """云上传：存储设置分页列表（名称包含、类型）"""
    return service.page_storages(args, args["page"], args["page_size"])


@operation(blp, "/admin/upload/list", "StorageList", StorageOut, many=True, args=StorageListArgs)
def storage_list(_: dict[str, Any]) -> list[dict[str, Any]]:
    """云上传：全部存储设置（不分页）"""
    return service.list_storages()


@operation(blp, "/admin/upload/create", "StorageCreate", fields.Integer(), title=N_("存储设置新增"),
           args=StorageCreateArgs)
def storage_create(args: dict[str, Any]) -> int:
    """新增存储设置：name、type（只能是 DATABASE）、bucketName（只能是 sys_upload，默认即是）；不接受主机、地址或路径"""
    return service.create_storage(args).id


@operation(blp, "/admin/upload/modify", "StorageModify", fields.Integer(), method="PUT", title=N_("存储设置修改"),
           args=StorageModifyArgs)
def storage_modify(args: dict[str, Any]) -> int:
    """修改存储设置（同新增的取值范围）"""
    return service.modify_storage(args["id"], args).id


@operation(blp, "/admin/upload/<int:id>/delete", "StorageDelete", method="DELETE", title=N_("存储设置删除"))
def storage_delete(id: int) -> None:  # noqa: A002 - the route's name
    """删除存储设置（软删除；最后一个存储不能删除，409）"""
    service.delete_storage(id)


@operation(blp, "/admin/upload/files/page", "FilePage", FileOut, paged=True, args=FilePageArgs)
def file_page(args: dict[str, Any]) -> Any:
    """云上传：存储中的文件（名称包含、类型），最新的在前"""
    result = service.page_files(args, args["page"], args["page_size"])
    return result.items, result


@operation(blp, "/admin/upload/files/<name>/delete", "FileDelete", method="DELETE", title=N_("文件删除"))
def file_delete(name: str) -> None:
    """删除存储中的文件（仍是用户头像的文件 409）"""
    service.delete_file(name)


@operation(blp, "/oss/cloud/bucket/<oss_type>", "OssBuckets", StorageOut, many=True, method="GET")
def oss_buckets(oss_type: str) -> list[dict[str, Any]]:
    """原版前端的存储桶列表：无论 ossType，都是保存上传文件的数据库存储（存储设置的每一项）"""
    return service.list_storages()


@operation(blp, "/oss/cloud/objects", "OssObjects", ObjectOut, many=True, args=ObjectsArgs)
def oss_objects(args: dict[str, Any]) -> list[dict[str, Any]]:
    """原版前端的文件列表：按文件名排序，marker 之后最多 maxKey 个"""
    return [{"key": f["name"], "size": f["size"], "storage_class": f["content_type"], "last_modified": f["modified"],
             "url": f["url"], "file": True}
            for f in service.list_files_after(args.get("marker"), args["max_key"], args.get("prefix"))]
