"""数据权限: the scope API (`pcloud.datascope.service`) and what a principal of each scope sees and cannot touch,
through the page, the API, the export and the pickers."""

from __future__ import annotations

from typing import Any

import pytest

from pcloud.core.security import Principal
from pcloud.datascope import service as datascope
from pcloud.extensions import db
from tests.conftest import ApiClient
from tests.factories import make_dept_tree, make_user, next_phone

# 总部 > 研发中心 > (后端组, 前端组); 总部 > 销售部
ORG = {"总部": {"研发中心": {"后端组": {}, "前端组": {}}, "销售部": {}}}


def make_scoped_role(api: ApiClient, code: str, scope: int, dept_ids: list[int] | None = None) -> int:
    body = {"name": code, "roleCode": code, "dataScope": scope}
    if dept_ids is not None:
        body["deptIds"] = dept_ids
    return api.data("POST", "/api/admin/role/create", body)


def principal_of(app: Any, user_id: int) -> Principal:
    from pcloud.access import permissions
    from pcloud.users.service import get_user

    with app.app_context():
        user = get_user(user_id)
        principal = Principal(kind="user", id=user.id, name=user.name, phone=user.phone, avatar=None,
                              role_ids=frozenset(r.id for r in user.live_roles),
                              role_codes=frozenset(r.role_code for r in user.live_roles), session_id=0, token="",
                              perm_version=permissions.current_version())
        db.session.remove()
    return principal


def scope_for(app: Any, user_id: int) -> tuple[datascope.DataScope, dict[str, Any]]:
    principal = principal_of(app, user_id)
    with app.app_context():
        scope = datascope.scope_of(principal)
        reached = scope.reached_dept_ids()
        from sqlalchemy import select

        from pcloud.users.models import User

        visible = set(db.session.execute(select(User.id).where(User.deleted_at.is_(None), scope.user_clause()))
                      .scalars())
        db.session.remove()
    return scope, {"reached": reached, "visible": visible}


def test_scope_of_each_kind_and_the_union(app: Any, api: ApiClient) -> None:
    org = make_dept_tree(app, ORG)
    members = {name: make_user(app, dept_id=dept_id) for name, dept_id in org.items()}
    nobody = make_user(app)  # no department: reached only under "all"
    roles = {kind: make_scoped_role(api, f"ROLE_S{kind}", kind,
                                    [org["销售部"], org["后端组"]] if kind == 2 else None) for kind in range(1, 6)}
    me = {kind: make_user(app, dept_id=org["研发中心"], role_ids=[roles[kind]]) for kind in range(1, 6)}
    everyone = set(members.values()) | {nobody} | set(me.values()) | {1}

    scope, seen = scope_for(app, me[1])
    assert scope.all and seen["reached"] is None and seen["visible"] >= everyone
    scope, seen = scope_for(app, me[2])
    assert seen["reached"] == {org["销售部"], org["后端组"]}
    assert seen["visible"] == {members["销售部"], members["后端组"]}
    assert scope.covers_dept(org["销售部"]) and not scope.covers_dept(org["总部"]) and not scope.covers_dept(None)
    scope, seen = scope_for(app, me[3])
    assert seen["visible"] == {members["研发中心"]} | set(me.values())  # every me sits in 研发中心
    scope, seen = scope_for(app, me[4])
    assert seen["reached"] == {org["研发中心"], org["后端组"], org["前端组"]}
    assert seen["visible"] == {members["研发中心"], members["后端组"], members["前端组"]} | set(me.values())
    assert scope.single_subtree() == org["研发中心"]
    scope, seen = scope_for(app, me[5])
    assert seen["visible"] == {me[5]} and scope.covers_user(me[5], None) and not scope.covers_dept(org["研发中心"])

    both = make_user(app, dept_id=org["研发中心"], role_ids=[roles[3], roles[2]])
    _, seen = scope_for(app, both)
    assert seen["visible"] == {members["研发中心"], members["销售部"], members["后端组"]} | set(me.values()) | {both}

    super_scope, _ = scope_for(app, 1)
    assert super_scope.all
    with app.app_context():
        assert datascope.current_scope().all  # no request: the trusted command line


def test_a_role_change_counts_at_once(app: Any, api: ApiClient) -> None:
    org = make_dept_tree(app, ORG)
    role = make_scoped_role(api, "ROLE_HEAD", 3)
    head = make_user(app, dept_id=org["研发中心"], role_ids=[role])
    sales = make_user(app, dept_id=org["销售部"])
    assert sales not in scope_for(app, head)[1]["visible"]
    api.data("PUT", "/api/admin/role/modify", {"id": role, "dataScope": 2, "deptIds": [org["销售部"]]})
    assert sales in scope_for(app, head)[1]["visible"]


def test_role_data_scope_on_the_api(app: Any, api: ApiClient) -> None:
    org = make_dept_tree(app, ORG)
    role = make_scoped_role(api, "ROLE_CUSTOM", 2, [org["销售部"]])
    item = next(r for r in api.post("/api/admin/role/page", json={"roleCode": "ROLE_CUSTOM"}).get_json()["data"])
    assert item["id"] == role and item["dataScope"] == 2 and item["deptIds"] == [org["销售部"]]
    plain = make_scoped_role(api, "ROLE_PLAIN", 1)
    default = api.data("POST", "/api/admin/role/create", {"name": "默认", "roleCode": "ROLE_DEFAULT"})
    rows = {r["id"]: r for r in api.post("/api/admin/role/page", json={"pageSize": 50}).get_json()["data"]}
    assert rows[plain]["dataScope"] == 1 and rows[default]["dataScope"] == 1 and rows[default]["deptIds"] == []
    from tests.conftest import api_error

    api_error(api.post("/api/admin/role/create", json={"name": "x", "roleCode": "ROLE_X", "dataScope": 2}), 422)
    api_error(api.post("/api/admin/role/create", json={"name": "x", "roleCode": "ROLE_X", "dataScope": 6}), 422)
    api_error(api.post("/api/admin/role/create", json={"name": "x", "roleCode": "ROLE_X", "dataScope": 2,
                                                       "deptIds": [99999]}), 422)


