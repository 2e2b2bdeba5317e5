"""岗位管理: every API route (shapes, code uniqueness, nesting, deletes refused while in use) and the pages."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from pcloud.extensions import db
from pcloud.posts.models import Post
from tests.conftest import (
    ApiClient,
    PageClient,
    api_error,
    assert_refused,
    chinese_on_page,
    english_form,
    logged_actions,
)
from tests.factories import make_post, make_user, query

POST = "/api/admin/post"
ITEM_KEYS = {"id", "parentId", "parentName", "name", "label", "code", "sequence", "remark",
             "gmtCreatedDate", "gmtCreatedName", "gmtModifiedDate", "gmtModifiedName"}


def create(api: ApiClient, **body: Any) -> int:
    return api.data("POST", f"{POST}/create", body)


def page(api: ApiClient, **body: Any) -> dict[str, Any]:
    resp = api.post(f"{POST}/page", body)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


# --------------------------------------------------------------------------------------------- API


def test_create_and_page_answer_the_documented_item(api: ApiClient) -> None:
    top = create(api, name="技术序列", code="TECH", sequence=2, remark="研发类岗位")
    child = create(api, name="后端工程师", code="TECH-BE", parentId=top)
    plain = create(api, name="行政", sequence=1)
    body = page(api)
    assert body["total"] == 3
    assert [i["id"] for i in body["data"]] == [child, plain, top]  # by sequence, then id
    items = {i["id"]: i for i in body["data"]}
    assert set(items[top]) == ITEM_KEYS
    assert (items[top]["code"], items[top]["label"], items[top]["remark"], items[top]["parentId"],
            items[top]["parentName"]) == ("TECH", "技术序列", "研发类岗位", 0, None)
    assert (items[child]["parentId"], items[child]["parentName"]) == (top, "技术序列")
    assert items[plain]["code"] is None and items[plain]["gmtCreatedName"] == "超级管理员"
    assert [i["name"] for i in page(api, name="工程")["data"]] == ["后端工程师"]
    assert len(page(api, pageSize=2)["data"]) == 2 and page(api, pageSize=2)["total"] == 3


def test_code_is_unique_among_live_posts(api: ApiClient) -> None:
    first = create(api, name="甲", code="P001")
    dup = api_error(api.post(f"{POST}/create", {"name": "乙", "code": "P001"}), 409)
    assert "code" in dup["errors"]
    other = create(api, name="乙", code="P002")
    api_error(api.put(f"{POST}/modify", {"id": other, "code": "P001"}), 409)
    # Blank codes are "no code" and never collide.
    create(api, name="丙", code="")
    create(api, name="丁")
    assert api.data("PUT", f"{POST}/modify", {"id": first, "code": "P001", "name": "甲二"}) == first  # its own
    api.data("DELETE", f"{POST}/{first}/delete")
    create(api, name="戊", code="P001")  # free again once deleted


def test_unknown_parent_and_bad_fields_are_422(api: ApiClient) -> None:
    for body, field in (({"name": "x", "parentId": 99999}, "parentId"), ({"code": "x"}, "name"),
                        ({"name": " "}, "name"), ({"name": "x", "sequence": -1}, "sequence"),
                        ({"name": "x", "remark": "r" * 501}, "remark"), ({"name": "x", "level": 1}, "level")):
        resp = api_error(api.post(f"{POST}/create", body), 422)
        assert field in resp["errors"], (body, resp)
    assert page(api)["total"] == 0


def test_posts_nest_but_never_below_themselves(api: ApiClient) -> None:
    a = create(api, name="A")
    b = create(api, name="B", parentId=a)
    c = create(api, name="C", parentId=b)
    d = create(api, name="D")
    for below in (a, b, c):
        resp = api_error(api.put(f"{POST}/modify", {"id": a, "parentId": below}), 422)
        assert "parentId" in resp["errors"]
    api_error(api.put(f"{POST}/modify", {"id": a, "parentId": 99999}), 422)
    api.data("PUT", f"{POST}/modify", {"id": c, "parentId": d, "remark": "调整", "sequence": 3})
    item = next(i for i in page(api)["data"] if i["id"] == c)
    assert (item["parentId"], item["parentName"], item["remark"], item["sequence"]) == (d, "D", "调整", 3)
    api.data("PUT", f"{POST}/modify", {"id": c, "parentId": 0, "remark": None})
    item = next(i for i in page(api)["data"] if i["id"] == c)
    assert item["parentId"] == 0 and item["remark"] is None
    api_error(api.put(f"{POST}/modify", {"id": 99999, "name": "x"}), 404)


def test_delete_is_refused_while_users_hold_it_or_it_has_children(api: ApiClient, app: Any) -> None:
    top = create(api, name="技术序列")
    child = create(api, name="工程师", parentId=top)
    resp = api_error(api.delete(f"{POST}/{top}/delete"), 409)
    assert "下级岗位" in resp["msg"]
    make_user(app, phone="13900000501", post_id=child)
    resp = api_error(api.delete(f"{POST}/{child}/delete"), 409)
    assert "1 名用户" in resp["msg"]
    free = create(api, name="空岗位")
    assert api.data("DELETE", f"{POST}/{free}/delete") is None
    assert free not in {i["id"] for i in page(api)["data"]}
    api_error(api.delete(f"{POST}/{free}/delete"), 404)
    assert query(app, lambda: db.session.get(Post, free).deleted_at) is not None


def test_changes_are_in_the_action_log(api: ApiClient, app: Any) -> None:
    post = create(api, name="记录岗")
    api.data("PUT", f"{POST}/modify", {"id": post, "name": "记录岗二"})
    api.data("DELETE", f"{POST}/{post}/delete")
    assert [title for title, _ in logged_actions(app, "岗位")] == ["岗位新增", "岗位修改", "岗位删除"]


# --------------------------------------------------------------------------------------------- pages


def test_list_page_shows_the_tree_with_holders(pages: PageClient, app: Any) -> None:
    top = make_post(app, "技术序列", code="TECH")
    child = make_post(app, "后端工程师", parent_id=top, code="BE")
    make_post(app, "行政")
    make_user(app, phone="13900000510", post_id=child)
    make_user(app, phone="13900000511", post_id=child)
    html = pages.get("/system/post/").get_data(as_text=True)
    assert html.index("技术序列") < html.index("后端工程师")
    rows = {post: re.search(rf'<tr data-post-id="{post}".*?</tr>', html, re.S).group(0) for post in (top, child)}
    assert 'data-testid="holders">2<' in rows[child] and "BE" in rows[child]
    # the child sits under its parent: marked as a branch and indented a level further (app.css's indent-N)
    indent = {post: int(re.search(r"\bindent-(\d+)\b", row).group(1)) for post, row in rows.items()}
    assert "└" in rows[child] and "└" not in rows[top] and indent[child] > indent[top]
    filtered = pages.get("/system/post/?name=行政").get_data(as_text=True)
    assert "行政" in filtered and "后端工程师" not in filtered


def test_create_edit_and_delete_pages(pages: PageClient, app: Any) -> None:
    top = make_post(app, "技术序列", code="TECH")
    form = pages.get(f"/system/post/new?parent_id={top}").get_data(as_text=True)
    assert f'<option selected value="{top}">技术序列</option>' in form
    resp = pages.submit("/system/post/new", data={"parent_id": top, "name": "前端工程师", "code": "FE",
                                                  "sequence": "2", "remark": "网页"})
    assert resp.status_code == 302
    post = query(app, lambda: db.session.execute(select(Post).where(Post.name == "前端工程师")).scalar_one())
    assert (post.parent_id, post.code, post.sequence, post.remark) == (top, "FE", 2, "网页")

    dup = pages.submit("/system/post/new", data={"parent_id": 0, "name": "重复", "code": "FE"})
    assert dup.status_code == 409 and "岗位编码已被其他岗位使用" in dup.get_data(as_text=True)

    edit = pages.get(f"/system/post/{top}/edit").get_data(as_text=True)
    picker = re.search(r'<select[^>]*name="parent_id".*?</select>', edit, re.S).group(0)
    assert f'value="{post.id}"' not in picker and f'value="{top}"' not in picker  # itself and below
    forged = pages.submit(f"/system/post/{top}/edit", data={"parent_id": post.id, "name": "技术序列"})
    assert forged.status_code == 422 and "下级岗位之下" in forged.get_data(as_text=True)
    saved = pages.submit(f"/system/post/{post.id}/edit", data={"parent_id": 0, "name": "前端", "code": "",
                                                              "sequence": "0", "remark": ""})
    assert saved.status_code == 302
    post = query(app, lambda: db.session.get(Post, post.id))
    assert (post.parent_id, post.name, post.code, post.remark) == (0, "前端", None, None)

    make_user(app, phone="13900000520", post_id=post.id)
    refused = pages.submit("/system/post/", f"/system/post/{post.id}/delete", follow_redirects=True)
    assert "不能删除岗位「前端」：仍有 1 名用户担任该岗位" in refused.get_data(as_text=True)
    done = pages.submit("/system/post/", f"/system/post/{top}/delete", follow_redirects=True)
    assert "岗位「技术序列」已删除" in done.get_data(as_text=True)


def test_saving_a_post_deleted_meanwhile_says_so_and_keeps_the_typed_values(pages: PageClient, app: Any,
                                                                            api: ApiClient) -> None:
    post_id = make_post(app, "将被删除")
    form_page = pages.get(f"/system/post/{post_id}/edit")
    assert form_page.status_code == 200
    assert api.delete(f"/api/admin/post/{post_id}/delete").status_code == 200
    resp = pages.submit(f"/system/post/{post_id}/edit", data={"name": "我刚改的名字", "code": "P-NEW",
                                                              "parent_id": "0", "sequence": "3"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 404
    assert "该岗位已被删除" in html and 'value="我刚改的名字"' in html and 'value="P-NEW"' in html


def test_a_refused_delete_is_logged_as_failed_on_the_page_and_the_api(app: Any, pages: PageClient,
                                                                       api: ApiClient) -> None:
    """A post still held: the page and the API both answer 409 with the reason, and log it as failed."""
    post = make_post(app, "架构师")
    make_user(app, post_id=post)
    refusal = "不能删除岗位「架构师」：仍有 1 名用户担任该岗位。请先为这些用户更换岗位。"
    assert_refused(app, pages.submit("/system/post/", f"/system/post/{post}/delete"), "岗位删除", 409, refusal)
    assert_refused(app, api.delete(f"{POST}/{post}/delete"), "岗位删除", 409, refusal)


def test_a_name_is_unique_among_the_live_posts_of_one_parent(api: ApiClient, pages: PageClient) -> None:
    """Issue 24.5: as departments, grades and roles do, a duplicate name is a 409 (API) or a field error (page)."""
    parent = create(api, name="研发序列")
    first = create(api, name="工程师", parentId=parent)
    dup = api_error(api.post(f"{POST}/create", {"name": "工程师", "parentId": parent}), 409)
    assert "name" in dup["errors"]
    create(api, name="工程师")  # another parent (the root): allowed
    other = create(api, name="测试", parentId=parent)
    api_error(api.put(f"{POST}/modify", {"id": other, "name": "工程师"}), 409)
    resp = pages.submit("/system/post/new", data={"name": "工程师", "parent_id": str(parent), "sequence": "0"})
    assert resp.status_code == 409 and "同一上级岗位下已有同名岗位" in resp.get_data(as_text=True)
    api.data("DELETE", f"{POST}/{first}/delete")
    create(api, name="工程师", parentId=parent)  # free again once deleted


def test_parallel_creates_of_one_post_name_keep_one(api: ApiClient, app: Any, live_server: Any) -> None:
    """Two creates of the same name at once, to gunicorn's 2 workers, many rounds: one 200 and one 409 each."""
    statuses = parallel_creates(live_server.url, f"{POST}/create", [{"name": f"并发岗位{n}"} for n in range(15)])
    assert all(sorted(pair) == [200, 409] for pair in statuses), statuses
    names = query(app, lambda: [p.name for p in db.session.execute(Post.live()).scalars()])
    assert len(names) == len(set(names)) == 15


