"""Image uploads: checked by content, size-limited, stored under PCLOUD_UPLOAD_DIR, served at FILE_URL.

An image is accepted by what Pillow reads from its bytes, never by its name or declared type, so an
HTML or SVG file cannot be passed off as an avatar. Files get random names (so their URLs can be served
without a token: an <img> sends none) and are never overwritten; replacing an avatar removes the old file.
"""

from __future__ import annotations

import io
import os
import re
import secrets
from pathlib import Path
from typing import IO

from flask import current_app
from PIL import Image, UnidentifiedImageError

from pcloud.core.errors import Invalid

MAX_BYTES = 2 * 1024 * 1024
MAX_SIDE = 8192
# Pillow format -> (extension, mimetype)
FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg"), "GIF": ("gif", "image/gif"),
           "WEBP": ("webp", "image/webp")}
MIMETYPES = dict(FORMATS.values())
FILE_URL = "/api/oss/files/"
_NAME = re.compile(r"^[A-Za-z0-9_-]{22}\.(png|jpg|gif|webp)$")


def upload_dir() -> Path:
    return Path(current_app.config["PCLOUD_UPLOAD_DIR"])


def check_image(data: bytes, field: str = "file") -> str:
    """The Pillow format of an acceptable image, else Invalid naming `field`."""
    if not data:
        raise Invalid("请选择要上传的图片", field=field)
    if len(data) > MAX_BYTES:
        raise Invalid("图片不能超过 2 MiB", field=field)
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, (width, height) = img.format, img.size
            img.verify()  # reads the whole file's structure without decoding the pixels
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise Invalid("不是有效的图片文件，只支持 PNG、JPEG、GIF、WebP", field=field) from exc
    if fmt not in FORMATS:
        raise Invalid("只支持 PNG、JPEG、GIF、WebP 图片", field=field)
    if width > MAX_SIDE or height > MAX_SIDE:
        raise Invalid(f"图片尺寸不能超过 {MAX_SIDE}×{MAX_SIDE}", field=field)
    return fmt


def store_image(stream: IO[bytes], field: str = "file") -> str:
    """Check and store an uploaded image; returns the URL it is served at."""
    data = stream.read(MAX_BYTES + 1)
    ext = FORMATS[check_image(data, field)][0]
    folder = upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(16)}.{ext}"
    tmp = folder / f".{name}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, folder / name)  # a reader never sees half a file
    return FILE_URL + name


def stored_path(name: str) -> Path | None:
    """The file behind a served name, or None for a name we never hand out."""
    if not _NAME.match(name or ""):
        return None
    path = upload_dir() / name
    return path if path.is_file() else None


def discard(url: str | None) -> None:
    """Remove a stored file by its URL; URLs that are not ours (external avatars) are left alone."""
    if not url or not url.startswith(FILE_URL):
        return
    path = stored_path(url[len(FILE_URL):])
    if path is not None:
        path.unlink(missing_ok=True)


def discard_replaced(old_url: str | None, new_url: str | None) -> None:
    if old_url and old_url != new_url:
        discard(old_url)