def test_nobody_sets_a_scope_wider_than_their_own(app: Any, api: ApiClient) -> None:
    from tests.conftest import api_error
    from tests.factories import grant_role, route_code

    org = make_dept_tree(app, ORG)
    role = make_scoped_role(api, "ROLE_HEAD", 4)
    grant_role(app, role, resource_codes=(route_code("roles_api.create", "POST"),
                                          route_code("roles_api.modify", "PUT")))
    phone = next_phone()
    make_user(app, phone=phone, dept_id=org["研发中心"], role_ids=[role])
    head = ApiClient(api.client)
    head.token = head.sign_in(phone, "Passw0rd1")
    for body in ({"dataScope": 1}, {}, {"dataScope": 2, "deptIds": [org["销售部"]]}):
        api_error(head.post("/api/admin/role/create", json={"name": "宽", "roleCode": "ROLE_WIDE", **body}), 403)
    for scope in (4, 3, 5):
        head.data("POST", "/api/admin/role/create", {"name": f"窄{scope}", "roleCode": f"ROLE_N{scope}",
                                                      "dataScope": scope})
    head.data("POST", "/api/admin/role/create", {"name": "后端", "roleCode": "ROLE_BACK", "dataScope": 2,
                                                  "deptIds": [org["后端组"]]})
    api_error(head.put("/api/admin/role/modify", json={"id": role, "dataScope": 1}), 403)


def test_a_scoped_user_admin_cannot_move_themselves_out_of_their_scope(app: Any, api: ApiClient) -> None:
    """An outside review's way out: a head of 研发中心 ("own department and below") adds an "only self" role to
    themselves (narrower, so allowed), which reaches oneself in any department, moves themselves to 总部 and
    then reaches everyone below it. Moving oneself is held to the scope like moving anyone, on page and API."""
    from tests.conftest import PageClient, api_error

    org = make_dept_tree(app, ORG)
    role = make_scoped_role(api, "ROLE_HEAD", 4)
    grant_everything(app, role)
    phone = next_phone()
    head = make_user(app, phone=phone, dept_id=org["研发中心"], role_ids=[role])
    seller = make_user(app, name="销售甲", dept_id=org["销售部"])
    client = ApiClient(app.test_client())
    client.token = client.sign_in(phone, "Passw0rd1")
    only_self = client.data("POST", "/api/admin/role/create", {"name": "仅本人", "roleCode": "ROLE_SELF",
                                                               "dataScope": 5})
    client.data("PUT", "/api/admin/system/user/modify", {"id": head, "roleIds": [role, only_self]})
    api_error(client.put("/api/admin/system/user/modify", json={"id": head, "deptId": org["总部"]}), 403)
    pages = PageClient(app.test_client())
    assert pages.sign_in(phone, "Passw0rd1").status_code == 302
    resp = pages.submit(f"/system/user/{head}/edit", data={"phone": phone, "name": "研发负责人",
                                                          "dept_id": str(org["总部"]), "state": "0",
                                                          "role_ids": [str(role), str(only_self)]})
    assert resp.status_code in (403, 422)
    _, seen = scope_for(app, head)
    assert seller not in seen["visible"]
    api_error(client.put("/api/admin/system/user/modify", json={"id": seller, "password": "Takeover123"}), 404)
    # within the scope, moving oneself is fine
    client.data("PUT", "/api/admin/system/user/modify", {"id": head, "deptId": org["后端组"]})


def test_a_scoped_admin_cannot_pull_another_department_into_their_scope(app: Any, api: ApiClient) -> None:
    """A second review's way round: a head of 研发中心 ("own department and below") moved 销售部 under 研发中心,
    and its users with it into reach, then reset one's password. Departments beyond the scope are not theirs
    to move, rename, create under, delete or pick a manager from (403, or 422 for a manager as if absent)."""
    from tests.conftest import api_error

    org = make_dept_tree(app, ORG)
    role = make_scoped_role(api, "ROLE_HEAD", 4)
    grant_everything(app, role)
    phone = next_phone()
    make_user(app, phone=phone, dept_id=org["研发中心"], role_ids=[role])
    seller = make_user(app, name="销售乙", dept_id=org["销售部"])
    head, pages = signed_in_as(app, phone)
    api_error(head.put("/api/admin/dept/modify", json={"id": org["销售部"], "parentId": org["研发中心"],
                                                        "name": "销售部"}), 403)
    resp = pages.submit(f"/system/dept/{org['销售部']}/edit", data={"name": "销售部", "parent_id": str(org["研发中心"]),
                                                                   "sequence": "0"})
    assert resp.status_code == 403
    api_error(head.put("/api/admin/system/user/modify", json={"id": seller, "password": "Takeover123"}), 404)
    api_error(head.put("/api/admin/dept/modify", json={"id": org["总部"], "name": "改名"}), 403)
    api_error(head.post("/api/admin/dept/create", json={"parentId": org["销售部"], "name": "新组"}), 403)
    api_error(head.post("/api/admin/dept/create", json={"parentId": 0, "name": "新公司"}), 403)
    api_error(head.delete(f"/api/admin/dept/{org['销售部']}/delete"), 403)
    api_error(head.put("/api/admin/dept/modify", json={"id": org["后端组"], "parentId": org["销售部"]}), 403)
    body = api_error(head.put("/api/admin/dept/modify", json={"id": org["后端组"], "managerId": seller}), 422)
    assert "managerId" in body["errors"]
    # within the scope: theirs
    head.data("POST", "/api/admin/dept/create", {"parentId": org["研发中心"], "name": "测试组"})
    head.data("PUT", "/api/admin/dept/modify", {"id": org["前端组"], "parentId": org["后端组"]})


