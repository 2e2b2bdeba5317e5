"""部门管理: every API route (shapes, 409s, 422s), the subtree filter of the user list, and the pages."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from sqlalchemy import or_, select

from pcloud.extensions import db
from tests.conftest import (
    ApiClient,
    PageClient,
    api_error,
    assert_refused,
    assert_save_after_delete_keeps_typed,
    chinese_on_page,
    english_form,
    is_postgres,
    logged_actions,
    starts_from_the_users_trigram_index,
    statements_run,
    user_keyword_plans,
)
from tests.factories import (
    make_dept,
    make_dept_tree,
    make_grade,
    make_post,
    make_user,
    query,
    random_keywords,
    seed_random_users,
)

DEPT = "/api/admin/dept"
ITEM_KEYS = {"id", "parentId", "parentName", "name", "label", "managerId", "managerName", "establishedTime",
             "sequence", "gmtCreatedDate", "gmtCreatedName", "gmtModifiedDate", "gmtModifiedName"}

# A five-level organisation with side branches, so a subtree is never "everything".
ORG = {
    "总公司": {
        "研发中心": {
            "平台部": {
                "基础架构组": {"存储小组": {}, "网络小组": {}},
                "中间件组": {},
            },
            "产品部": {"设计组": {}},
        },
        "销售中心": {"华东区": {"上海办": {}}, "华南区": {}},
    },
    "独立子公司": {"子公司财务部": {}},
}


def create(api: ApiClient, **body: Any) -> int:
    return api.data("POST", f"{DEPT}/create", body)


def page(api: ApiClient, **body: Any) -> dict[str, Any]:
    resp = api.post(f"{DEPT}/page", body)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def user_ids_in_page(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'data-user-id="(\d+)"', html)}


# --------------------------------------------------------------------------------------------- API


def test_create_and_page_answer_the_documented_item(api: ApiClient, app: Any) -> None:
    manager = make_user(app, name="王经理", phone="13900000301")
    root = create(api, name="总公司", managerId=manager, establishedTime="2021-02-15T09:30:00", sequence=1)
    child = create(api, parentId=root, name="研发中心")
    body = page(api)
    assert body["code"] == 200 and body["total"] == 2
    items = {i["id"]: i for i in body["data"]}
    assert set(items[root]) == ITEM_KEYS
    r, c = items[root], items[child]
    assert (r["parentId"], r["parentName"], r["name"], r["label"]) == (0, None, "总公司", "总公司")
    assert (r["managerId"], r["managerName"], r["establishedTime"]) == (manager, "王经理", "2021-02-15T09:30:00")
    assert r["gmtCreatedName"] == "超级管理员" and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", r["gmtCreatedDate"])
    assert (c["parentId"], c["parentName"], c["managerId"], c["managerName"]) == (root, "总公司", None, None)
    assert c["establishedTime"] is None and c["sequence"] == 0


def test_page_filters_by_name_and_parent_and_pages(api: ApiClient, app: Any) -> None:
    ids = make_dept_tree(app, ORG)
    assert page(api)["total"] == len(ids)
    roots = page(api, parentId=0, pageSize=50)
    assert {i["name"] for i in roots["data"]} == {"总公司", "独立子公司"} and roots["total"] == 2
    children = page(api, parentId=ids["研发中心"])
    assert {i["name"] for i in children["data"]} == {"平台部", "产品部"}
    named = page(api, name="小组")
    assert {i["name"] for i in named["data"]} == {"存储小组", "网络小组"}
    first = page(api, page=1, pageSize=5)
    second = page(api, page=2, pageSize=5)
    assert len(first["data"]) == 5 and first["total"] == len(ids)
    assert not {i["id"] for i in first["data"]} & {i["id"] for i in second["data"]}


def test_org_answers_the_whole_tree_with_item_fields(api: ApiClient, app: Any) -> None:
    manager = make_user(app, name="李总", phone="13900000302")
    root = create(api, name="总公司", managerId=manager)
    later = create(api, parentId=root, name="乙部门", sequence=1)
    earlier = create(api, parentId=root, name="甲部门", sequence=2)
    first = create(api, parentId=root, name="丙部门", sequence=0)
    create(api, parentId=later, name="乙一组")
    other_root = create(api, name="另一公司")
    org = api.data("GET", f"{DEPT}/org")
    assert [n["id"] for n in org] == [root, other_root]
    top = org[0]
    assert set(top) == ITEM_KEYS | {"children"}
    assert top["managerName"] == "李总" and top["label"] == "总公司" and top["parentId"] == 0
    assert [c["id"] for c in top["children"]] == [first, later, earlier]  # by sequence, then id
    group = top["children"][1]["children"][0]
    assert (group["name"], group["parentId"], group["parentName"], group["children"]) == (
        "乙一组", later, "乙部门", [])


def test_names_are_unique_among_siblings_only(api: ApiClient) -> None:
    a = create(api, name="甲公司")
    b = create(api, name="乙公司")
    create(api, parentId=a, name="财务部")
    dup = api_error(api.post(f"{DEPT}/create", {"parentId": a, "name": "财务部"}), 409)
    assert "同名" in dup["msg"] and "name" in dup["errors"]
    api_error(api.post(f"{DEPT}/create", {"parentId": a, "name": "  财务部  "}), 409)  # trimmed first
    other = create(api, parentId=b, name="财务部")  # another parent: fine
    api_error(api.put(f"{DEPT}/modify", {"id": other, "parentId": a}), 409)  # moving next to a namesake
    renamed = create(api, parentId=a, name="人事部")
    api_error(api.put(f"{DEPT}/modify", {"id": renamed, "name": "财务部"}), 409)
    api_error(api.post(f"{DEPT}/create", {"name": "甲公司"}), 409)  # roots are siblings too


def test_a_deleted_name_can_be_used_again(api: ApiClient) -> None:
    first = create(api, name="临时部门")
    api.data("DELETE", f"{DEPT}/{first}/delete")
    again = create(api, name="临时部门")
    assert again != first


def test_a_deleted_manager_leaves_the_department_without_one_and_its_form_saves(api: ApiClient, app: Any,
                                                                               pages: PageClient) -> None:
    """A review: the department kept a deleted user's id as its manager (no name on the org chart) and its edit
    form refused every save with 负责人不存在 until the manager was cleared by hand."""
    manager = make_user(app, name="离职经理", phone="13900000303")
    dept = create(api, name="研发部", managerId=manager)
    api.data("DELETE", f"/api/admin/system/user/{manager}/delete")
    item = next(d for d in api.data("POST", "/api/admin/dept/page", {}) if d["id"] == dept)
    assert (item["managerId"], item["managerName"]) == (None, None)
    html = pages.get(f"/system/dept/{dept}/edit").get_data(as_text=True)
    data = {"parent_id": 0, "name": "研发中心", "manager_id": re.search(r'name="manager_id"[^>]*value="([^"]*)"',
                                                                     html).group(1), "sequence": 0}
    assert pages.submit(f"/system/dept/{dept}/edit", data=data).status_code == 302


def test_a_department_in_a_roles_custom_data_scope_is_not_deleted_from_under_it(api: ApiClient, app: Any) -> None:
    """A review: deleting it left the role's custom scope naming nothing, and the role's form refused every save."""
    dept = create(api, name="财务部")
    role = api.data("POST", "/api/admin/role/create", {"name": "财务主管", "roleCode": "ROLE_FIN", "dataScope": 2,
                                                        "deptIds": [dept]})
    refused = api.delete(f"/api/admin/dept/{dept}/delete")
    assert refused.status_code == 409 and "财务主管" in refused.get_json()["msg"]
    api.data("PUT", "/api/admin/role/modify", {"id": role, "name": "财务主管", "roleCode": "ROLE_FIN",
                                               "dataScope": 1, "deptIds": []})
    assert api.delete(f"/api/admin/dept/{dept}/delete").status_code == 200


def test_a_department_deleted_while_a_role_is_scoped_to_it_leaves_no_role_naming_a_deleted_one(
        api: ApiClient, app: Any) -> None:
    """The last probe: a role created with a custom scope of a department, and that department's delete, at once,
    both passed (20 of 25): the role then named a deleted department and its form refused every save."""
    from sqlalchemy import text

    from tests.test_core import _at_once

    clients = [ApiClient(app.test_client(), api.token) for _ in range(2)]
    for n in range(4):
        dept = create(api, name=f"短命部门{n}")
        answers = _at_once([
            lambda d=dept, n=n: clients[0].post("/api/admin/role/create", {
                "name": f"范围角色{n}", "roleCode": f"ROLE_SCOPE_{n}", "dataScope": 2, "deptIds": [d]}),
            lambda d=dept: clients[1].delete(f"/api/admin/dept/{d}/delete")])
        assert sorted(a.status_code for a in answers) in ([200, 409], [200, 422]), [a.get_json() for a in answers]
    naming_deleted = query(app, lambda: db.session.execute(text(
        "SELECT count(*) FROM sys_role_dept rd JOIN sys_role r ON r.id = rd.role_id JOIN sys_dept d "
        "ON d.id = rd.dept_id WHERE r.deleted_at IS NULL AND d.deleted_at IS NOT NULL")).scalar())
    assert naming_deleted == 0


def test_two_department_pages_moving_each_under_the_other_at_once_keep_what_was_typed(app: Any) -> None:
    """The last probe: an edit page locks its department before the service locks departments in id order, so
    two such moves at once deadlocked on PostgreSQL, and the loser got a bare error page, what it typed lost. A
    lost race is now said on the form, with the typed values, as any other refusal."""
    from tests.conftest import csrf_from
    from tests.test_core import _at_once

    admins = [PageClient(app.test_client()) for _ in range(2)]
    for admin in admins:
        assert admin.sign_in().status_code == 302
    for n in range(4):
        x, y = make_dept(app, f"甲{n}"), make_dept(app, f"乙{n}")
        moves = [(admins[0], x, y, f"甲{n}改"), (admins[1], y, x, f"乙{n}改")]
        shown = [admin.get(f"/system/dept/{dept}/edit").get_data(as_text=True) for admin, dept, _, _ in moves]

        def move(admin: PageClient, dept: int, under: int, name: str, html: str) -> Any:
            seen = re.search(r'name="_seen" value="(\w+)"', html).group(1)
            return admin.client.post(f"/system/dept/{dept}/edit", data={
                "csrf_token": csrf_from(html), "_seen": seen, "parent_id": under, "name": name, "sequence": 0})

        answers = _at_once([lambda m=m, h=h: move(*m, h) for m, h in zip(moves, shown, strict=True)])
        codes = sorted(a.status_code for a in answers)
        assert codes in ([302, 409], [302, 422]), codes
        refused = next(a for a in answers if a.status_code != 302).get_data(as_text=True)
        assert re.search(rf'value="[甲乙]{n}改"', refused), refused[-2000:]


def test_unknown_parent_or_manager_and_bad_fields_are_422(api: ApiClient, app: Any) -> None:
    root = create(api, name="总公司")
    gone_user = make_user(app, phone="13900000303")
    with app.app_context():
        from pcloud.users import service as users

        users.delete_user(gone_user, None)
        db.session.remove()
    gone_dept = create(api, parentId=root, name="已撤销")
    api.data("DELETE", f"{DEPT}/{gone_dept}/delete")
    cases = [
        ({"parentId": 99999, "name": "x"}, "parentId"),
        ({"parentId": gone_dept, "name": "x"}, "parentId"),
        ({"name": "x", "managerId": 99999}, "managerId"),
        ({"name": "x", "managerId": gone_user}, "managerId"),
        ({"parentId": root}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": "x", "parentId": -1}, "parentId"),
        ({"name": "x", "managerId": "abc"}, "managerId"),
        ({"name": "x", "establishedTime": "yesterday"}, "establishedTime"),
        ({"name": "x", "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        resp = api_error(api.post(f"{DEPT}/create", body), 422)
        assert field in resp["errors"], (body, resp)
    assert page(api)["total"] == 1  # nothing was created
    resp = api_error(api.put(f"{DEPT}/modify", {"id": root, "managerId": 99999}), 422)
    assert "managerId" in resp["errors"]
    resp = api_error(api.put(f"{DEPT}/modify", {"id": root, "parentId": 99999}), 422)
    assert "parentId" in resp["errors"]
    api_error(api.put(f"{DEPT}/modify", {"name": "no id"}), 422)


def test_modify_renames_moves_and_clears_the_manager(api: ApiClient, app: Any) -> None:
    ids = make_dept_tree(app, ORG)
    manager = make_user(app, name="赵主管", phone="13900000304")
    target = ids["中间件组"]
    assert api.data("PUT", f"{DEPT}/modify", {"id": target, "name": "中间件部", "managerId": manager,
                                              "parentId": ids["销售中心"], "sequence": 7,
                                              "establishedTime": "2020-01-02T03:04:05+08:00"}) == target
    item = next(i for i in page(api, name="中间件部")["data"])
    assert (item["parentId"], item["parentName"], item["managerName"], item["sequence"]) == (
        ids["销售中心"], "销售中心", "赵主管", 7)
    assert item["establishedTime"] == "2020-01-02T03:04:05"
    api.data("PUT", f"{DEPT}/modify", {"id": target, "managerId": None})
    item = next(i for i in page(api, name="中间件部")["data"])
    assert item["managerId"] is None and item["managerName"] is None and item["sequence"] == 7
    api.data("PUT", f"{DEPT}/modify", {"id": target, "parentId": 0})  # to the top
    assert next(i for i in page(api, name="中间件部")["data"])["parentId"] == 0
    api_error(api.put(f"{DEPT}/modify", {"id": 99999, "name": "x"}), 404)


def test_a_department_cannot_move_below_itself_or_its_descendants(api: ApiClient, app: Any) -> None:
    ids = make_dept_tree(app, ORG)
    for below in ("研发中心", "平台部", "基础架构组", "存储小组"):  # itself, then 1, 2 and 3 levels down
        resp = api_error(api.put(f"{DEPT}/modify", {"id": ids["研发中心"], "parentId": ids[below]}), 422)
        assert "parentId" in resp["errors"] and "下级" in resp["msg"]
    org = api.data("GET", f"{DEPT}/org")
    assert org[0]["children"][0]["name"] == "研发中心"  # nothing moved
    # Moving into a cousin branch is fine, and the old subtree goes with it.
    api.data("PUT", f"{DEPT}/modify", {"id": ids["平台部"], "parentId": ids["华南区"]})
    assert page(api, parentId=ids["华南区"])["data"][0]["name"] == "平台部"
    api_error(api.put(f"{DEPT}/modify", {"id": ids["销售中心"], "parentId": ids["存储小组"]}), 422)


def test_delete_is_refused_while_children_or_members_remain(api: ApiClient, app: Any) -> None:
    ids = make_dept_tree(app, {"总公司": {"研发中心": {"平台部": {}}}})
    with_children = api_error(api.delete(f"{DEPT}/{ids['研发中心']}/delete"), 409)
    assert "1 个下级部门" in with_children["msg"]
    member = make_user(app, phone="13900000305", dept_id=ids["平台部"])
    with_members = api_error(api.delete(f"{DEPT}/{ids['平台部']}/delete"), 409)
    assert "1 名成员" in with_members["msg"] and "调到其他部门" in with_members["msg"]
    # A deleted member no longer holds the department.
    with app.app_context():
        from pcloud.users import service as users

        users.delete_user(member, None)
        db.session.remove()
    assert api.data("DELETE", f"{DEPT}/{ids['平台部']}/delete") is None
    assert api.data("DELETE", f"{DEPT}/{ids['研发中心']}/delete") is None
    assert {i["name"] for i in page(api)["data"]} == {"总公司"}
    assert [n["children"] for n in api.data("GET", f"{DEPT}/org")] == [[]]
    api_error(api.delete(f"{DEPT}/{ids['研发中心']}/delete"), 404)
    api_error(api.put(f"{DEPT}/modify", {"id": ids["研发中心"], "name": "复活"}), 404)
    # The row is kept (soft delete).
    from pcloud.depts.models import Dept

    assert query(app, lambda: db.session.get(Dept, ids["研发中心"]).deleted_at) is not None


def test_changes_are_in_the_action_log(api: ApiClient, app: Any) -> None:
    dept = create(api, name="日志部")
    api.data("PUT", f"{DEPT}/modify", {"id": dept, "name": "日志部二"})
    api.post(f"{DEPT}/create", {"name": "日志部二"})  # a 409 is logged too
    api.data("DELETE", f"{DEPT}/{dept}/delete")
    assert logged_actions(app, "部门") == [("部门新增", "success"), ("部门修改", "success"), ("部门新增", "fail"),
                                           ("部门删除", "success")]


# -------------------------------------------------------------------------------- users and depts


def test_users_api_refuses_unknown_dept_post_or_grade(api: ApiClient, app: Any) -> None:
    dept = make_dept(app, "研发中心")
    post = make_post(app, "工程师")
    grade = make_grade(app, "P5", 5)
    base = {"phone": "13900000310", "name": "新人", "password": "Passw0rd1"}
    for field in ("deptId", "postId", "gradeId"):
        resp = api_error(api.post("/api/admin/system/user/create", {**base, field: 99999}), 422)
        assert field in resp["errors"]
    user = api.data("POST", "/api/admin/system/user/create", {**base, "deptId": dept, "postId": post,
                                                              "gradeId": grade})
    item = api.data("POST", "/api/admin/system/user/page", {"phone": "13900000310"})[0]
    assert (item["deptName"], item["postName"], item["gradeName"]) == ("研发中心", "工程师", "P5")
    for field in ("deptId", "postId", "gradeId"):
        api_error(api.put("/api/admin/system/user/modify", {"id": user, field: 99999}), 422)


@pytest.fixture
def populated(app: Any) -> dict[str, Any]:
    """ORG with two users in every department, one deleted user and two users without a department."""
    ids = make_dept_tree(app, ORG)
    users: dict[str, list[int]] = {}
    phone = 13900100000
    for name, dept_id in ids.items():
        for n in range(2):
            phone += 1
            users.setdefault(name, []).append(make_user(app, phone=str(phone), name=f"{name}{n}",
                                                        dept_id=dept_id))
    gone = make_user(app, phone="13900199999", dept_id=ids["存储小组"])
    with app.app_context():
        from pcloud.users import service as users_service

        users_service.delete_user(gone, None)
        db.session.remove()
    make_user(app, phone="13900199998")
    return {"ids": ids, "users": users}


SUBTREES = {
    "总公司": ["总公司", "研发中心", "平台部", "基础架构组", "存储小组", "网络小组", "中间件组", "产品部", "设计组",
            "销售中心", "华东区", "上海办", "华南区"],
    "研发中心": ["研发中心", "平台部", "基础架构组", "存储小组", "网络小组", "中间件组", "产品部", "设计组"],
    "平台部": ["平台部", "基础架构组", "存储小组", "网络小组", "中间件组"],
    "基础架构组": ["基础架构组", "存储小组", "网络小组"],
    "存储小组": ["存储小组"],
    "独立子公司": ["独立子公司", "子公司财务部"],
}


def test_user_page_api_filters_exactly_the_subtree(api: ApiClient, populated: dict[str, Any]) -> None:
    ids, users = populated["ids"], populated["users"]
    for top, members in SUBTREES.items():
        expected = {uid for name in members for uid in users[name]}
        body = api.post("/api/admin/system/user/page", {"deptId": ids[top], "pageSize": 200}).get_json()
        assert body["total"] == len(expected), top
        assert {u["id"] for u in body["data"]} == expected, top
    # Paging through a filtered list sees each user once.
    seen: list[int] = []
    for n in (1, 2, 3):
        seen += [u["id"] for u in api.data("POST", "/api/admin/system/user/page",
                                           {"deptId": ids["研发中心"], "page": n, "pageSize": 7})]
    assert sorted(seen) == sorted(uid for name in SUBTREES["研发中心"] for uid in users[name])
    # The filter follows a move.
    api.data("PUT", f"{DEPT}/modify", {"id": ids["基础架构组"], "parentId": ids["独立子公司"]})
    moved = {u["id"] for u in api.data("POST", "/api/admin/system/user/page",
                                       {"deptId": ids["独立子公司"], "pageSize": 200})}
    assert moved == {uid for name in ("独立子公司", "子公司财务部", "基础架构组", "存储小组", "网络小组")
                     for uid in users[name]}
    assert api.data("POST", "/api/admin/system/user/page", {"deptId": 99999}) == []


def test_user_list_page_filters_exactly_the_subtree(pages: PageClient, populated: dict[str, Any]) -> None:
    ids, users = populated["ids"], populated["users"]
    for top in ("研发中心", "平台部", "基础架构组"):
        expected = {uid for name in SUBTREES[top] for uid in users[name]}
        html = pages.get(f"/system/user/?dept_id={ids[top]}&size=200").get_data(as_text=True)
        assert user_ids_in_page(html) == expected, top
        assert f'<option value="{ids[top]}" selected>' in html  # the filter shows what is applied


def test_user_list_offers_the_department_filter_as_a_tree(pages: PageClient, app: Any) -> None:
    make_dept_tree(app, {"总公司": {"研发中心": {"平台部": {}}}})
    html = pages.get("/system/user/").get_data(as_text=True)
    assert 'name="dept_id"' in html and "全部部门" in html
    assert re.search(r">　　平台部</option>", html)  # indented two levels


# --------------------------------------------------------------------------------------------- pages


def test_tree_page_shows_managers_and_member_counts(pages: PageClient, app: Any) -> None:
    ids = make_dept_tree(app, {"总公司": {"研发中心": {"平台部": {}}, "销售中心": {}}})
    manager = make_user(app, name="钱经理", phone="13900000320", dept_id=ids["研发中心"])
    for n in range(3):
        make_user(app, phone=f"1390000033{n}", dept_id=ids["平台部"])
    from pcloud.depts.models import Dept

    with app.app_context():
        db.session.get(Dept, ids["研发中心"]).manager_id = manager
        db.session.commit()
        db.session.remove()
    html = pages.get("/system/dept/").get_data(as_text=True)
    row = re.search(rf'<tr data-dept-id="{ids["研发中心"]}".*?</tr>', html, re.S).group(0)
    assert "钱经理" in row
    assert re.search(r'data-testid="members">1</span> / <span data-testid="total-members">4<', row)
    top = re.search(rf'<tr data-dept-id="{ids["总公司"]}".*?</tr>', html, re.S).group(0)
    assert re.search(r'data-testid="members">0</span> / <span data-testid="total-members">4<', top)
    assert html.index("总公司") < html.index("研发中心") < html.index("平台部") < html.index("销售中心")


def test_tree_page_counts_members_in_one_query(pages: PageClient, app: Any) -> None:
    """Rendering the tree costs the same number of queries for 3 or 30 departments (no N+1)."""
    def show() -> None:
        assert pages.get("/system/dept/").status_code == 200

    def statements() -> int:
        return statements_run(app, show)

    top = make_dept(app, "总公司")
    for n in range(2):
        make_user(app, phone=f"1390000040{n}", dept_id=make_dept(app, f"部门{n}", top))
    small = statements()
    for n in range(2, 29):
        make_user(app, phone=f"139000004{n:02d}", dept_id=make_dept(app, f"部门{n}", top))
    assert statements() == small


def test_tree_page_name_filter_keeps_the_ancestors(pages: PageClient, app: Any) -> None:
    make_dept_tree(app, ORG)
    html = pages.get("/system/dept/?name=存储").get_data(as_text=True)
    names = re.findall(r'class="[^"]*dept-name[^"]*"[^>]*>([^<]+)<', html)
    assert names == ["总公司", "研发中心", "平台部", "基础架构组", "存储小组"]


def test_create_page_with_parent_picker_and_manager(pages: PageClient, app: Any) -> None:
    root = make_dept(app, "总公司")
    manager = make_user(app, name="孙经理", phone="13900000340")
    form = pages.get(f"/system/dept/new?parent_id={root}").get_data(as_text=True)
    assert f'<option selected value="{root}">总公司</option>' in form
    resp = pages.submit("/system/dept/new", data={"parent_id": root, "name": "市场部", "manager_id": manager,
                                                  "established_time": "2022-03-01", "sequence": "3"})
    assert resp.status_code == 302
    from pcloud.depts.models import Dept

    dept = query(app, lambda: db.session.execute(select(Dept).where(Dept.name == "市场部")).scalar_one())
    assert (dept.parent_id, dept.manager_id, dept.sequence) == (root, manager, 3)
    html = pages.get("/system/dept/").get_data(as_text=True)
    assert "市场部" in html and "孙经理" in html and "2022-03-01" in html


def test_create_page_shows_errors_next_to_the_fields(pages: PageClient, app: Any) -> None:
    root = make_dept(app, "总公司")
    make_dept(app, "市场部", root)
    dup = pages.submit("/system/dept/new", data={"parent_id": root, "name": "市场部"})
    assert dup.status_code == 409 and "同一上级部门下已有同名部门" in dup.get_data(as_text=True)
    bad_manager = pages.submit("/system/dept/new", data={"parent_id": root, "name": "新部门",
                                                         "manager_id": "99999"})
    assert bad_manager.status_code == 422 and "负责人不存在" in bad_manager.get_data(as_text=True)
    superscript = pages.submit("/system/dept/new", data={"parent_id": root, "name": "新部门", "manager_id": "³"})
    assert superscript.status_code == 422 and "负责人不存在" in superscript.get_data(as_text=True)
    blank = pages.submit("/system/dept/new", data={"parent_id": root, "name": ""})
    assert blank.status_code == 422 and "请输入部门名称" in blank.get_data(as_text=True)


def test_edit_page_parent_picker_leaves_out_the_subtree(pages: PageClient, app: Any) -> None:
    ids = make_dept_tree(app, ORG)
    html = pages.get(f"/system/dept/{ids['平台部']}/edit").get_data(as_text=True)
    picker = re.search(r'<select[^>]*name="parent_id".*?</select>', html, re.S).group(0)
    offered = set(re.findall(r'value="(\d+)"', picker))
    for name in SUBTREES["平台部"]:
        assert str(ids[name]) not in offered, name
    assert str(ids["研发中心"]) in offered and str(ids["产品部"]) in offered
    # A forged choice is still refused by the service.
    forged = pages.submit(f"/system/dept/{ids['平台部']}/edit",
                          data={"parent_id": ids["存储小组"], "name": "平台部"})
    assert forged.status_code == 422 and "下级部门之下" in forged.get_data(as_text=True)
    moved = pages.submit(f"/system/dept/{ids['平台部']}/edit", data={"parent_id": ids["产品部"], "name": "平台部"})
    assert moved.status_code == 302
    from pcloud.depts.models import Dept

    assert query(app, lambda: db.session.get(Dept, ids["平台部"]).parent_id) == ids["产品部"]


def test_edit_page_shows_the_current_manager(pages: PageClient, app: Any) -> None:
    manager = make_user(app, name="周经理", phone="13900000350")
    dept = make_dept(app, "总公司")
    from pcloud.depts.models import Dept

    with app.app_context():
        db.session.get(Dept, dept).manager_id = manager
        db.session.commit()
        db.session.remove()
    html = pages.get(f"/system/dept/{dept}/edit").get_data(as_text=True)
    assert "已选：周经理（13900000350）" in html and f'name="manager_id" type="hidden" value="{manager}"' in html
    cleared = pages.submit(f"/system/dept/{dept}/edit", data={"parent_id": 0, "name": "总公司", "manager_id": ""})
    assert cleared.status_code == 302
    assert query(app, lambda: db.session.get(Dept, dept).manager_id) is None
    assert pages.get("/system/dept/99999/edit").status_code == 404


def test_delete_page_refuses_with_the_reason_and_deletes_otherwise(pages: PageClient, app: Any) -> None:
    ids = make_dept_tree(app, {"总公司": {"研发中心": {}}, "空部门": {}})
    make_user(app, phone="13900000360", dept_id=ids["研发中心"])
    make_user(app, phone="13900000361", dept_id=ids["研发中心"])
    listing = pages.get("/system/dept/").get_data(as_text=True)
    # The confirmation already explains why the delete will be refused.
    assert "不能删除部门「研发中心」：其下还有 2 名成员。请先把成员调到其他部门。" in listing
    assert "确定删除部门「空部门」吗？" in listing

    refused = pages.submit("/system/dept/", f"/system/dept/{ids['研发中心']}/delete", follow_redirects=True)
    text = refused.get_data(as_text=True)
    assert "不能删除部门「研发中心」" in text and "2 名成员" in text
    refused = pages.submit("/system/dept/", f"/system/dept/{ids['总公司']}/delete", follow_redirects=True)
    assert "1 个下级部门" in refused.get_data(as_text=True)
    done = pages.submit("/system/dept/", f"/system/dept/{ids['空部门']}/delete", follow_redirects=True)
    assert "部门「空部门」已删除" in done.get_data(as_text=True)
    assert logged_actions(app, "部门删除") == [("部门删除", "fail"), ("部门删除", "fail"), ("部门删除", "success")]


def test_org_chart_page_draws_the_tree(pages: PageClient, app: Any) -> None:
    ids = make_dept_tree(app, ORG)
    manager = make_user(app, name="吴总", phone="13900000370", dept_id=ids["总公司"])
    make_user(app, phone="13900000371", dept_id=ids["存储小组"])
    from pcloud.depts.models import Dept

    with app.app_context():
        db.session.get(Dept, ids["总公司"]).manager_id = manager
        db.session.commit()
        db.session.remove()
    html = pages.get("/system/dept/org").get_data(as_text=True)
    assert html.count('data-testid="org-node"') == len(ids)
    box = re.search(rf'data-dept-id="{ids["总公司"]}".*?</div>\s*</div>', html, re.S).group(0)
    assert "吴总" in box and "2 人" in box
    # Nesting follows the tree: 存储小组 sits inside 基础架构组's list, which sits inside 平台部's.
    nested = re.search(r"平台部.*?<ul>.*?基础架构组.*?<ul>.*?存储小组", html, re.S)
    assert nested is not None
    focused = pages.get(f"/system/dept/org?root={ids['平台部']}").get_data(as_text=True)
    assert focused.count('data-testid="org-node"') == len(SUBTREES["平台部"])
    assert "研发中心" in focused  # in the breadcrumb path
    assert pages.get("/system/dept/org?root=99999").status_code == 404


def test_org_chart_folds_a_large_organisation(pages: PageClient, app: Any) -> None:
    from pcloud.depts.models import Dept

    with app.app_context():
        top = Dept(name="集团")
        db.session.add(top)
        db.session.flush()
        parents = [top.id]
        for level in range(4):
            nxt = []
            for p in parents:
                for n in range(4):
                    d = Dept(name=f"L{level}-{p}-{n}", parent_id=p)
                    db.session.add(d)
                    db.session.flush()
                    nxt.append(d.id)
            parents = nxt
        db.session.commit()
        db.session.remove()
    html = pages.get("/system/dept/org").get_data(as_text=True)
    assert "仅显示前 3 层" in html and html.count('data-testid="org-node"') == 1 + 4 + 16
    full = pages.get("/system/dept/org?depth=99").get_data(as_text=True)
    assert full.count('data-testid="org-node"') == 1 + 4 + 16 + 64 + 256


def test_manager_search_finds_users_by_name_or_phone(pages: PageClient, app: Any) -> None:
    dept = make_dept(app, "研发中心")
    make_user(app, name="郑小明", phone="13900000380", dept_id=dept)
    make_user(app, name="郑大明", phone="13900000381")
    by_name = pages.get("/system/dept/managers?q=郑").get_json()["items"]
    assert {u["name"] for u in by_name} == {"郑小明", "郑大明"}
    assert next(u for u in by_name if u["name"] == "郑小明")["deptName"] == "研发中心"
    by_phone = pages.get("/system/dept/managers?q=0381").get_json()["items"]
    assert [u["name"] for u in by_phone] == ["郑大明"] and set(by_phone[0]) >= {"id", "name", "phone"}
    assert pages.get("/system/dept/managers?q=").get_json()["items"] == []
    assert pages.get("/system/dept/managers?q=%25").get_json()["items"] == []  # LIKE wildcards are literal


@pytest.mark.parametrize("many", [False, True], ids=["index-matches-sorted", "read-in-name-order"])
def test_the_manager_pickers_keyword_gives_exactly_the_rows_of_like(pages: PageClient, app: Any, many: bool,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The picker's keyword == `name LIKE '%q%' OR phone LIKE '%q%'` of the same database, first by name, on random
    names and phones (Chinese, ASCII of both cases, letters whose case only the index folds, `%`, `_` and `"`,
    keywords of one to five characters), deleted users left out; in both plans (the trigram index's matches sorted,
    or the users read in name order and each checked, as when the sample finds the matches plainly many)."""
    from pcloud.core import paging
    from pcloud.users.models import User

    monkeypatch.setattr(paging, "sample_estimate", lambda *_args: 10**6 if many else None)

    rng = random.Random(109)
    seed_random_users(app, rng, 300)
    with app.app_context():
        names = list(db.session.execute(select(User.name)).scalars())
        phones = list(db.session.execute(select(User.phone)).scalars())
        for kw in random_keywords(rng, names, 30) + random_keywords(rng, phones, 15):
            q = kw.strip()
            expected = list(db.session.execute(select(User.id).where(
                User.deleted_at.is_(None),
                or_(User.name.contains(q, autoescape=True), User.phone.contains(q, autoescape=True)))
                .order_by(User.name, User.id).limit(10)).scalars())
            got = pages.get("/system/dept/managers", query_string={"q": kw}).get_json()["items"]
            assert [u["id"] for u in got] == expected, kw
        db.session.remove()


