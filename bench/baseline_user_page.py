"""Baseline for bench/user_page.py: a bare Flask endpoint that runs the same SQL as the user page
(count, one page of users ordered by creation, their roles) and returns the rows as JSON.
No authentication, no schemas, no envelope: the floor PCloud's page is compared with."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy import create_engine, text

from pcloud.config import normalise_database_url

engine = create_engine(normalise_database_url(os.environ["DATABASE_URL"]))
app = Flask(__name__)

COUNT = text("SELECT count(*) FROM sys_user WHERE deleted_at IS NULL AND name LIKE :kw")
PAGE = text(
    "SELECT u.id, u.phone, u.name, u.avatar, u.state, u.dept_id, u.post_id, u.grade_id, u.gmt_created_date "
    "FROM sys_user u WHERE u.deleted_at IS NULL AND u.name LIKE :kw "
    "ORDER BY u.gmt_created_date DESC, u.id DESC LIMIT :limit OFFSET :offset")
ROLES = text("SELECT ur.user_id, r.id, r.name, r.role_code FROM sys_user_role ur JOIN sys_role r "
             "ON r.id = ur.role_id WHERE ur.user_id IN ({ids})")


@app.post("/baseline/user/page")
def page() -> Any:
    body = request.get_json()
    kw = f"%{body.get('keyword', '')}%"
    size = int(body.get("pageSize", 10))
    offset = (int(body.get("page", 1)) - 1) * size
    with engine.connect() as conn:
        total = conn.execute(COUNT, {"kw": kw}).scalar()
        rows = [dict(r._mapping) for r in conn.execute(PAGE, {"kw": kw, "limit": size, "offset": offset})]
        if rows:
            ids = ",".join(str(int(r["id"])) for r in rows)
            roles: dict[int, list[dict[str, Any]]] = {}
            for user_id, rid, name, code in conn.execute(text(ROLES.text.format(ids=ids))):
                roles.setdefault(user_id, []).append({"id": rid, "name": name, "roleCode": code})
            for r in rows:
                r["roles"] = roles.get(r["id"], [])
                r["gmt_created_date"] = str(r["gmt_created_date"])
    return jsonify({"data": rows, "total": total})