def _head_of_rd_seeing_sales_alone(app: Any, api: ApiClient) -> tuple[dict[str, int], str, int, int]:
    """总部 > 研发中心 > 后端组 and 总部 > 销售部 > 华东组; the head of 研发中心 ("own department and below", every
    grant) who also sees 销售部's own members (a custom scope listing 销售部 alone); 华东甲 in 华东组, beyond the
    scope. (the departments, the head's phone, the head, 华东甲)"""
    org = make_dept_tree(app, {"总部": {"研发中心": {"后端组": {}}, "销售部": {"华东组": {}}}})
    head_role = make_scoped_role(api, "ROLE_HEAD", 4)
    grant_everything(app, head_role)
    sales_alone = make_scoped_role(api, "ROLE_SALES_ALONE", 2, [org["销售部"]])
    phone = next_phone()
    head = make_user(app, phone=phone, dept_id=org["研发中心"], role_ids=[head_role, sales_alone])
    east = make_user(app, name="华东甲", dept_id=org["华东组"])
    return org, phone, head, east


def test_a_head_with_a_department_listed_alone_cannot_carry_their_subtree_scope_there(app: Any,
                                                                                     api: ApiClient) -> None:
    """Session 26's review: the head of 研发中心 ("own department and below") also sees 销售部's own members (a custom
    scope listing 销售部 alone, not 华东组 below it). Moving themselves to 销售部 was allowed (销售部 is within the
    scope) and carried "and below" along: 华东组's users came into reach, one's password could be reset. Moving
    oneself to a department is refused when an "and below" scope would then reach beyond the current scope (the
    page's form cannot keep that role ticked for them: it offers only roles they may hand out); one whose whole
    subtree is reached stays allowed."""
    from tests.conftest import api_error

    org, phone, head, east = _head_of_rd_seeing_sales_alone(app, api)
    client = ApiClient(app.test_client())
    client.token = client.sign_in(phone, "Passw0rd1")

    body = api_error(client.put("/api/admin/system/user/modify", json={"id": head, "deptId": org["销售部"]}), 403)
    assert "华东组" in body["msg"] and body["errors"] == {"deptId": [body["msg"]]}
    _, seen = scope_for(app, head)
    assert east not in seen["visible"]
    with app.app_context():
        from pcloud.users.models import User

        assert db.session.get(User, head).dept_id == org["研发中心"]
        db.session.remove()
    api_error(client.put("/api/admin/system/user/modify", json={"id": east, "password": "Takeover123"}), 404)
    # a department whose whole subtree the scope reaches: theirs to move to
    client.data("PUT", "/api/admin/system/user/modify", {"id": head, "deptId": org["后端组"]})


def test_a_scoped_admin_cannot_move_a_department_whose_subtree_is_beyond_their_scope(app: Any,
                                                                                    api: ApiClient) -> None:
    """Session 26's review: the head of 研发中心 ("own department and below", with the department grants) also sees
    销售部's own members (销售部 listed alone). Moving 销售部 under 研发中心 was allowed (both within the scope) and
    took 华东组, beyond the scope, along with it: its users came into reach. A department moves with everything
    below it, so every department of that subtree must be within the scope (403 naming the one beyond), on the API
    and the page; a subtree wholly within it moves as before."""
    from tests.conftest import api_error

    org, phone, head, east = _head_of_rd_seeing_sales_alone(app, api)
    client, pages = signed_in_as(app, phone)

    body = api_error(client.put("/api/admin/dept/modify", json={"id": org["销售部"], "parentId": org["研发中心"],
                                                                "name": "销售部"}), 403)
    assert "华东组" in body["msg"]
    resp = pages.submit(f"/system/dept/{org['销售部']}/edit", data={"name": "销售部", "parent_id": str(org["研发中心"]),
                                                                   "sequence": "0"})
    assert resp.status_code == 403 and "华东组" in resp.get_data(as_text=True)
    with app.app_context():
        from pcloud.depts.models import Dept

        assert db.session.get(Dept, org["销售部"]).parent_id == org["总部"]
        db.session.remove()
    _, seen = scope_for(app, head)
    assert east not in seen["visible"]
    # renaming it, which moves nothing, stays allowed; and so does moving a subtree wholly within the scope
    client.data("PUT", "/api/admin/dept/modify", {"id": org["销售部"], "name": "销售一部"})
    client.data("PUT", "/api/admin/dept/modify", {"id": org["后端组"], "parentId": org["销售部"], "name": "后端组"})


def test_a_role_held_beyond_the_scope_is_not_the_scoped_admins_to_change(app: Any, api: ApiClient) -> None:
    """A second review: a role of kind "own department" held in 销售部 was granted the head of 研发中心's admin
    grants, and its holder then reset passwords in 销售部. A role with a holder beyond one's scope is not one's
    to modify or grant (403; a held role cannot be deleted anyway); one held only within it is. A holder without a
    department counts as beyond (session 18)."""
    from tests.conftest import api_error

    org = make_dept_tree(app, ORG)
    head_role = make_scoped_role(api, "ROLE_HEAD", 4)
    grant_everything(app, head_role)
    phone = next_phone()
    make_user(app, phone=phone, dept_id=org["研发中心"], role_ids=[head_role])
    staff = make_scoped_role(api, "ROLE_STAFF", 3)
    make_user(app, name="销售丙", dept_id=org["销售部"], role_ids=[staff])
    inside = make_scoped_role(api, "ROLE_INSIDE", 3)
    make_user(app, name="后端丁", dept_id=org["后端组"], role_ids=[inside])
    head, _pages = signed_in_as(app, phone)
    grants = head.data("GET", f"/api/admin/role/{head_role}/menu")
    body = {"routers": grants["hasRouters"], "resources": grants["hasResources"]}
    api_error(head.post("/api/admin/permission/grant", json={"roleId": staff, **body}), 403)
    api_error(head.put("/api/admin/role/modify", json={"id": staff, "name": "改名"}), 403)
    head.data("POST", "/api/admin/permission/grant", {"roleId": inside, **body})
    # a holder without a department is beyond every scope but all data (the scope's SQL condition is NULL for
    # them: negated, it let such a role through)
    loose = make_scoped_role(api, "ROLE_LOOSE", 3)
    make_user(app, name="无部门戊", role_ids=[loose])
    refused = api_error(head.put("/api/admin/role/modify", json={"id": loose, "name": "改名"}), 403)
    assert "有您数据权限范围之外的用户" in refused["msg"], refused