@pytest.mark.skipif(is_postgres(), reason="SQLite's plan; PostgreSQL's GIN indexes serve the LIKE itself")
def test_the_manager_pickers_keyword_starts_from_the_trigram_index(pages: PageClient, app: Any) -> None:
    """A keyword of three characters or more is looked up in the users' FTS table, not checked against every user in
    name order (at a million users, the whole table for a name nobody has)."""
    make_user(app, name="郑小明", phone="13900000380")
    make_user(app, name="郑大明", phone="13900000381")
    for q in ("郑小明", "00380", "无此人"):
        plans = user_keyword_plans(app, lambda q=q: pages.get("/system/dept/managers", query_string={"q": q}))
        assert len(plans) == 1 and starts_from_the_users_trigram_index(plans[0]), plans


@pytest.mark.skipif(is_postgres(), reason="SQLite's plan")
def test_a_keyword_most_users_match_is_read_in_name_order(pages: PageClient, app: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Matches plainly many in a sample of the first users by name: the picker reads users in name order and checks
    each (ten found within a few rows), not every match from the trigram index, sorted (the whole table, for a phone
    fragment every user has)."""
    from pcloud.core import paging
    from pcloud.core.dbstats import refresh_statistics
    from pcloud.users.models import User

    seeded = seed_random_users(app, random.Random(110), 150)
    with app.app_context():
        db.session.execute(User.__table__.update().where(User.id.in_(seeded)).values(name="批量用" + User.name))
        db.session.commit()
        refresh_statistics(db.engine)  # the sample extrapolates to the table's rows, which the statistics give
        db.session.remove()
    monkeypatch.setattr(paging, "SAMPLE_ROWS", 50)
    monkeypatch.setattr(paging, "TOTAL_EXACT_LIMIT", 20)
    plans = user_keyword_plans(app, lambda: pages.get("/system/dept/managers", query_string={"q": "批量用"}))
    assert len(plans) == 1 and not any("VIRTUAL TABLE" in step for step in plans[0]), plans
    assert any(step.startswith("SCAN sys_user USING INDEX ix_sys_user_name") for step in plans[0]), plans


def test_pages_need_sign_in(anon_pages: PageClient) -> None:
    for path in ("/system/dept/", "/system/dept/new", "/system/dept/org", "/system/dept/managers?q=a"):
        resp = anon_pages.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_a_parent_loop_is_refused_even_behind_the_service(api: ApiClient, app: Any) -> None:
    """A loop (by a racing move, or a write that skips the service's check) cannot be stored: the closure
    table would need a second (x, x) row, so the database refuses the whole transaction."""
    from sqlalchemy.exc import IntegrityError

    from pcloud.depts import service
    from pcloud.depts.models import Dept

    a = make_dept(app, "甲")
    b = make_dept(app, "乙", a)
    make_user(app, phone="13900000390", dept_id=b)
    with app.app_context():
        db.session.get(Dept, a).parent_id = b  # 甲 -> 乙 -> 甲
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(Dept, a).parent_id == 0
        assert set(service.subtree_ids(a)) == {a, b} and service.subtree_ids(b) == [b]
        db.session.remove()
    assert api.put("/api/admin/dept/modify", {"id": a, "parentId": b}).status_code == 422
    assert api.post("/api/admin/system/user/page", {"deptId": a}).get_json()["total"] == 1
    assert api.get(f"{DEPT}/org").status_code == 200


def test_a_user_without_grants_is_refused(app: Any, anon: ApiClient, anon_pages: PageClient) -> None:
    make_user(app, phone="13900000395", password="Passw0rd1")
    token = anon.sign_in("13900000395", "Passw0rd1")
    assert anon.call("POST", f"{DEPT}/page", {}, token=token).status_code == 403
    assert anon.call("GET", f"{DEPT}/org", token=token).status_code == 403
    assert anon.call("POST", "/api/admin/post/page", {}, token=token).status_code == 403
    assert anon.call("POST", "/api/admin/grade/page", {}, token=token).status_code == 403
    assert anon_pages.sign_in("13900000395", "Passw0rd1").status_code == 302
    for path in ("/system/dept/", "/system/dept/org", "/system/dept/managers?q=1", "/system/post/", "/system/grade/"):
        assert anon_pages.get(path).status_code == 403, path


def test_closure_table_matches_the_tree_after_random_moves(api: ApiClient, app: Any) -> None:
    """The subtree index (sys_dept_closure) always equals the transitive closure of parent ids."""
    import random

    from sqlalchemy import select as sa_select

    from pcloud.depts.models import Dept, DeptClosure

    rng = random.Random(3)
    ids: list[int] = []
    for n in range(25):
        parent = rng.choice([0, *ids])
        ids.append(api.data("POST", "/api/admin/dept/create", {"parentId": parent, "name": f"随机{n}"}))
    moves: list[int] = []
    for _ in range(40):
        dept, parent = rng.choice(ids), rng.choice([0, *ids])
        moves.append(api.put("/api/admin/dept/modify", {"id": dept, "parentId": parent}).status_code)
    deletes = [api.delete(f"/api/admin/dept/{dept}/delete").status_code for dept in rng.sample(ids, 8)]
    # Each answer is one the rules allow (422: it would loop; 409: a name taken among siblings, or a
    # department that still has children), and enough of them changed the tree for the check to mean something.
    assert set(moves) <= {200, 409, 422} and moves.count(200) >= 15, moves
    assert set(deletes) <= {200, 409} and deletes.count(200) >= 2, deletes

    def snapshot() -> tuple[set[tuple[int, int, int]], set[tuple[int, int, int]]]:
        parents = {d.id: d.parent_id for d in db.session.execute(Dept.live()).scalars()}
        expected = set()
        for node in parents:
            walk, depth = node, 0
            while walk in parents:
                expected.add((walk, node, depth))
                walk, depth = parents[walk], depth + 1
        actual = {tuple(r) for r in db.session.execute(
            sa_select(DeptClosure.ancestor_id, DeptClosure.descendant_id, DeptClosure.depth))}
        return expected, actual

    expected, actual = query(app, snapshot)
    assert actual == expected


def test_a_refused_delete_is_logged_as_failed_on_the_page_and_the_api(app: Any, pages: PageClient,
                                                                       api: ApiClient) -> None:
    """A department with a child: the page and the API both answer 409 with the reason, and log it as failed."""
    ids = make_dept_tree(app, {"研发中心": {"平台组": {}}})
    refusal = "不能删除部门「研发中心」：其下还有 1 个下级部门。请先删除或移走下级部门。"
    page = pages.submit("/system/dept/", f"/system/dept/{ids['研发中心']}/delete")
    assert_refused(app, page, "部门删除", 409, refusal)
    assert_refused(app, api.delete(f"/api/admin/dept/{ids['研发中心']}/delete"), "部门删除", 409, refusal)


def test_saving_a_dept_deleted_meanwhile_keeps_the_typed_values(app: Any, pages: PageClient, api: ApiClient) -> None:
    dept = make_dept(app, "将被删除")
    assert_save_after_delete_keeps_typed(
        pages, f"/system/dept/{dept}/edit", lambda: api.data("DELETE", f"{DEPT}/{dept}/delete"),
        {"parent_id": "0", "name": "我刚改的部门", "manager_id": "", "established_time": "", "sequence": "0"},
        "我刚改的部门", "部门")


def test_an_establishment_date_out_of_range_is_a_field_error_not_a_server_error(app: Any, pages: PageClient,
                                                                                api: ApiClient) -> None:
    """Issue 19, finding 9: year 0001 (underflows once in UTC) or 9999 on the form answered 500."""
    from html import unescape

    for day in ("0001-01-01", "9999-12-31"):
        resp = pages.submit("/system/dept/new", data={"name": f"部门{day[:4]}", "established_time": day,
                                                      "parent_id": "0", "sequence": "0"})
        html = unescape(resp.get_data(as_text=True))
        assert resp.status_code == 422, (day, resp.status_code)
        assert "日期超出范围，应在 1900-01-01 至 9999-12-30 之间" in html, day
    body = api.post("/api/admin/dept/create", {"name": "x", "establishedTime": "0001-01-01T00:00:00"}).get_json()
    assert body["code"] == 422
    assert body["errors"] == {"establishedTime": ["时间超出范围，应在 1900-01-01 至 9999-12-30 之间"]}
    from pcloud.depts.models import Dept

    assert query(app, lambda: db.session.execute(select(Dept.id).where(Dept.name.like("部门%"))).first()) is None


# --------------------------------------------------------------------------------------------- English


def test_the_department_pages_speak_english(app: Any, english_pages: PageClient) -> None:
    english_pages.get("/")  # the sign-in's welcome flash, said before the language was chosen
    for path in ("/system/dept/", "/system/dept/org"):
        empty = english_pages.get(path).get_data(as_text=True)
        assert "No departments yet" in empty and not chinese_on_page(empty), (path, chinese_on_page(empty))
    hq = make_dept(app, "HQ")
    rnd = make_dept(app, "RnD", parent_id=hq)
    make_dept(app, "Platform", parent_id=rnd)
    alice = make_user(app, name="Alice", phone="13900001111", dept_id=rnd)
    english_pages.submit(f"/system/dept/{hq}/edit", data={"name": "HQ", "parent_id": "0", "manager_id": str(alice),
                                                          "sequence": "0"})
    for path in ("/system/dept/", "/system/dept/?name=RnD", "/system/dept/?name=nothing-matches", "/system/dept/new",
                 f"/system/dept/{hq}/edit", f"/system/dept/new?parent_id={rnd}", "/system/dept/org",
                 f"/system/dept/org?root={rnd}", "/system/dept/org?depth=1"):
        resp = english_pages.get(path)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and not chinese_on_page(html), (path, chinese_on_page(html))
    listing = english_pages.get("/system/dept/").get_data(as_text=True)
    assert "3 department(s) in total" in listing
    assert "Cannot delete the department &#39;RnD&#39;: it still has 1 child department(s) and 1 member(s)" in listing
    form = english_pages.get(f"/system/dept/{hq}/edit").get_data(as_text=True)
    assert "Selected: Alice (13900001111)" in form
    folded = english_pages.get("/system/dept/org?depth=1").get_data(as_text=True)
    assert "Show child departments (2) ›" in folded and "Only the first 1 level(s) are shown" in folded

    invalid = english_pages.submit("/system/dept/new", data={"name": "", "parent_id": "0",
                                                            "established_time": "not-a-date"})
    assert "Enter the department name" in english_form(invalid, 422)
    saved = english_pages.submit("/system/dept/new", data={"name": "Sales", "parent_id": str(hq), "sequence": "1"},
                                 follow_redirects=True)
    assert "Department 'Sales' created" in english_form(saved)
    taken = english_pages.submit("/system/dept/new", data={"name": "Sales", "parent_id": str(hq)})
    assert "A department with this name already exists under the same parent" in english_form(taken, 409)


def test_a_department_refusal_through_the_api_speaks_english(app: Any, api: ApiClient) -> None:
    hq = make_dept(app, "HQ")
    make_user(app, name="Bob", dept_id=hq)
    resp = api.call("DELETE", f"{DEPT}/{hq}/delete", headers={"Accept-Language": "en"})
    assert api_error(resp, 409)["msg"] == ("Cannot delete the department 'HQ': it still has 1 member(s). "
                                           "Move them to other departments first.")
    resp = api.call("POST", f"{DEPT}/create", {"name": "X", "parentId": 999999}, headers={"Accept-Language": "en"})
    body = api_error(resp, 422)
    assert body["errors"] == {"parentId": ["The parent department does not exist"]}


def test_a_department_tree_is_at_most_twenty_levels_deep(app: Any, api: ApiClient, pages: Any) -> None:
    """Unbounded nesting made the org chart answer 500 at 180 levels and the user page at 1,000 (an outside
    review): a create or move that would go past MAX_DEPTH levels is 422 on parentId; the deepest tree allowed
    still renders everywhere."""
    from pcloud.core.tree import MAX_DEPTH
    from pcloud.depts.models import Dept

    parent = 0
    for level in range(MAX_DEPTH):
        parent = make_dept(app, f"第{level + 1}层", parent)
    body = api_error(api.post("/api/admin/dept/create", {"parentId": parent, "name": "太深"}), 422)
    assert "parentId" in body["errors"] and str(MAX_DEPTH) in body["msg"]
    top = make_dept(app, "另一棵")
    make_dept(app, "另一棵的下级", top)
    second_last = query(app, lambda: db.session.execute(select(Dept.parent_id).where(Dept.id == parent)).scalar())
    # moving a department with one level below it under the 19th level: 21 levels
    api_error(api.put("/api/admin/dept/modify", {"id": top, "parentId": second_last}), 422)
    assert api.put("/api/admin/dept/modify", {"id": top, "parentId": query(app, lambda: db.session.execute(
        select(Dept.parent_id).where(Dept.id == second_last)).scalar())}).status_code == 200
    for url in ("/system/dept/", "/system/dept/org", "/system/user/"):
        assert pages.get(url).status_code == 200, url
    assert api.get("/api/admin/dept/org").status_code == 200
    assert api.post("/api/admin/dept/tree", {}).status_code == 200


def test_parallel_creates_and_renames_into_one_department_name_keep_one(app: Any, api: ApiClient) -> None:
    """The house rule for a unique value (tests/conftest.py `assert_races_keep_one`): a name among the
    departments of one parent."""
    from pcloud.depts.models import Dept
    from tests.conftest import assert_races_keep_one

    parent = make_dept(app, "并发上级")
    assert_races_keep_one(
        app, api.token, lambda n: ("POST", f"{DEPT}/create", {"parentId": parent, "name": f"并发部门{n}"}),
        lambda dept, n: ("PUT", f"{DEPT}/modify", {"id": dept, "name": f"并发部门{n}"}),
        lambda n: "同一上级部门下已有同名部门",
        lambda: query(app, lambda: list(db.session.execute(select(Dept.parent_id, Dept.name)
                                                           .where(Dept.deleted_at.is_(None))).tuples())))


def test_the_tree_offers_a_scoped_administrator_no_action_on_departments_beyond_the_scope(
        app: Any, api: ApiClient) -> None:
    """A browser review: the head of 研发中心 (本部门及以下) was offered 新增下级, 编辑 and 删除 on 销售部 and its
    subtree, and 删除 looked allowed on a department whose members lie beyond the scope (none counted for them);
    each click was refused (部门超出您的数据权限范围) only after the form or the confirm. The list asks the rule the
    click would meet, and an edit page typed in says why at once."""
    from tests.test_datascope import grant_everything, make_scoped_role, signed_in_as

    org = make_dept_tree(app, {"总部": {"研发中心": {"后端组": {}}, "销售部": {"华东区": {}}}})
    make_user(app, dept_id=org["华东区"])
    role = make_scoped_role(api, "ROLE_RD_HEAD", 4)
    grant_everything(app, role)
    phone = "13900000399"
    make_user(app, phone=phone, dept_id=org["研发中心"], role_ids=[role])
    _head_api, head = signed_in_as(app, phone)
    html = head.get("/system/dept/").get_data(as_text=True)
    rows = {int(m.group(1)): m.group(2) for m in re.finditer(r'<tr data-dept-id="(\d+)"(.*?)</tr>', html, re.S)}
    for name in ("总部", "销售部", "华东区"):
        row = rows[org[name]]
        assert f"/system/dept/{org[name]}/edit" not in row and f"/system/dept/{org[name]}/delete" not in row, name
        assert f"parent_id={org[name]}" not in row, name
    for name in ("研发中心", "后端组"):
        assert f"/system/dept/{org[name]}/edit" in rows[org[name]] and f"parent_id={org[name]}" in rows[org[name]]
    assert f"/system/dept/{org['后端组']}/delete" in rows[org["后端组"]]
    refused = head.get(f"/system/dept/{org['华东区']}/edit")
    assert refused.status_code == 403 and "部门超出您的数据权限范围" in refused.get_data(as_text=True)
    assert head.get(f"/system/dept/{org['后端组']}/edit").status_code == 200


def test_the_form_offers_a_scoped_administrator_only_parents_within_the_scope(app: Any, api: ApiClient) -> None:
    """A browser review: the head of 研发中心 (本部门及以下) was offered every department as 上级部门, and the top level
    (新增部门 opened with it chosen), each refused on save (部门超出您的数据权限范围). The form offers what the save
    allows (depts.service.scope_refusal), and a department's present parent, kept as it is."""
    from tests.test_datascope import grant_everything, make_scoped_role, signed_in_as

    org = make_dept_tree(app, {"总部": {"研发中心": {"后端组": {}, "前端组": {}}, "销售部": {}}})
    role = make_scoped_role(api, "ROLE_RD_HEAD", 4)
    grant_everything(app, role)
    phone = "13900000398"
    make_user(app, phone=phone, dept_id=org["研发中心"], role_ids=[role])
    _head_api, head = signed_in_as(app, phone)

    def options(path: str) -> set[int]:
        html = head.get(path).get_data(as_text=True)
        picker = html[html.index('name="parent_id"'):]
        return {int(v) for v in re.findall(r'<option[^>]*value="(\d+)"', picker[:picker.index("</select>")])}

    assert options("/system/dept/new") == {org["研发中心"], org["后端组"], org["前端组"]}
    assert options(f"/system/dept/{org['后端组']}/edit") == {org["研发中心"], org["前端组"]}
    assert options(f"/system/dept/{org['研发中心']}/edit") == {org["总部"]}  # its parent, kept; nothing else
    html = head.get("/system/dept/new").get_data(as_text=True)
    assert "作为顶级部门" not in html


def test_the_manager_picker_offers_a_phone_search_only_to_those_who_may_see_phones(pages: PageClient,
                                                                                   app: Any) -> None:
    """A review: the manager picker said 输入姓名或手机号搜索 to everyone, but phones are searched only for those who
    may see them (depts.service.may_see_phones): for the others it says 输入姓名搜索."""
    from tests.factories import grant_role, make_role, next_phone, route_code

    assert 'placeholder="输入姓名或手机号搜索"' in pages.get("/system/dept/new").get_data(as_text=True)
    role = make_role(app, "ROLE_DEPT_ONLY")
    grant_role(app, role, menu_paths=("/system", "/system/dept"),
               resource_codes=(route_code("depts_api.create", "POST"),))
    phone = next_phone()
    make_user(app, phone=phone, password="Passw0rd1", role_ids=[role])
    editor = PageClient(app.test_client())
    assert editor.sign_in(phone, "Passw0rd1").status_code == 302
    html = editor.get("/system/dept/new").get_data(as_text=True)
    assert 'placeholder="输入姓名搜索"' in html and "输入姓名或手机号搜索" not in html
    assert editor.get(f"/system/dept/managers?q={phone[-6:]}").get_json()["items"] == []
