"""职级管理: every API route (shapes, order by level, unique names, delete refused while in use) and the pages."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from pcloud.extensions import db
from pcloud.grades.models import Grade
from tests.conftest import (
    ApiClient,
    PageClient,
    api_error,
    assert_refused,
    assert_save_after_delete_keeps_typed,
    chinese_on_page,
    english_form,
    logged_actions,
)
from tests.factories import make_grade, make_user, query

GRADE = "/api/admin/grade"
ITEM_KEYS = {"id", "name", "level", "remark", "gmtCreatedDate", "gmtCreatedName", "gmtModifiedDate",
             "gmtModifiedName"}


def create(api: ApiClient, **body: Any) -> int:
    return api.data("POST", f"{GRADE}/create", body)


def page(api: ApiClient, **body: Any) -> dict[str, Any]:
    resp = api.post(f"{GRADE}/page", body)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_create_and_page_by_level(api: ApiClient) -> None:
    p7 = create(api, name="P7", level=7, remark="资深")
    p5 = create(api, name="P5", level=5)
    p6 = create(api, name="P6", level=6)
    p0 = create(api, name="实习")  # level defaults to 0
    body = page(api)
    assert body["total"] == 4 and [i["id"] for i in body["data"]] == [p0, p5, p6, p7]
    item = body["data"][-1]
    assert set(item) == ITEM_KEYS and (item["name"], item["level"], item["remark"]) == ("P7", 7, "资深")
    assert item["gmtCreatedName"] == "超级管理员"
    assert [i["name"] for i in page(api, name="P")["data"]] == ["P5", "P6", "P7"]
    assert [i["name"] for i in page(api, page=2, pageSize=3)["data"]] == ["P7"]


def test_name_is_unique_among_live_grades(api: ApiClient) -> None:
    first = create(api, name="M1", level=10)
    dup = api_error(api.post(f"{GRADE}/create", {"name": "M1", "level": 11}), 409)
    assert "name" in dup["errors"]
    api_error(api.post(f"{GRADE}/create", {"name": " M1 ", "level": 11}), 409)
    other = create(api, name="M2", level=11)
    api_error(api.put(f"{GRADE}/modify", {"id": other, "name": "M1"}), 409)
    assert api.data("PUT", f"{GRADE}/modify", {"id": first, "name": "M1", "level": 12}) == first
    api.data("DELETE", f"{GRADE}/{first}/delete")
    create(api, name="M1", level=10)


def test_level_must_be_a_non_negative_integer(api: ApiClient) -> None:
    for level in (-1, 1.5, "3", "high", None, True, 2**40):
        resp = api_error(api.post(f"{GRADE}/create", {"name": f"x{level}", "level": level}), 422)
        assert "level" in resp["errors"], level
    for body, field in (({"level": 1}, "name"), ({"name": ""}, "name"), ({"name": "x", "parentId": 0}, "parentId")):
        assert field in api_error(api.post(f"{GRADE}/create", body), 422)["errors"]
    grade = create(api, name="G", level=0)
    assert "level" in api_error(api.put(f"{GRADE}/modify", {"id": grade, "level": -3}), 422)["errors"]
    assert page(api)["total"] == 1


def test_modify_and_delete(api: ApiClient, app: Any) -> None:
    grade = create(api, name="T3", level=3)
    api.data("PUT", f"{GRADE}/modify", {"id": grade, "level": 4, "remark": "技术三级"})
    item = page(api)["data"][0]
    assert (item["name"], item["level"], item["remark"]) == ("T3", 4, "技术三级")
    make_user(app, phone="13900000601", grade_id=grade)
    resp = api_error(api.delete(f"{GRADE}/{grade}/delete"), 409)
    assert "1 名用户" in resp["msg"]
    free = create(api, name="T9", level=9)
    assert api.data("DELETE", f"{GRADE}/{free}/delete") is None
    assert [i["id"] for i in page(api)["data"]] == [grade]
    api_error(api.delete(f"{GRADE}/{free}/delete"), 404)
    api_error(api.put(f"{GRADE}/modify", {"id": free, "name": "x"}), 404)
    assert query(app, lambda: db.session.get(Grade, free).deleted_at) is not None
    assert logged_actions(app, "职级") == [
        ("职级新增", "success"), ("职级修改", "success"), ("职级删除", "fail"), ("职级新增", "success"),
        ("职级删除", "success"), ("职级删除", "fail"), ("职级修改", "fail")]


# --------------------------------------------------------------------------------------------- pages


def test_list_page_is_ordered_by_level_with_holders(pages: PageClient, app: Any) -> None:
    high = make_grade(app, "总监", 20)
    low = make_grade(app, "专员", 2)
    make_user(app, phone="13900000610", grade_id=high)
    html = pages.get("/system/grade/").get_data(as_text=True)
    assert html.index("专员") < html.index("总监")
    row = re.search(rf'<tr data-grade-id="{high}".*?</tr>', html, re.S).group(0)
    assert 'data-testid="holders">1<' in row
    assert "确定删除职级「专员」吗？" in html and "仍有 1 名用户是该职级" in html
    assert f'data-grade-id="{low}"' not in pages.get("/system/grade/?name=总").get_data(as_text=True)


def test_create_edit_and_delete_pages(pages: PageClient, app: Any) -> None:
    resp = pages.submit("/system/grade/new", data={"name": "经理", "level": "8", "remark": "管理序列"})
    assert resp.status_code == 302
    grade = query(app, lambda: db.session.execute(select(Grade).where(Grade.name == "经理")).scalar_one())
    assert (grade.level, grade.remark) == (8, "管理序列")
    negative = pages.submit("/system/grade/new", data={"name": "负数", "level": "-1"})
    assert negative.status_code == 422 and "等级须为" in negative.get_data(as_text=True)
    dup = pages.submit("/system/grade/new", data={"name": "经理", "level": "9"})
    assert dup.status_code == 409 and "职级名称已存在" in dup.get_data(as_text=True)
    form = pages.get(f"/system/grade/{grade.id}/edit").get_data(as_text=True)
    assert 'value="经理"' in form and 'value="8"' in form
    saved = pages.submit(f"/system/grade/{grade.id}/edit", data={"name": "高级经理", "level": "9", "remark": ""})
    assert saved.status_code == 302
    grade = query(app, lambda: db.session.get(Grade, grade.id))
    assert (grade.name, grade.level, grade.remark) == ("高级经理", 9, None)
    make_user(app, phone="13900000620", grade_id=grade.id)
    refused = pages.submit("/system/grade/", f"/system/grade/{grade.id}/delete", follow_redirects=True)
    assert "不能删除职级「高级经理」" in refused.get_data(as_text=True)
    spare = make_grade(app, "临时", 1)
    done = pages.submit("/system/grade/", f"/system/grade/{spare}/delete", follow_redirects=True)
    assert "职级「临时」已删除" in done.get_data(as_text=True)


def test_a_refused_create_is_logged_as_failed_on_the_page_and_the_api(app: Any, pages: PageClient,
                                                                       api: ApiClient) -> None:
    """A duplicate name: the page and the API both answer 409 with the reason, and log it as failed."""
    make_grade(app, "P5", 5)
    page = pages.submit("/system/grade/new", data={"name": "P5", "level": "6"})
    assert_refused(app, page, "职级新增", 409, "职级名称已存在")
    assert_refused(app, api.post(f"{GRADE}/create", {"name": "P5", "level": 6}), "职级新增", 409, "职级名称已存在")


def test_saving_a_grade_deleted_meanwhile_keeps_the_typed_values(app: Any, pages: PageClient, api: ApiClient) -> None:
    grade = make_grade(app, "将被删除")
    assert_save_after_delete_keeps_typed(
        pages, f"/system/grade/{grade}/edit", lambda: api.data("DELETE", f"{GRADE}/{grade}/delete"),
        {"name": "我刚改的职级", "level": "3", "remark": ""}, "我刚改的职级", "职级")


# --------------------------------------------------------------------------------------------- English


def test_the_grade_pages_speak_english(app: Any, english_pages: PageClient) -> None:
    english_pages.get("/")  # the sign-in's welcome flash, said before the language was chosen
    empty = english_pages.get("/system/grade/").get_data(as_text=True)
    assert "No grades yet" in empty and not chinese_on_page(empty), chinese_on_page(empty)
    senior = make_grade(app, "Senior", level=3)
    make_user(app, name="Alice", grade_id=senior)
    for path in ("/system/grade/", "/system/grade/?name=nothing-matches", "/system/grade/new",
                 f"/system/grade/{senior}/edit"):
        resp = english_pages.get(path)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and not chinese_on_page(html), (path, chinese_on_page(html))
    listing = english_pages.get("/system/grade/").get_data(as_text=True)
    assert "Cannot delete the grade &#39;Senior&#39;: 1 user(s) still have it" in listing

    invalid = english_pages.submit("/system/grade/new", data={"name": "", "level": "-1"})
    html = english_form(invalid, 422)
    assert "Enter the grade name" in html and "The level must be a whole number from 0 to 1000000" in html
    saved = english_pages.submit("/system/grade/new", data={"name": "Junior", "level": "1"}, follow_redirects=True)
    assert "Grade 'Junior' created" in english_form(saved)


def test_a_grade_refusal_through_the_api_speaks_english(app: Any, api: ApiClient) -> None:
    create(api, name="Lead", level=5)
    resp = api.call("POST", f"{GRADE}/create", {"name": "Lead", "level": 6}, headers={"Accept-Language": "en"})
    body = api_error(resp, 409)
    assert body["msg"] == "A grade with this name already exists"
    assert body["errors"] == {"name": ["A grade with this name already exists"]}
    resp = api.call("DELETE", f"{GRADE}/999999/delete", headers={"Accept-Language": "en"})
    assert api_error(resp, 404)["msg"] == "The grade does not exist"


def test_parallel_creates_and_renames_into_one_grade_name_keep_one(app: Any, api: ApiClient) -> None:
    """The house rule for a unique value (tests/conftest.py `assert_races_keep_one`), on the grade's name."""
    from tests.conftest import assert_races_keep_one

    assert_races_keep_one(
        app, api.token, lambda n: ("POST", f"{GRADE}/create", {"name": f"并发职级{n}", "level": n}),
        lambda grade, n: ("PUT", f"{GRADE}/modify", {"id": grade, "name": f"并发职级{n}"}),
        lambda n: "职级名称已存在",
        lambda: query(app, lambda: list(db.session.execute(select(Grade.name).where(Grade.deleted_at.is_(None)))
                                        .scalars())))