def test_a_user_holding_a_wider_scope_is_not_the_scoped_admins_to_take_over(app: Any, api: ApiClient) -> None:
    """An outside review (session 24): a super administrator gave 后端组's log reader a role of all data granting
    only the operation log; the head of 研发中心 ("own department and below", every grant) reset that reader's
    password, signed in as them and read the operation log of every department. A user whose roles reach a wider
    data scope reaches further than the head, as one whose grants do: not theirs to modify, delete, sign out, strip
    of a role or unlock (403), on the page and the API; the user form offers no role of a wider scope."""
    from tests.conftest import api_error

    world = scoped_world(app, api, 4)  # the head of 研发中心, every grant, own department and below
    head_api, head_pages, members = world["api"], world["pages"], world["members"]
    org = world["org"]
    wide = make_scoped_role(api, "ROLE_LOGREADER", 1)  # all data, and no grant the head lacks
    reader_phone = next_phone()
    reader = make_user(app, phone=reader_phone, name="日志员", dept_id=org["后端组"], role_ids=[wide])
    refused = api_error(head_api.put("/api/admin/system/user/modify", json={"id": reader, "password": "Takeover123"}),
                        403)
    assert "超出了您的权限范围" in refused["msg"], refused
    assert ApiClient(app.test_client()).sign_in(reader_phone, "Passw0rd1")  # the password is the reader's still
    api_error(head_api.put("/api/admin/system/user/modify", json={"id": reader, "state": 1}), 403)
    api_error(head_api.get(f"/api/admin/system/user/{reader}/offline"), 403)
    api_error(head_api.post(f"/api/admin/system/user/{reader}/unlock"), 403)
    api_error(head_api.post(f"/api/admin/role/{world['role']}/assign", json={"userIds": [members["后端组"], reader]}),
              403)
    assert holders_of(app, world["role"]) == {world["head"]}  # nothing changed, the user within reach neither
    resp = head_pages.submit(f"/system/user/{reader}/edit", data={"phone": reader_phone, "name": "日志员",
                                                                   "password": "Takeover123",
                                                                   "dept_id": str(org["后端组"]), "state": "0"})
    assert resp.status_code == 403, resp.status_code
    assert ApiClient(app.test_client()).sign_in(reader_phone, "Passw0rd1")
    api_error(head_api.delete(f"/api/admin/system/user/{reader}/delete"), 403)
    form = head_pages.get("/system/user/new").get_data(as_text=True)
    assert "ROLE_LOGREADER" not in form and "ROLE_SCOPE4" in form  # a choice says its role's code


def test_own_department_and_below_is_not_handed_out_where_the_scope_lacks_the_subtree(app: Any,
                                                                                      api: ApiClient) -> None:
    """An outside review (session 24): the head of 研发中心 held "own department and below" and a custom scope of
    销售部 alone (not its 华东); they gave 销售甲 a role of "own department and below" (allowed: no wider a kind than
    their own), which reaches 华东 from 销售部, and reset 华东's staff's passwords as 销售甲. "Own department and
    below" is relative to its holder, so it is within the principal's scope only when every department the scope
    reaches comes with all below it: else 403, on create, modify and handing out, and a user holding it is not theirs
    to take over; a scope of "own department and below" alone still hands it out."""
    from tests.conftest import api_error

    org = make_dept_tree(app, {"总部": {"研发中心": {"后端组": {}}, "销售部": {"华东": {}}}})
    custom = make_scoped_role(api, "ROLE_SALES_ONLY", 2, [org["销售部"]])
    below = make_scoped_role(api, "ROLE_BELOW", 4)
    for role in (custom, below):
        grant_everything(app, role)
    phone = next_phone()
    make_user(app, phone=phone, dept_id=org["研发中心"], role_ids=[custom, below])
    seller = make_user(app, name="销售甲", dept_id=org["销售部"])
    held = make_user(app, name="销售乙", dept_id=org["销售部"], role_ids=[below])  # given by the super administrator
    head, _pages = signed_in_as(app, phone)
    api_error(head.put("/api/admin/system/user/modify", json={"id": seller, "roleIds": [below]}), 403)
    api_error(head.post(f"/api/admin/role/{below}/assign", json={"userIds": [seller]}), 403)
    api_error(head.put("/api/admin/system/user/modify", json={"id": held, "password": "Takeover123"}), 403)
    api_error(head.post("/api/admin/role/create", json={"name": "下级", "roleCode": "ROLE_SUB", "dataScope": 4}), 403)
    assert seller not in holders_of(app, below)
    # "own department" stays theirs to hand out: it reaches the holder's department, which the scope holds
    own = head.data("POST", "/api/admin/role/create", {"name": "本部门", "roleCode": "ROLE_OWN", "dataScope": 3})
    head.data("PUT", "/api/admin/system/user/modify", {"id": seller, "roleIds": [own]})


# ---------------------------------------------------------------------------------------------
# What a principal of each scope sees and cannot touch: page, API, export, pickers, writes

OUTSIDER_NAME = "外人甲乙"


def grant_everything(app: Any, role_id: int) -> None:
    """Every menu and resource (the super administrator grants): only the data scope limits the principal."""
    from pcloud.menus import service as menus
    from pcloud.resources import service as resources
    from pcloud.roles import service as roles

    with app.app_context():
        roles.grant(role_id, menus.all_live_ids(), resources.all_live_ids())
        db.session.remove()


def signed_in_as(app: Any, phone: str) -> tuple[ApiClient, Any]:
    """An API client and a page client, both signed in as `phone`."""
    from tests.conftest import PageClient

    client = ApiClient(app.test_client())
    client.token = client.sign_in(phone, "Passw0rd1")
    pages = PageClient(app.test_client())
    assert pages.sign_in(phone, "Passw0rd1").status_code == 302
    return client, pages


def xlsx_text(data: bytes) -> str:
    import io

    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
    return "\n".join("|".join("" if v is None else str(v) for v in row) for row in sheet.iter_rows(values_only=True))


