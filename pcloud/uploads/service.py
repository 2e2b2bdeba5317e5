"""Image uploads: checked by content, bounded, re-encoded, stored in the database, served at FILE_URL.

An image is accepted by what Pillow reads from its bytes, never by its name or declared type, so an
HTML or SVG file cannot be passed off as an avatar; its pixels are bounded from its header before any is
decoded (MAX_SIDE a side, MAX_PIXELS decoded: a JPEG is decoded at 1/2, 1/4 or 1/8 of its size to fit, the
others are refused beyond it), it is reduced to STORED_SIDE (an avatar is shown at 96 px) and re-encoded, so
what is stored is a small clean image of the type it is served as (no bytes after its end, no text chunks,
comments or EXIF; an animation keeps its first frame).

Uploads live in the database (`sys_upload`), so every host serving one database serves every upload.
Each records who uploaded it and, once it is an avatar, whose avatar it is: an avatar may point only
at an upload of the one who sets it that is free or already that user's, and replacing an avatar removes
only the file that was that user's. Files get random names (their URLs are served without a token: an
<img> sends none) and are never overwritten.
"""

from __future__ import annotations

import io
import math
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from flask_babel import gettext, lazy_gettext
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import ColumnElement, delete, func, or_, select, true, update

from pcloud.core.database import taken_meanwhile, write_lock_first
from pcloud.core.errors import Conflict, Invalid, NotFound
from pcloud.core.i18n import shown_containing
from pcloud.core.messages import N_
from pcloud.core.paging import Page, paginate
from pcloud.core.routing import UPLOAD_NAME, UPLOAD_URL
from pcloud.core.security import Principal
from pcloud.core.timefmt import utcnow
from pcloud.datascope import service as datascope
from pcloud.extensions import db
from pcloud.notices.models import Notice
from pcloud.uploads.models import Storage, Upload
from pcloud.users.models import User

MAX_BYTES = 2 * 1024 * 1024
MAX_SIDE = 4096  # either side, from the header (API.md)
# Pixels decoded at most (2048×2048: 16 MiB as RGBA, ~40 ms): a 706-byte WebP of 4096×4096 decoded whole cost ~1.4 s
# of CPU and ~420 MB. A JPEG beyond it is decoded smaller by its own DCT scaling (draft), which costs nothing extra.
MAX_PIXELS = 2048 * 2048
# Scans of a progressive JPEG: libjpeg decodes each over every block, whatever the size it draws at (a 200 KB
# file of 5,000 empty scans cost 5.6 s of CPU); real photos have about ten. A scan starts with the SOS marker,
# FF DA, which entropy-coded data cannot contain (an FF there is followed by 00).
MAX_JPEG_SCANS = 64
STORED_SIDE = 1024  # what is kept, at most, on the longer side: an avatar is shown at 96 px, the preview too
# Pillow format -> (extension, mimetype)
FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg"), "GIF": ("gif", "image/gif"),
           "WEBP": ("webp", "image/webp")}
MIMETYPES = dict(FORMATS.values())
FILE_URL = UPLOAD_URL
TOO_BIG = N_("图片不能超过 2 MiB")  # MAX_BYTES
NOT_AN_IMAGE = N_("不是有效的图片文件，只支持 PNG、JPEG、GIF、WebP")
TOO_LARGE = N_("图片尺寸不能超过 %(side)s×%(side)s 像素")
TOO_MANY_PIXELS = N_("图片像素过多：PNG、GIF、WebP 图片的宽×高不能超过 %(pixels)s 像素"
                     "（如 %(side)s×%(side)s），请缩小后再上传")
