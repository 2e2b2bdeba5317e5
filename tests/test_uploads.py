"""Avatar upload: the API routes, the checks by content and size, the stored files, and the pages."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from tests.conftest import CSRF_RE, assert_refused
from tests.factories import make_user, query


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (8, 8)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buf, format=fmt)
    return buf.getvalue()


def upload(api: Any, data: bytes, name: str = "a.png", path: str = "/api/admin/upload") -> Any:
    return api.client.post(path, data={"file": (io.BytesIO(data), name)}, headers=api._headers(None),
                           content_type="multipart/form-data")


def stored(app: Any, url: str) -> Path:
    return Path(app.config["PCLOUD_UPLOAD_DIR"]) / url.rsplit("/", 1)[-1]


def test_an_image_is_stored_and_served_back(app: Any, api: Any, anon: Any) -> None:
    for fmt, mimetype in (("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"),
                          ("WEBP", "image/webp")):
        data = image_bytes(fmt)
        for path in ("/api/admin/upload", "/api/oss/upload"):
            resp = upload(api, data, "photo.bin", path)  # the name says nothing: the content decides
            body = resp.get_json()
            assert resp.status_code == 200 and body["code"] == 200, body
            url = body["data"]["url"]
            assert url.startswith("/api/oss/files/") and stored(app, url).read_bytes() == data
            served = anon.get(url)  # an <img> sends no token
            assert served.status_code == 200 and served.mimetype == mimetype and served.data == data
            assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_what_is_not_an_acceptable_image_is_refused(app: Any, api: Any) -> None:
    cases = {
        "html.png": b"<html><script>alert(1)</script></html>",
        "x.svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        "trunc.png": image_bytes()[:30],
        "empty.png": b"",
        "a.bmp": image_bytes("BMP"),
    }
    for name, data in cases.items():
        resp = upload(api, data, name)
        body = resp.get_json()
        assert resp.status_code == 422 and "图片" in body["msg"] and "file" in body["errors"], (name, body)
    resp = api.client.post("/api/admin/upload", data={}, headers=api._headers(None),
                           content_type="multipart/form-data")
    assert resp.status_code == 422 and "file" in resp.get_json()["errors"]
    folder = Path(app.config["PCLOUD_UPLOAD_DIR"])
    assert not folder.exists() or not [p for p in folder.iterdir() if p.suffix == ".bmp"]


def test_size_is_limited(api: Any) -> None:
    from PIL import Image

    big = io.BytesIO()
    Image.frombytes("RGB", (900, 900), os.urandom(900 * 900 * 3)).save(big, format="PNG")  # incompressible
    assert big.tell() > 2 * 1024 * 1024
    resp = upload(api, big.getvalue())
    assert resp.status_code in (413, 422) and resp.get_json()["code"] in (413, 422)


def test_upload_needs_a_grant(app: Any, api: Any) -> None:
    """Signed in is not enough (without a token it is 401: tests/test_core.py's route audit)."""
    make_user(app, phone="13911112222", password="Passw0rd1")
    api.token = api.sign_in("13911112222", "Passw0rd1")
    assert upload(api, image_bytes()).status_code == 403
    assert api.client.get("/api/oss/files/..%2Fsecret_key").status_code == 404
    assert api.client.get("/api/oss/files/notours.png").status_code == 404


def test_replacing_an_avatar_removes_the_old_file(app: Any, api: Any) -> None:
    first = upload(api, image_bytes()).get_json()["data"]["url"]
    user_id = api.data("POST", "/api/admin/system/user/create", {"phone": "13922223333", "name": "头像",
                                                                  "password": "Passw0rd1", "avatar": first})
    second = upload(api, image_bytes(size=(4, 4))).get_json()["data"]["url"]
    api.data("PUT", "/api/admin/system/user/modify", {"id": user_id, "name": "头像", "phone": "13922223333"})
    assert stored(app, first).exists()  # avatar not sent: unchanged
    api.data("PUT", "/api/admin/system/user/modify", {"id": user_id, "avatar": second})
    assert not stored(app, first).exists() and stored(app, second).exists()
    api.data("PUT", "/api/admin/system/user/modify", {"id": user_id, "avatar": "https://example.com/a.png"})
    assert not stored(app, second).exists()


def test_user_form_uploads_an_avatar_with_a_preview(app: Any, pages: Any) -> None:
    html = pages.get("/system/user/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'id="avatar_file-preview"' in html and "avatar.js" in html
    resp = pages.submit("/system/user/new", data={
        "phone": "13933334444", "name": "上传头像", "password": "Passw0rd1", "state": "0",
        "avatar_file": (io.BytesIO(image_bytes()), "me.png")}, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]

    def user() -> Any:
        from pcloud.extensions import db
        from pcloud.users.models import User

        return db.session.execute(User.live().where(User.phone == "13933334444")).scalar_one()

    def avatar() -> str:
        return user().avatar

    url = query(app, avatar)
    assert url.startswith("/api/oss/files/") and stored(app, url).exists()
    user_id = query(app, lambda: user().id)
    edit = pages.get(f"/system/user/{user_id}/edit").get_data(as_text=True)
    assert f'src="{url}"' in edit  # the current avatar is the preview
    bad = pages.submit(f"/system/user/{user_id}/edit", data={
        "phone": "13933334444", "name": "上传头像", "state": "0", "avatar": url,
        "avatar_file": (io.BytesIO(b"not an image"), "me.png")}, content_type="multipart/form-data")
    assert bad.status_code == 422 and "不是有效的图片文件" in bad.get_data(as_text=True)
    assert query(app, avatar) == url


def test_profile_takes_an_image(app: Any, pages: Any) -> None:
    html = pages.get("/profile").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'id="profile-avatar_file-preview"' in html
    page = pages.client.get("/profile").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    resp = pages.client.post("/profile", data={
        "profile-csrf_token": token, "which": "profile", "profile-name": "超级管理员", "profile-avatar": "",
        "profile-avatar_file": (io.BytesIO(image_bytes("JPEG")), "me.jpg")}, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1000]
    html = pages.get("/profile").get_data(as_text=True)
    assert 'src="/api/oss/files/' in html and ".jpg" in html


def test_a_refused_avatar_is_logged_as_failed_on_the_page_and_the_api(app: Any, pages: Any, api: Any) -> None:
    """Not an image: the profile page and the upload API both answer 422 with the reason, and log it as
    failed (the profile page answered 200 and logged no reason)."""
    refusal = "不是有效的图片文件，只支持 PNG、JPEG、GIF、WebP"
    token = CSRF_RE.search(pages.client.get("/profile").get_data(as_text=True)).group(1)
    page = pages.client.post("/profile", data={
        "profile-csrf_token": token, "which": "profile", "profile-name": "超级管理员", "profile-avatar": "",
        "profile-avatar_file": (io.BytesIO(b"not an image"), "me.png")}, content_type="multipart/form-data")
    assert_refused(app, page, "修改个人信息", 422, refusal)
    assert_refused(app, upload(api, b"not an image"), "上传图片", 422, refusal)