def scoped_world(app: Any, api: ApiClient, scope: int) -> dict[str, Any]:
    """研发中心's head holding one role of `scope` (custom: 后端组 and 销售部) with every grant, and one user in
    each department, one without any (`nobody`)."""
    org = make_dept_tree(app, ORG)
    members = {name: make_user(app, name=f"成员{name}", dept_id=dept_id) for name, dept_id in org.items()}
    members["无部门"] = make_user(app, name="成员无部门")
    role = make_scoped_role(api, f"ROLE_SCOPE{scope}", scope,
                            [org["后端组"], org["销售部"]] if scope == 2 else None)
    grant_everything(app, role)
    phone = next_phone()
    head = make_user(app, phone=phone, name="研发负责人", dept_id=org["研发中心"], role_ids=[role])
    client, pages = signed_in_as(app, phone)
    return {"org": org, "members": members, "role": role, "head": head, "phone": phone, "api": client,
            "pages": pages}


# Which members each scope reaches (the head sits in 研发中心; custom = 后端组 + 销售部).
REACHES = {1: {"总部", "研发中心", "后端组", "前端组", "销售部", "无部门"}, 2: {"后端组", "销售部"}, 3: {"研发中心"},
           4: {"研发中心", "后端组", "前端组"}, 5: set()}


@pytest.mark.parametrize("scope", [1, 2, 3, 4, 5])
def test_what_each_scope_sees_and_cannot_touch(app: Any, api: ApiClient, scope: int) -> None:
    world = scoped_world(app, api, scope)
    members, org, head_api, head_pages = world["members"], world["org"], world["api"], world["pages"]
    reached = {members[name] for name in REACHES[scope]}
    outside = set(members.values()) - reached
    sees_self = scope in (1, 3, 4, 5)

    # the API page, and its department filter within the scope
    body = head_api.post("/api/admin/system/user/page", json={"pageSize": 200}).get_json()
    listed = {u["id"] for u in body["data"]} - {1}  # the super administrator (no department) under "all"
    assert listed == reached | ({world["head"]} if sees_self else set())
    assert body["total"] == len(listed) + (1 if scope == 1 else 0)
    below = head_api.post("/api/admin/system/user/page", json={"pageSize": 200, "deptId": org["研发中心"]}).get_json()
    assert {u["id"] for u in below["data"]} == (reached | {world["head"]} if sees_self else reached) \
        & {members["研发中心"], members["后端组"], members["前端组"], world["head"]}

    # the page shows the same people
    html = head_pages.get("/system/user/?size=100").get_data(as_text=True)
    for name, user_id in members.items():
        assert (f"成员{name}" in html) == (user_id in reached), name

    # export: "export all" and listed ids alike
    everyone = head_api.post("/api/admin/system/user/download", json={})
    assert everyone.status_code == 200
    text = xlsx_text(everyone.get_data())
    for name, user_id in members.items():
        assert (f"成员{name}" in text) == (user_id in reached), name
    picked = xlsx_text(head_api.post("/api/admin/system/user/download",
                                     json={"ids": sorted(members.values())}).get_data())
    assert {name for name in members if f"成员{name}" in picked} == REACHES[scope]

    # the manager picker of the department form
    found = head_pages.get("/system/dept/managers?q=成员").get_json()["items"]
    assert {u["id"] for u in found} == reached

    # the org chart's member counts
    assert head_pages.get("/system/dept/org").status_code == 200
    from pcloud.depts import service as depts_service

    with app.test_request_context():
        from flask_login import login_user

        login_user(principal_of(app, world["head"]))
        counts = depts_service.scoped_member_counts()
        db.session.remove()
    expected_counts: dict[int, int] = {}
    for name in REACHES[scope] - {"无部门"}:
        expected_counts[org[name]] = expected_counts.get(org[name], 0) + 1
    if sees_self:
        expected_counts[org["研发中心"]] = expected_counts.get(org["研发中心"], 0) + 1
    counts.pop(0, None)  # (no department: not on the chart)
    assert counts == expected_counts

    # nobody outside is touched: 404 as if absent, through the API and the pages
    from tests.conftest import api_error

    for user_id in outside:
        api_error(head_api.put("/api/admin/system/user/modify", json={"id": user_id, "name": "改名"}), 404)
        api_error(head_api.delete(f"/api/admin/system/user/{user_id}/delete"), 404)
        api_error(head_api.get(f"/api/admin/system/user/{user_id}/offline"), 404)
        assert head_pages.get(f"/system/user/{user_id}/edit").status_code == 404
    for user_id in reached - {members["无部门"]}:
        # a write that would move a reached user out of the scope: 403 (under "all" nothing is outside)
        resp = head_api.put("/api/admin/system/user/modify", json={"id": user_id, "deptId": org["总部"]})
        if scope == 1:
            assert resp.status_code == 200
        else:
            api_error(resp, 403)
    if reached:
        victim = sorted(reached)[0]
        head_api.data("PUT", "/api/admin/system/user/modify", {"id": victim, "name": "改过的名"})
    # creating a user outside the scope: 403; inside: fine
    new = {"phone": next_phone(), "name": "新人", "password": "Passw0rd1", "deptId": org["销售部"]}
    resp = head_api.post("/api/admin/system/user/create", json=new)
    assert resp.status_code == (200 if scope in (1, 2) else 403), resp.get_json()


# ---------------------------------------------------------------------------------------------
# The route audit: no route shows a user beyond the principal's data scope (a new route cannot forget)

# Routes that are not reads of other users' data, with why (everything else is called and checked).
AUDIT_SKIPPED = {
    "/api/oauth/": "sign-in and sign-out",
    "/login": "sign-in",
    "/logout": "sign-out",
    "/api/open/": "the open platform's own account calls",
}
# Readers of JSON bodies that only read (POST by the API's convention) - every other POST, PUT, DELETE writes
# and is checked on the user's id only (a 404, never the user's data).
READ_POSTS = ("/page", "/list", "/tree", "/pageList", "/findAll", "/download", "/users", "/statistics",
              "/adminInfo", "/chartInfo", "/detail", "/objects")


