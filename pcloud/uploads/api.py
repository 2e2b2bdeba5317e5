"""Image upload under /api/admin/upload (and /api/oss/upload, the original PCloud's name) and the files."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, request
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import fields

from pcloud.core.operations import operation
from pcloud.core.schemas import BaseSchema
from pcloud.core.security import current_principal, public
from pcloud.uploads import service

blp = Blueprint("uploads_api", __name__, url_prefix="/api", description="文件上传（头像等图片）")


class UploadArgs(BaseSchema):
    file = Upload(required=True, metadata={"description": "PNG, JPEG, GIF or WebP, at most 2 MiB and 4096×4096 pixels"})


class UploadOut(BaseSchema):
    url = fields.String(metadata={"description": "where the image is served, e.g. /api/oss/files/xxx.png"})


def _store(args: dict[str, Any]) -> dict[str, str]:
    return {"url": service.store_image(args["file"].stream, current_principal())}


@operation(blp, "/admin/upload", "Upload", UploadOut, title="上传图片", args=UploadArgs, location="files")
def upload(args: dict[str, Any]) -> dict[str, str]:
    """上传图片（multipart 字段 file；按内容识别类型，最大 2 MiB、4096×4096 像素，重新编码）；data.url 为访问地址"""
    return _store(args)


@operation(blp, "/oss/upload", "OssUpload", UploadOut, title="上传图片", args=UploadArgs, location="files")
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