def parallel_creates(url: str, path: str, bodies: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Each body POSTed twice at once (a barrier), one round per body; the two statuses of each round."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from tests.conftest import ADMIN_PASSWORD, ADMIN_PHONE

    token = requests.post(f"{url}/api/oauth/token", json={
        "phone": ADMIN_PHONE, "password": ADMIN_PASSWORD, "grantType": "ADMIN"}, timeout=30).json()["data"]["token"]
    statuses = []
    with requests.Session() as http, ThreadPoolExecutor(2) as pool:
        http.headers["Authorization"] = f"Bearer {token}"
        for body in bodies:
            barrier = threading.Barrier(2)

            def send(_: int, body: dict[str, Any] = body, barrier: threading.Barrier = barrier) -> int:
                barrier.wait()
                return http.post(f"{url}{path}", json=body, timeout=60).status_code

            statuses.append(tuple(pool.map(send, range(2))))
    return statuses


# --------------------------------------------------------------------------------------------- English


def test_a_page_form_s_messages_follow_the_language(english_pages: PageClient) -> None:
    resp = english_pages.submit("/system/post/new", data={"code": "x" * 65, "name": ""})
    html = english_form(resp, 422)
    assert "Enter the post name" in html and "The post code must not exceed 64 characters" in html


def test_the_post_pages_speak_english(app: Any, english_pages: PageClient) -> None:
    english_pages.get("/")  # the sign-in's welcome flash, said before the language was chosen
    empty = english_pages.get("/system/post/").get_data(as_text=True)
    assert "No posts yet" in empty and not chinese_on_page(empty), chinese_on_page(empty)
    top = make_post(app, "Engineering", code="ENG")
    child = make_post(app, "Backend", parent_id=top)
    make_user(app, name="Alice", post_id=child)
    for path in ("/system/post/", "/system/post/?name=nothing-matches", "/system/post/new",
                 f"/system/post/{top}/edit", f"/system/post/new?parent_id={top}"):
        resp = english_pages.get(path)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and not chinese_on_page(html), (path, chinese_on_page(html))
    listing = english_pages.get("/system/post/").get_data(as_text=True)
    assert "Cannot delete the post &#39;Engineering&#39;: it still has 1 child post(s)" in listing
    assert "Cannot delete the post &#39;Backend&#39;: 1 user(s) still hold it" in listing

    saved = english_pages.submit("/system/post/new", data={"name": "Ops", "parent_id": "0", "sequence": "1"},
                                 follow_redirects=True)
    assert "Post 'Ops' created" in english_form(saved)
    taken = english_pages.submit("/system/post/new", data={"name": "Ops", "parent_id": "0", "code": "ENG"})
    assert "This post code is already used by another post" in english_form(taken, 409)


def test_a_post_refusal_through_the_api_speaks_english(app: Any, api: ApiClient) -> None:
    post = make_post(app, "Held")
    make_user(app, name="Bob", post_id=post)
    resp = api.call("DELETE", f"{POST}/{post}/delete", headers={"Accept-Language": "en"})
    assert api_error(resp, 409)["msg"] == ("Cannot delete the post 'Held': 1 user(s) still hold it. "
                                           "Give these users another post first.")
    create(api, name="Dup", code="D1")
    resp = api.call("POST", f"{POST}/create", {"name": "Other", "code": "D1"}, headers={"Accept-Language": "en"})
    body = api_error(resp, 409)
    assert body["msg"] == "This post code is already used by another post"
    assert body["errors"] == {"code": ["This post code is already used by another post"]}


def test_an_operation_title_is_stored_in_chinese_and_read_in_english(app: Any, api: ApiClient) -> None:
    from pcloud.core.i18n import translated

    resp = api.call("POST", f"{POST}/create", {"name": "Stored"}, headers={"Accept-Language": "en"})
    assert resp.status_code == 200
    assert logged_actions(app, "岗位新增") == [("岗位新增", "success")]  # the source string, whoever asked
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert [translated(title) for title in ("岗位新增", "岗位修改", "岗位删除")] == [
            "Add post", "Edit post", "Delete post"]


def test_parallel_renames_into_one_post_name_and_codes_keep_one(app: Any, api: ApiClient) -> None:
    """The house rule for a unique value (tests/conftest.py `assert_races_keep_one`) on both of a post's: the name
    under one parent (the creates are raced on gunicorn above, the renames here) and the code."""
    from tests.conftest import assert_one_won, assert_races_keep_one, race

    def live() -> list[Any]:
        return query(app, lambda: list(db.session.execute(select(Post.parent_id, Post.name)
                                                          .where(Post.deleted_at.is_(None))).tuples()))

    assert_races_keep_one(
        app, api.token, lambda n: ("POST", f"{POST}/create", {"name": f"并发岗位{n}"}),
        lambda post, n: ("PUT", f"{POST}/modify", {"id": post, "name": f"并发岗位{n}"}),
        lambda n: "同一上级岗位下已有同名岗位", live)
    for n in range(3):  # one code, three names
        assert_one_won(race(app, api.token, [("POST", f"{POST}/create", {"name": f"编码岗位{n}-{i}", "code": f"RC{n}"})
                                             for i in range(3)]), "岗位编码已被其他岗位使用")
    a, b = (api.data("POST", f"{POST}/create", {"name": f"改编码{i}", "code": f"RX{i}"}) for i in range(2))
    for n in range(3):
        assert_one_won(race(app, api.token, [("PUT", f"{POST}/modify", {"id": post, "code": f"RM{n}"})
                                             for post in (a, b)]), "岗位编码已被其他岗位使用")
    codes = query(app, lambda: [c for c in db.session.execute(select(Post.code).where(Post.deleted_at.is_(None)))
                                .scalars() if c])
    assert len(codes) == len(set(codes)), codes