def answer_text(resp: Any) -> str:
    """What an answer shows, as text: JSON with its characters unescaped, a workbook's cells, a page."""
    import json

    if resp.mimetype.endswith("spreadsheetml.sheet"):
        return xlsx_text(resp.get_data())
    if resp.is_json:
        return json.dumps(resp.get_json(), ensure_ascii=False)
    return resp.get_data(as_text=True)


def _audit_calls(app: Any, values: list[int]) -> list[tuple[str, str, str]]:
    """(method, rule, path) of every route to call: GETs and read POSTs, each path argument filled with each
    of `values` (the outsider's id, their department's, their role's, their log rows')."""
    from pcloud.core.routing import ROUTE_ARG

    calls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "bootstrap.static") or rule.endpoint.startswith(("api-docs.", "docs.")):
            continue
        if rule.rule.startswith(tuple(AUDIT_SKIPPED)):
            continue
        methods = (rule.methods or set()) - {"HEAD", "OPTIONS"}
        for method in sorted(methods):
            if method == "GET" or (method == "POST" and rule.rule.endswith(READ_POSTS)) \
                    or (method == "POST" and rule.rule.endswith("/export") and not rule.rule.startswith("/api/")):
                fills = values if rule.arguments else [0]
                for value in fills:
                    calls.append((method, rule.rule, ROUTE_ARG.sub(str(value), rule.rule)))
    return calls


def test_route_audit_no_route_shows_a_user_beyond_the_scope(app: Any, api: ApiClient) -> None:
    """A principal holding every grant but data scope 3 (研发中心) calls every GET and read route, with every id
    argument set to the outsider's, their department's, their role's and their log rows': neither the
    outsider's name nor phone appears in any answer (JSON, page or .xlsx), also where the outsider manages a
    department (its manager is said to be beyond the scope)."""
    from pcloud.actionlog.models import ActionLog
    from pcloud.core.timefmt import utcnow
    from pcloud.loginlog.models import LoginLog
    from tests.conftest import csrf_from

    org = make_dept_tree(app, ORG)
    outsider_role = make_scoped_role(api, "ROLE_OUTSIDE", 1)
    outsider_phone = next_phone()
    outsider = make_user(app, phone=outsider_phone, name=OUTSIDER_NAME, dept_id=org["销售部"],
                         role_ids=[outsider_role])
    ApiClient(app.test_client()).sign_in(outsider_phone, "Passw0rd1")  # online, and in the login log
    with app.app_context():
        from pcloud.depts.models import Dept

        # the manager of their department (session 26: the department list and the org chart named them)
        db.session.get(Dept, org["销售部"]).manager_id = outsider
        action = ActionLog(user_id=outsider, name=OUTSIDER_NAME, phone=outsider_phone, title="用户修改",
                           method="PUT", path="/api/admin/system/user/modify", status="success", cost_ms=1,
                           gmt_created_date=utcnow())
        db.session.add(action)
        db.session.commit()
        action_id = action.id
        login_id = db.session.execute(db.select(LoginLog.id).where(LoginLog.user_id == outsider)).scalars().first()
        db.session.remove()
    # mail to the outsider, and from the outsider to someone the principal reaches (站内信)
    from pcloud.mail import service as mail_service

    colleague_phone = next_phone()
    make_user(app, phone=colleague_phone, dept_id=org["研发中心"])
    with app.app_context():
        mail_ids = [mail_service.send_mail({"phone": outsider_phone, "name": "给外人", "description": "内容"}, 1).id,
                    mail_service.send_mail({"phone": colleague_phone, "name": "外人来信", "description": "内容"},
                                           outsider).id]
        db.session.remove()
    role = make_scoped_role(api, "ROLE_RD_HEAD", 3)
    grant_everything(app, role)
    phone = next_phone()
    make_user(app, phone=phone, name="研发负责人", dept_id=org["研发中心"], role_ids=[role])
    head_api, head_pages = signed_in_as(app, phone)
    token = csrf_from(head_pages.get("/profile").get_data(as_text=True))

    # the outsider is there: the super administrator sees them on the user page, the logs, online
    assert OUTSIDER_NAME in answer_text(api.post("/api/admin/system/user/page", json={}))
    leaks, called = [], 0
    for method, rule, path in _audit_calls(app, [outsider, org["销售部"], outsider_role, action_id, login_id,
                                                        *mail_ids]):
        if path.startswith("/api/"):
            resp = head_api.call(method, path, json={} if method == "POST" else None)
        elif method == "POST":
            resp = head_pages.client.post(path, data={"csrf_token": token})
        else:
            resp = head_pages.get(path)
        called += 1
        text = answer_text(resp)
        if OUTSIDER_NAME in text or outsider_phone in text:
            leaks.append(f"{method} {rule} ({path}) -> {resp.status_code}")
    assert called > 100
    assert not leaks, leaks


# ---------------------------------------------------------------------------------------------
# 分配用户: a role's users within the scope, added and removed under the reach rule


def holders_of(app: Any, role_id: int) -> set[int]:
    from sqlalchemy import select

    from pcloud.users.models import user_role

    with app.app_context():
        found = set(db.session.execute(select(user_role.c.user_id).where(user_role.c.role_id == role_id)).scalars())
        db.session.remove()
    return found