OTHERS_UPLOAD = N_("头像只能使用自己上传、且未用作他人头像的图片")
NOT_AN_ADDRESS = N_("头像地址只能是本站图片文件的路径（如 /static/a.png）或 http(s) 图片地址")
_NAME = UPLOAD_NAME  # matched whole (fullmatch): the names store_image gives
# An image file's path on this site, spelled plainly: no %-escape (which the router decodes: /api/oss/%66iles/...
# reached an upload past the check below), no dot segment, query or fragment; an image's extension, so that no
# page that acts on a GET (/mail/5 marks mail read) becomes an <img> every viewer's browser loads.
_SITE_IMAGE = re.compile(r"^(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)+\.(png|jpe?g|gif|webp|svg)$", re.IGNORECASE)
# What a re-encoded image keeps of what its file said: how to show the pixels, nothing else.
_KEPT_INFO = ("transparency", "icc_profile", "background", "dpi")
_EXIF_ORIENTATION = 0x0112


def clean_image(data: bytes, field: str = "file") -> tuple[bytes, str]:
    """The image re-encoded, and its Pillow format; else Invalid naming `field`."""
    if not data:
        raise Invalid(gettext("请选择要上传的图片"), field=field)
    if len(data) > MAX_BYTES:
        raise Invalid(gettext(TOO_BIG), field=field)
    try:
        with Image.open(io.BytesIO(data)) as img:
            # from the header: nothing decoded yet (a camera's multi-picture JPEG is kept as its first JPEG)
            fmt, (width, height) = "JPEG" if img.format == "MPO" else img.format, img.size
            if fmt not in FORMATS:
                raise Invalid(gettext("只支持 PNG、JPEG、GIF、WebP 图片"), field=field)
            if width > MAX_SIDE or height > MAX_SIDE:
                raise Invalid(gettext(TOO_LARGE, side=MAX_SIDE), field=field)
            if fmt == "JPEG" and data.count(b"\xff\xda") > MAX_JPEG_SCANS:
                raise Invalid(gettext(NOT_AN_IMAGE), field=field)
            if fmt == "JPEG" and width * height > MAX_PIXELS:
                scale = next(sc for sc in (2, 4, 8) if (width // sc) * (height // sc) <= MAX_PIXELS)
                img.draft(img.mode, (width // scale, height // scale))  # decoded at 1/scale: still the header only
            if img.width * img.height > MAX_PIXELS:
                raise Invalid(gettext(TOO_MANY_PIXELS, pixels=MAX_PIXELS, side=math.isqrt(MAX_PIXELS)), field=field)
            img.load()  # the first frame, whole: a truncated or corrupt file fails here
            return _reencoded(img, fmt), fmt
    except Image.DecompressionBombError as exc:
        raise Invalid(gettext(TOO_LARGE, side=MAX_SIDE), field=field) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise Invalid(gettext(NOT_AN_IMAGE), field=field) from exc


def _reencoded(img: Image.Image, fmt: str) -> bytes:
    """The decoded first frame reduced to STORED_SIDE (in place: no copy at the decoded size) and encoded again."""
    turned = fmt == "JPEG" and img.getexif().get(_EXIF_ORIENTATION, 1) != 1
    reduced = max(img.size) > STORED_SIDE
    if reduced:
        # halved by averaging first where it can be (cheap), then resampled; a palette image (GIF) keeps its palette
        img.thumbnail((STORED_SIDE, STORED_SIDE), reducing_gap=1.0)
    img.info = {key: img.info[key] for key in _KEPT_INFO if key in img.info}
    out = io.BytesIO()
    if fmt == "JPEG":
        if turned:
            # the EXIF is dropped, so a phone photo's orientation goes into the pixels (at the reduced size)
            ImageOps.exif_transpose(img).save(out, format=fmt, quality=90)
        elif img.format == "JPEG" and not reduced:
            img.save(out, format=fmt, quality="keep", subsampling="keep")  # no second loss of quality
        else:
            img.save(out, format=fmt, quality=90)
    elif fmt == "WEBP":
        img.save(out, format=fmt, quality=90)
    else:
        img.save(out, format=fmt)
    return out.getvalue()


def add_image(stream: IO[bytes], owner: Principal | None, field: str = "file") -> str:
    """Check and add an uploaded image to the session's transaction; returns the URL it is served at.

    A page that saves a record with it commits both at once, and a refused save leaves no file."""
    clean, fmt = clean_image(stream.read(MAX_BYTES + 1), field)
    ext, content_type = FORMATS[fmt]
    name = f"{secrets.token_urlsafe(16)}.{ext}"
    db.session.add(Upload(name=name, owner_kind=owner.kind if owner else None, owner_id=owner.id if owner else None,
                          content_type=content_type, size=len(clean), data=clean, created_at=utcnow()))
    return FILE_URL + name


def store_image(stream: IO[bytes], owner: Principal | None, field: str = "file") -> str:
    """Check and store an uploaded image; returns the URL it is served at."""
    url = add_image(stream, owner, field)
    db.session.commit()
    return url


def served(name: str) -> tuple[bytes, str] | None:
    """The bytes and content type behind a served name, or None for a name we never handed out."""
    if not _NAME.fullmatch(name or ""):
        return None
    row = db.session.execute(select(Upload.data, Upload.content_type).where(Upload.name == name)).first()
    return (row.data, row.content_type) if row else None


def _name_of(url: str | None) -> str | None:
    """The upload name of one of our URLs; None for an external avatar (or none)."""
    return url[len(FILE_URL):] if url and url.startswith(FILE_URL) else None


def _is_image_address(url: str) -> bool:
    """The addresses an avatar may have (an allow-list): an image file's path on this site, or an http(s) URL
    with a host. Not `javascript:`, `data:` or any other scheme, nor a scheme-relative `//host`."""
    if url.startswith("/"):
        return bool(_SITE_IMAGE.match(url))
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def check_avatar(old_url: str | None, new_url: str | None, principal: Principal | None, user_id: int | None) -> None:
    """A new avatar is a path on this site or an http(s) URL (422 otherwise); one of our URLs must be an upload
    `principal` made that is free or already the avatar of `user_id` (None: a user being created); anything
    else under FILE_URL is refused (422)."""
    if not new_url or new_url == old_url:
        return
    if not _is_image_address(new_url):
        raise Invalid(gettext(NOT_AN_ADDRESS), field="avatar")
    name = _name_of(new_url)
    if name is None:
        return
    row = db.session.get(Upload, name) if _NAME.fullmatch(name) else None
    mine = principal is None or (row is not None and (row.owner_kind, row.owner_id) == (principal.kind, principal.id))
    if row is None or not mine or row.user_id not in (None, user_id):
        raise Invalid(gettext(OTHERS_UPLOAD), field="avatar")


def replace_avatar(old_url: str | None, new_url: str | None, user_id: int) -> None:
    """In the calling code's transaction: the new avatar's upload becomes `user_id`'s, the old one is removed if it
    was theirs (never another's file). Call check_avatar first; this only closes a race between two saves."""
    if old_url == new_url:
        return
    if (name := _name_of(new_url)) is not None:
        taken = db.session.execute(update(Upload).where(
            Upload.name == name, or_(Upload.user_id.is_(None), Upload.user_id == user_id)).values(user_id=user_id))
        if taken.rowcount == 0:  # another save made it someone else's avatar meanwhile
            raise Invalid(gettext(OTHERS_UPLOAD), field="avatar")
    if (name := _name_of(old_url)) is not None:
        db.session.execute(delete(Upload).where(Upload.name == name, Upload.user_id == user_id))


def import_folder(folder: Path, avatar_users: Mapping[str, int]) -> tuple[int, list[str]]:
    """Import the files an earlier version kept in `folder` (this host's disk) under their names, each
    re-encoded like an upload; a file that is an avatar of one user (`avatar_users`: URL -> user id) is
    owned by that user. Returns how many were imported and the names left out (not acceptable images).
    Names already in the table are skipped, so it is safe to repeat and to run on every host."""
    if not folder.is_dir():
        return 0, []
    imported, refused = 0, []
    for path in sorted(folder.iterdir()):
        if not _NAME.fullmatch(path.name) or not path.is_file() or db.session.get(Upload, path.name) is not None:
            continue
        try:
            with path.open("rb") as fh:
                clean, fmt = clean_image(fh.read(MAX_BYTES + 1))
        except Invalid:
            refused.append(path.name)
            continue
        ext, content_type = FORMATS[fmt]
        if path.suffix != f".{ext}":  # served by its name's type: a renamed file would be served as another
            refused.append(path.name)
            continue
        user_id = avatar_users.get(FILE_URL + path.name)
        db.session.add(Upload(name=path.name, owner_kind="user" if user_id else None, owner_id=user_id,
                              user_id=user_id, content_type=content_type, size=len(clean), data=clean,
                              created_at=utcnow()))
        db.session.commit()
        imported += 1
    return imported, refused


# ---------------------------------------------------------------------------------------------
# 云上传 (cloud storage): the storage that holds uploads, and a file browser over it

AVATAR_IN_USE = N_("该文件是用户的头像，不能删除；请先为该用户更换头像")


def _file_item(row: Upload) -> dict[str, object]:
    return {"name": row.name, "size": row.size, "content_type": row.content_type, "modified": row.created_at,
            "url": FILE_URL + row.name, "avatar_user_id": row.user_id}


def _within_scope() -> ColumnElement[bool]:
    """Files the principal's data scope reaches: uploaded by a user it reaches, and nobody's avatar or the avatar
    of one it reaches (a review listed, and deleted before it was used, the super administrator's upload as an
    admin of one department). Beyond it a file is as if absent, as its users are."""
    scope = datascope.current_scope()
    if scope.all:
        return true()
    reached = select(User.id).where(scope.user_clause(User))
    return ((Upload.owner_kind == "user") & Upload.owner_id.in_(reached)
            & (Upload.user_id.is_(None) | Upload.user_id.in_(reached)))


def page_files(filters: Mapping[str, object], page: int = 1, page_size: int = 10) -> Page:
    """Stored files within the data scope, newest first (name contains, type); their bytes are never read here."""
    stmt = select(Upload).where(_within_scope())
    if (name := str(filters.get("name") or "").strip()):
        stmt = stmt.where(Upload.name.contains(name, autoescape=True))
    if (content_type := str(filters.get("content_type") or "").strip()):
        stmt = stmt.where(Upload.content_type == content_type)
    result = paginate(stmt.order_by(Upload.created_at.desc(), Upload.name), page, page_size)
    result.items = [_file_item(row) for row in result.items]
    return result


def list_files_after(marker: str | None, limit: int, prefix: str | None = None) -> list[dict[str, object]]:
    """Files within the data scope by name after `marker` (the original's object listing: maxKey, prefix, marker)."""
    stmt = select(Upload).where(_within_scope()).order_by(Upload.name).limit(limit)
    if marker:
        stmt = stmt.where(Upload.name > marker)
    if prefix:
        stmt = stmt.where(Upload.name.startswith(prefix, autoescape=True))
    return [_file_item(row) for row in db.session.execute(stmt).scalars()]


def delete_file(name: str) -> str:
    """Remove a stored file within the data scope that is nobody's avatar (an avatar's file goes when its user
    changes it) and no live notice's picture (409 naming the notice)."""
    row = db.session.execute(select(Upload).where(Upload.name == name, _within_scope())).scalar_one_or_none() \
        if _NAME.fullmatch(name or "") else None
    if row is None:
        raise NotFound(gettext("文件不存在"))
    if row.user_id is not None:
        raise Conflict(gettext(AVATAR_IN_USE))
    # a live notice showing it (a draft's too, which may be published): deleted, its picture would be broken
    shown_in = db.session.execute(select(Notice.title).where(
        Notice.deleted_at.is_(None), Notice.content.contains(FILE_URL + name, autoescape=True))
        .order_by(Notice.id).limit(1)).scalar()
    if shown_in is not None:
        raise Conflict(gettext("该图片用在通知「%(title)s」中，不能删除；请先从通知中去掉它或删除该通知",
                               title=shown_in))
    removed = db.session.execute(delete(Upload).where(Upload.name == name, Upload.user_id.is_(None)))
    if removed.rowcount == 0:  # became an avatar meanwhile, or a delete at the same time went first
        db.session.rollback()
        if db.session.get(Upload, name) is None:
            raise NotFound(gettext("文件不存在"))
        raise Conflict(gettext(AVATAR_IN_USE))
    db.session.commit()
    return name


# ---------------------------------------------------------------------------------------------
# 云上传 storage settings (the original front end's upload.js: page, list, create, modify, delete)
#
# What may be configured is an allow-list, never a place: a storage is a name, a type and a bucket, and the
# only type is the database (the bucket: its upload table). There is no field for a host, an endpoint, a key
# or a path, so no setting can make the server reach another machine or a file of its own disk; the
# original's cloud types (ALIYUN, TENCENT, QINIU) are refused with the reason.

STORAGE_TYPES = {"DATABASE": lazy_gettext("数据库存储（所有主机共用）")}
STORAGE_BUCKETS = {"DATABASE": ("sys_upload",)}
STORAGE_NAME_MAX = 64
TYPE_REFUSED_TEXT = N_("只支持数据库存储：存储类型只能是 DATABASE，上传的文件保存在数据库中，"
                        "暂不支持 ALIYUN、TENCENT、QINIU 等云存储")
TYPE_REFUSED = lazy_gettext(TYPE_REFUSED_TEXT)  # the schemas' validators'; a raise says TYPE_REFUSED_TEXT


def _clean_storage_name(value: object) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not name:
        raise Invalid(gettext("请输入存储名称"), field="name")
    if len(name) > STORAGE_NAME_MAX or any(ord(c) < 32 for c in name):
        raise Invalid(gettext("存储名称不能超过 %(max)s 个字符，且不能包含控制字符", max=STORAGE_NAME_MAX),
                      field="name")
    return name


def _clean_storage_type(value: object) -> str:
    if value not in STORAGE_TYPES:
        raise Invalid(gettext(TYPE_REFUSED_TEXT), field="type")
    return str(value)


def _clean_bucket(storage_type: str, value: object) -> str:
    allowed = STORAGE_BUCKETS[storage_type]
    if value in (None, ""):
        return allowed[0]
    if value not in allowed:
        raise Invalid(gettext("存储桶只能是 %(buckets)s", buckets=", ".join(allowed)), field="bucketName")
    return str(value)


def _storage_name_taken(name: str, exclude_id: int | None = None) -> bool:
    stmt = select(Storage.id).where(Storage.name == name, Storage.deleted_at.is_(None))
    if exclude_id is not None:
        stmt = stmt.where(Storage.id != exclude_id)
    return db.session.execute(stmt).first() is not None


def storage_item(row: Storage) -> dict[str, object]:
    return {"id": row.id, "name": row.name, "type": row.type, "type_name": STORAGE_TYPES.get(row.type, row.type),
            "bucket_name": row.bucket_name, "gmt_created_date": row.gmt_created_date,
            "gmt_created_name": row.gmt_created_name, "gmt_modified_date": row.gmt_modified_date,
            "gmt_modified_name": row.gmt_modified_name}


def get_storage(storage_id: int) -> Storage:
    row = db.session.execute(Storage.live().where(Storage.id == storage_id)).scalar_one_or_none()
    if row is None:
        raise NotFound(gettext("存储不存在"))
    return row


def page_storages(filters: Mapping[str, object], page: int = 1, page_size: int = 10, *,
                  as_shown: bool = False) -> Page:
    """Storage settings by id (name contains, type). `as_shown` (the page): the name filter also finds a storage by
    the name the page shows for it (`translated`: setup's 数据库存储 reads Database storage), in any case."""
    stmt = Storage.live()
    if (name := str(filters.get("name") or "").strip()):
        found = Storage.name.contains(name, autoescape=True)
        if as_shown and (shown := shown_containing(db.session.execute(
                select(Storage.name).where(Storage.deleted_at.is_(None))).scalars(), name)):
            found = found | Storage.name.in_(shown)
        stmt = stmt.where(found)
    if (storage_type := str(filters.get("type") or "").strip()):
        stmt = stmt.where(Storage.type == storage_type)
    result = paginate(stmt.order_by(Storage.id), page, page_size)
    result.items = [storage_item(row) for row in result.items]
    return result


def live_storage_count() -> int:
    """How many storages are live: at one, its delete is refused (`delete_storage`)."""
    return db.session.execute(select(func.count()).select_from(Storage)
                              .where(Storage.deleted_at.is_(None))).scalar_one()


def list_storages() -> list[dict[str, object]]:
    return [storage_item(row) for row in db.session.execute(Storage.live().order_by(Storage.id)).scalars()]


def _require_all_data() -> None:
    """The storages are where every upload of the company goes: changed only by a principal whose data scope is all
    data, as the dictionaries, parameters and SMS templates are."""
    datascope.require_all_data(gettext("存储设置对全公司生效，只有数据权限为全部数据的管理员可以修改"))


def create_storage(values: Mapping[str, object]) -> Storage:
    _require_all_data()
    name = _clean_storage_name(values.get("name"))
    storage_type = _clean_storage_type(values.get("type"))
    bucket = _clean_bucket(storage_type, values.get("bucket_name"))
    _require_name_free(name)
    row = Storage(name=name, type=storage_type, bucket_name=bucket)
    with taken_meanwhile(lambda: _require_name_free(name)):
        db.session.add(row)
        db.session.commit()
    return row


def modify_storage(storage_id: int, values: Mapping[str, object]) -> Storage:
    _require_all_data()
    row = get_storage(storage_id)
    name = _clean_storage_name(values["name"]) if "name" in values else row.name
    storage_type = _clean_storage_type(values["type"]) if "type" in values else row.type
    bucket = _clean_bucket(storage_type, values.get("bucket_name", row.bucket_name))
    row_id = row.id
    _require_name_free(name, row_id)
    with taken_meanwhile(lambda: _require_name_free(name, row_id)):
        row.name, row.type, row.bucket_name = name, storage_type, bucket
        db.session.commit()
    return row


def _require_name_free(name: str, exclude_id: int | None = None) -> None:
    if _storage_name_taken(name, exclude_id=exclude_id):
        msg = gettext("存储名称「%(name)s」已存在", name=name)
        raise Conflict(msg, errors={"name": [msg]})  # named: the form shows it under the name, not as a flash


def delete_storage(storage_id: int) -> Storage:
    """Soft delete; the last storage stays (uploads always have somewhere to go)."""
    _require_all_data()
    row = get_storage(storage_id)
    # every live storage locked (PostgreSQL; on SQLite the write lock, taken before the read): two deletes at
    # once cannot both see the other's storage as the one that stays
    write_lock_first()
    live = set(db.session.execute(select(Storage.id).where(Storage.deleted_at.is_(None)).with_for_update()).scalars())
    if row.id not in live:
        raise NotFound(gettext("存储不存在"))
    if not live - {row.id}:
        raise Conflict(gettext("「%(name)s」是最后一个存储，不能删除：上传的文件总要有保存的地方", name=row.name))
    row.soft_delete()
    db.session.commit()
    return row


def ensure_default_storage() -> bool:
    """Setup: the database storage, once (a table that never had a storage gets it; a renamed one is kept)."""
    if db.session.execute(select(Storage.id).limit(1)).first() is not None:
        return False
    db.session.add(Storage(name=N_("数据库存储"), type="DATABASE", bucket_name=STORAGE_BUCKETS["DATABASE"][0]))
    db.session.commit()
    return True
