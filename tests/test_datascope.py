"""数据权限: the scope API (`pcloud.datascope.service`) and what a caller of each scope sees and cannot touch,
through the page, the API, the export and the pickers."""

from __future__ import annotations

from typing import Any

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