def test_role_users_list_add_and_remove_within_the_scope(app: Any, api: ApiClient) -> None:
    from tests.conftest import api_error

    world = scoped_world(app, api, 4)  # 研发中心 and below
    members, head_api = world["members"], world["api"]
    clerk = make_scoped_role(api, "ROLE_CLERK", 5)
    inside, outside = members["后端组"], members["销售部"]

    def listed(assigned: bool, **extra: Any) -> set[int]:
        body = head_api.post(f"/api/admin/role/{clerk}/users", json={"assigned": assigned, **extra}).get_json()
        return {u["id"] for u in body["data"]}

    assert listed(True) == set()
    assert listed(False) == {members["研发中心"], members["后端组"], members["前端组"], world["head"]}
    assert head_api.data("POST", f"/api/admin/role/{clerk}/assign", {"userIds": [inside]}) == {"changed": 1}
    assert holders_of(app, clerk) == {inside} and listed(True) == {inside}
    assert listed(True, keyword="后端") == {inside} and listed(True, keyword="前端") == set()
    # a user beyond the scope: 404 as if absent, nothing changed
    api_error(head_api.post(f"/api/admin/role/{clerk}/assign", json={"userIds": [inside, outside]}), 404)
    api.data("POST", f"/api/admin/role/{clerk}/assign", {"userIds": [outside]})  # the super administrator may
    assert listed(True) == {inside}  # the outsider holds it too, but is not listed
    assert head_api.data("POST", f"/api/admin/role/{clerk}/assign", {"userIds": [inside], "assigned": False}) \
        == {"changed": 1}
    assert holders_of(app, clerk) == {outside}
    # the reach rule: a role granting more than the principal holds, or a wider scope, is not handed out
    wide = make_scoped_role(api, "ROLE_WIDE", 1)
    api_error(head_api.post(f"/api/admin/role/{wide}/assign", json={"userIds": [inside]}), 403)
    from tests.factories import role_id_of_code

    api_error(head_api.post(f"/api/admin/role/{role_id_of_code(app, 'ROLE_SUPER_ADMIN')}/assign",
                            json={"userIds": [inside]}), 409)
    api_error(head_api.post("/api/admin/role/99999/users", json={}), 404)
    assert holders_of(app, wide) == set()


def test_role_users_beyond_the_principals_grants_are_refused(app: Any, api: ApiClient) -> None:
    """A principal granted only the role-user routes may not hand out a role that grants more than they hold."""
    from tests.conftest import api_error
    from tests.factories import grant_role, route_code

    org = make_dept_tree(app, ORG)
    mine = make_scoped_role(api, "ROLE_MINE", 1)
    grant_role(app, mine, resource_codes=(route_code("roles_api.role_users", "POST"),
                                          route_code("roles_api.assign", "POST")))
    richer = make_scoped_role(api, "ROLE_RICHER", 1)
    grant_role(app, richer, resource_codes=(route_code("users_api.delete", "DELETE"),))
    phone = next_phone()
    make_user(app, phone=phone, dept_id=org["研发中心"], role_ids=[mine])
    target = make_user(app, dept_id=org["研发中心"])
    principal = ApiClient(app.test_client())
    principal.token = principal.sign_in(phone, "Passw0rd1")
    api_error(principal.post(f"/api/admin/role/{richer}/assign", json={"userIds": [target]}), 403)
    assert holders_of(app, richer) == set()
    # nor change a user whose roles reach further than the principal's
    api.data("POST", f"/api/admin/role/{richer}/assign", {"userIds": [target]})
    plain = make_scoped_role(api, "ROLE_PLAIN", 1)
    api_error(principal.post(f"/api/admin/role/{plain}/assign", json={"userIds": [target]}), 403)


def test_role_users_page(app: Any, api: ApiClient, pages: Any) -> None:
    from tests.conftest import csrf_from, logged_actions

    org = make_dept_tree(app, ORG)
    role = make_scoped_role(api, "ROLE_PAGE", 3)
    user = make_user(app, name="页面用户", dept_id=org["销售部"])
    html = pages.get(f"/system/role/{role}/users").get_data(as_text=True)
    assert "没有持有该角色的用户" in html and "页面用户" not in html
    html = pages.get(f"/system/role/{role}/users?assigned=false&keyword=页面").get_data(as_text=True)
    assert "页面用户" in html and "添加角色" in html
    token = csrf_from(html)
    back = f"/system/role/{role}/users?assigned=false"
    resp = pages.client.post(f"/system/role/{role}/users/assign",
                             data={"csrf_token": token, "user_ids": [str(user)], "assigned": "1", "back": back})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(back)
    assert holders_of(app, role) == {user}
    assert "页面用户" in pages.get(f"/system/role/{role}/users").get_data(as_text=True)
    assert ("角色分配用户", "success") in [(t, s) for t, s in logged_actions(app, "角色分配用户")]
    resp = pages.client.post(f"/system/role/{role}/users/assign", data={"csrf_token": token, "assigned": "0"})
    assert resp.status_code == 422 and "请先勾选用户" in resp.get_data(as_text=True)
    assert holders_of(app, role) == {user}
    # the role form carries the data scope
    form = pages.get(f"/system/role/{role}/edit").get_data(as_text=True)
    assert "数据范围" in form and "本部门" in form
    resp = pages.submit(f"/system/role/{role}/edit", data={"name": "改名角色", "role_code": "ROLE_PAGE",
                                                          "data_scope": "2", "dept_ids": [str(org["销售部"])]})
    assert resp.status_code == 302
    item = next(r for r in api.post("/api/admin/role/page", json={"roleCode": "ROLE_PAGE"}).get_json()["data"])
    assert item["dataScope"] == 2 and item["deptIds"] == [org["销售部"]]


def test_the_user_form_offers_only_departments_within_the_scope(app: Any, api: ApiClient) -> None:
    world = scoped_world(app, api, 4)
    html = world["pages"].get("/system/user/new").get_data(as_text=True)
    picker = html[html.index('name="dept_id"'):]
    picker = picker[:picker.index("</select>")]
    assert "后端组" in picker and "前端组" in picker and "销售部" not in picker and "（无）" not in picker
    typed = {"phone": next_phone(), "name": "越界", "password": "Passw0rd1", "state": "0",
             "dept_id": str(world["org"]["销售部"])}
    resp = world["pages"].submit("/system/user/new", data=typed)
    assert resp.status_code == 403 and "数据权限" in resp.get_data(as_text=True)


def _dept_filter_options(html: str) -> dict[str, bool]:
    """The user list's department filter: {department name (the indentation left out): selected}."""
    import re

    bar = html[html.index('<select class="form-select" name="dept_id"'):]
    bar = bar[:bar.index("</select>")]
    return {label.strip("\u3000 "): bool(selected) for value, selected, label in
            re.findall(r'<option value="([^"]*)" ?(selected)?>([^<]*)</option>', bar) if value}


@pytest.mark.parametrize("scope", [1, 2, 3, 4, 5])
def test_the_user_lists_department_filter_offers_only_departments_within_the_scope(
        app: Any, api: ApiClient, scope: int) -> None:
    """The filter offered 总部 and 销售部 to the head of 研发中心 whose role reaches 研发中心 and below: choosing one
    listed nobody. It offers the departments whose members the scope reaches (`covers_dept`, the list's rule)."""
    world = scoped_world(app, api, scope)
    org, members, head_api, head_pages = world["org"], world["members"], world["api"], world["pages"]
    resp = head_pages.get("/system/user/")
    assert resp.status_code == 200
    offered = _dept_filter_options(resp.get_data(as_text=True))
    assert set(offered) == REACHES[scope] - {"无部门"}
    assert not any(offered.values())

    # a department typed beyond the scope (a bookmark, a shared link): as the API answers, the users below it
    # the scope reaches (here none); the filter bar shows it chosen, said to lie beyond the scope
    typed = head_pages.get(f"/system/user/?dept_id={org['销售部']}")
    html = typed.get_data(as_text=True)
    if scope in (1, 2):
        assert typed.status_code == 200 and "成员销售部" in html
        return
    assert typed.status_code == 200
    assert not any(f"成员{name}" in html for name in members)
    assert _dept_filter_options(html) == {**offered, "销售部（超出您的数据权限范围）": True}
    body = head_api.post("/api/admin/system/user/page", json={"deptId": org["销售部"]}).get_json()
    assert body["code"] == 200 and body["data"] == [] and body["total"] == 0


# The department trees, in the order the picker shows them: (name, [children]) per node
PICKER_TREES = {1: [("总部", [("研发中心", [("后端组", []), ("前端组", [])]), ("销售部", [])])],
                2: [("后端组", []), ("销售部", [])], 3: [("研发中心", [])],
                4: [("研发中心", [("后端组", []), ("前端组", [])])], 5: []}


def _shape(nodes: list[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    return [(n["name"], _shape(n["children"])) for n in nodes]


@pytest.mark.parametrize("scope", [1, 2, 3, 4, 5])
def test_the_department_picker_tree_offers_the_departments_within_the_scope(app: Any, api: ApiClient,
                                                                           scope: int) -> None:
    """`POST /api/admin/dept/tree`, the original front end's department pickers, answered the whole organisation to
    the head of 研发中心 whose role reaches 研发中心 and below. It offers what the console's pickers offer them (the
    user list's 部门 filter, the user form's 部门: `DataScope.covers_dept`), as a tree: a department whose parent lies
    beyond the scope is a root. The super administrator's answer is the whole organisation, as before."""
    world = scoped_world(app, api, scope)
    tree = world["api"].data("POST", "/api/admin/dept/tree", {})
    assert _shape(tree) == PICKER_TREES[scope]
    offered = _dept_filter_options(world["pages"].get("/system/user/").get_data(as_text=True))

    def names(nodes: list[dict[str, Any]]) -> set[str]:
        return {n["name"] for n in nodes} | {name for n in nodes for name in names(n["children"])}

    assert names(tree) == set(offered)
    whole = api.data("POST", "/api/admin/dept/tree", {})
    assert _shape(whole) == PICKER_TREES[1] and whole == api.data("GET", "/api/admin/dept/org", {})
    root = whole[0]
    assert (root["parentId"], root["label"], root["children"][0]["parentName"]) == (0, "总部", "总部")


def test_a_department_filter_above_a_custom_scope_lists_the_reached_users_below_it(app: Any, api: ApiClient) -> None:
    """Custom 后端组 + 销售部: 研发中心 itself is beyond the scope (not offered), and typed it lists 后端组's members,
    the users below it the scope reaches, on the page and through the API alike."""
    world = scoped_world(app, api, 2)
    org, members = world["org"], world["members"]
    html = world["pages"].get(f"/system/user/?dept_id={org['研发中心']}").get_data(as_text=True)
    assert {f"成员{name}" for name in members if f"成员{name}" in html} == {"成员后端组"}
    assert _dept_filter_options(html)["研发中心（超出您的数据权限范围）"] is True
    rows = world["api"].data("POST", "/api/admin/system/user/page", {"deptId": org["研发中心"]})
    assert [u["id"] for u in rows] == [members["后端组"]]


def test_the_home_page_counts_the_users_within_the_scope(app: Any, api: ApiClient) -> None:
    world = scoped_world(app, api, 4)
    from pcloud.users import service as users_service

    with app.test_request_context():
        from flask_login import login_user

        login_user(principal_of(app, world["head"]))
        assert users_service.live_count() == 4  # 研发中心, 后端组, 前端组 and the head
        db.session.remove()
    with app.app_context():
        assert users_service.live_count() == 8  # everyone, the super administrator included
        db.session.remove()


# ---------------------------------------------------------------------------------------------
# English


def test_a_scope_refusal_speaks_english(app: Any, api: ApiClient) -> None:
    from tests.conftest import api_error
    from tests.factories import grant_role, route_code

    org = make_dept_tree(app, ORG)
    role = make_scoped_role(api, "ROLE_HEAD", 4)
    grant_role(app, role, resource_codes=(route_code("roles_api.create", "POST"),
                                          route_code("users_api.create", "POST")))
    wide = make_scoped_role(api, "ROLE_ALL_DATA", 1)
    phone = next_phone()
    make_user(app, phone=phone, dept_id=org["研发中心"], role_ids=[role])
    head = ApiClient(api.client)
    head.token = head.sign_in(phone, "Passw0rd1")
    english = {"Accept-Language": "en"}
    resp = head.call("POST", "/api/admin/role/create", {"name": "Wide", "roleCode": "ROLE_WIDE", "dataScope": 1},
                     headers=english)
    assert api_error(resp, 403)["msg"] == "You cannot set a data scope wider than your own (All data)"
    resp = head.call("POST", "/api/admin/system/user/create", {
        "phone": next_phone(), "name": "Carol", "password": "Passw0rd1", "deptId": org["后端组"],
        "roleIds": [wide]}, headers=english)
    assert api_error(resp, 403)["msg"] == "You cannot assign a role whose data scope exceeds your own (All data)"

