"""Make rows for tests through the same services the app uses, so they are always valid."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from typing import Any

from pcloud.extensions import db

_seq = itertools.count(1)


def next_phone() -> str:
    return f"139{next(_seq) + 10_000_000:08d}"


def make_user(app: Any, *, phone: str | None = None, name: str | None = None, password: str = "Passw0rd1",
              role_codes: tuple[str, ...] = (), **extra: Any) -> int:
    from pcloud.roles.models import Role
    from pcloud.users import service

    with app.app_context():
        role_ids = [r.id for r in db.session.execute(Role.live().where(Role.role_code.in_(role_codes))).scalars()]
        user = service.create_user({"phone": phone or next_phone(), "name": name or f"用户{next(_seq)}",
                                    "password": password, "role_ids": role_ids + extra.pop("role_ids", []),
                                    **extra})
        user_id = user.id
        db.session.remove()
    return user_id


def make_role(app: Any, code: str, name: str | None = None) -> int:
    from pcloud.access import permissions
    from pcloud.roles.models import Role

    with app.app_context():
        role = Role(role_code=code, name=name or code)
        db.session.add(role)
        permissions.bump_version()
        db.session.commit()
        role_id = role.id
        db.session.remove()
    return role_id


def make_dept(app: Any, name: str, parent_id: int = 0) -> int:
    from pcloud.depts.models import Dept

    with app.app_context():
        dept = Dept(name=name, parent_id=parent_id)
        db.session.add(dept)
        db.session.commit()
        dept_id = dept.id
        db.session.remove()
    return dept_id


def query(app: Any, fn: Any) -> Any:
    """Run fn() inside an app context and return its result (rows read fresh from the database)."""
    with app.app_context():
        try:
            return fn()
        finally:
            db.session.remove()


def perm_version(app: Any) -> int:
    """The permission version: every change to grants, menus or resources bumps it."""
    from pcloud.access import permissions

    return query(app, permissions.current_version)


def menu_id(app: Any, path: str) -> int:
    """The live menu at `path` (a built-in one, or one a test made)."""
    from sqlalchemy import select

    from pcloud.menus.models import Menu

    return query(app, lambda: db.session.execute(select(Menu.id).where(
        Menu.path == path, Menu.deleted_at.is_(None))).scalar_one())


def make_post(app: Any, name: str, parent_id: int = 0, code: str | None = None, sequence: int = 0) -> int:
    from pcloud.posts import service

    with app.app_context():
        post_id = service.create_post({"name": name, "parent_id": parent_id, "code": code,
                                       "sequence": sequence}).id
        db.session.remove()
    return post_id


def make_grade(app: Any, name: str, level: int = 0) -> int:
    from pcloud.grades import service

    with app.app_context():
        grade_id = service.create_grade({"name": name, "level": level}).id
        db.session.remove()
    return grade_id


def make_dept_tree(app: Any, shape: dict[str, Any], parent_id: int = 0) -> dict[str, int]:
    """Departments from a nested dict {name: {child: {...}}}; returns name -> id (names must be unique)."""
    ids: dict[str, int] = {}
    for name, children in shape.items():
        ids[name] = make_dept(app, name, parent_id)
        ids.update(make_dept_tree(app, children or {}, ids[name]))
    return ids


def grant_role(app: Any, role_id: int, *, menu_paths: tuple[str, ...] = (), resource_codes: tuple[str, ...] = (),
               menu_ids: tuple[int, ...] = (), resource_ids: tuple[int, ...] = ()) -> None:
    """Replace a role's grants through the roles service: menus by path or id, resources by code or id."""
    from sqlalchemy import select

    from pcloud.menus.models import Menu
    from pcloud.resources.models import Resource
    from pcloud.roles import service

    with app.app_context():
        menus = list(menu_ids) + list(db.session.execute(select(Menu.id).where(
            Menu.path.in_(menu_paths), Menu.deleted_at.is_(None))).scalars()) if menu_paths else list(menu_ids)
        resources = list(resource_ids)
        if resource_codes:
            found = dict(db.session.execute(select(Resource.code, Resource.id).where(
                Resource.code.in_(resource_codes), Resource.deleted_at.is_(None))).all())
            missing = set(resource_codes) - set(found)
            assert not missing, f"no such built-in resources: {missing}"
            resources += list(found.values())
        service.grant(role_id, menus, resources)
        db.session.remove()


def route_code(endpoint: str, method: str) -> str:
    """The code of the built-in resource `pcloud sync` makes for one API route and method."""
    return f"api:{endpoint}:{method.upper()}"


def _made(app: Any, make: Any) -> int:
    """Run make() in an app context and return the id of the row it made."""
    with app.app_context():
        row_id = make().id
        db.session.remove()
    return row_id


def make_menu(app: Any, name: str, path: str, parent_id: int = 0) -> int:
    from pcloud.menus import service

    return _made(app, lambda: service.create_menu({"name": name, "path": path, "parent_id": parent_id}))


def make_resource(app: Any, name: str, resource_url: str, parent_id: int = 0) -> int:
    from pcloud.resources import service

    return _made(app, lambda: service.create_resource({"name": name, "resource_url": resource_url,
                                                        "parent_id": parent_id}))


def make_segment(app: Any, biz_tag: str) -> int:
    from pcloud.segments import service

    return _made(app, lambda: service.create_segment({"biz_tag": biz_tag, "step": 10}))


def make_open_account(app: Any, name: str, entry_ids: tuple[int, ...] = ()) -> int:
    """An open-platform account, granted the given catalogue entries."""
    from pcloud.openplatform import service

    account_id = _made(app, lambda: service.create_account({"name": name})[0])
    if entry_ids:
        _made(app, lambda: service.grant(account_id, list(entry_ids)))
    return account_id


def make_open_entry(app: Any, name: str, resource_url: str) -> int:
    from pcloud.openplatform import service

    return _made(app, lambda: service.create_entry({"name": name, "resource_url": resource_url}))


def make_executor(app: Any, appname: str, nodes: tuple[str, ...] = (), title: str | None = None) -> int:
    """An automatic executor with the given live nodes registered."""
    from pcloud.core.timefmt import utcnow
    from pcloud.jobs.models import Executor, JobRegistry

    with app.app_context():
        executor = Executor(appname=appname, title=title or f"{appname} 执行器")
        db.session.add(executor)
        db.session.add_all([JobRegistry(appname=appname, name=node, heartbeat_at=utcnow()) for node in nodes])
        db.session.commit()
        executor_id = executor.id
        db.session.remove()
    return executor_id


def make_job(app: Any, executor: int, job_desc: str = "测试任务", **kw: Any) -> int:
    from pcloud.jobs.models import Job

    return _made(app, lambda: _added(Job(
        job_group=executor, job_desc=job_desc, author=kw.pop("author", "王五"),
        schedule_type=kw.pop("schedule_type", "CRON"),
        schedule_conf=kw.pop("schedule_conf", "0 0 12 * * ?"), timezone="Asia/Shanghai",
        executor_handler="demoJobHandler", **kw)))


def make_run(app: Any, executor: int, job_id: int, **kw: Any) -> int:
    """One run of a job (a job-log row), triggered by hand now."""
    from pcloud.core.timefmt import utcnow
    from pcloud.jobs.models import JobRun

    return _made(app, lambda: _added(JobRun(job_group=executor, job_id=job_id, trigger_type="MANUAL",
                                            schedule_time=utcnow(), **kw)))


def make_action_log(app: Any, user_id: int, title: str = "测试操作", name: str = "管理员", **extra: Any) -> int:
    from pcloud.actionlog.models import ActionLog
    from pcloud.core.timefmt import utcnow

    fields = {"method": "POST", "path": "/api/test", "status": "success", "cost_ms": 1, **extra}
    return _made(app, lambda: _added(ActionLog(
        user_id=user_id, name=name, phone="13800000000", title=title, gmt_created_date=utcnow(), **fields)))


def _added(row: Any) -> Any:
    db.session.add(row)
    db.session.commit()
    return row


def role_id_of_code(app: Any, code: str) -> int:
    """The live role with that code (a built-in one, or one a test made)."""
    from pcloud.roles.models import Role

    return query(app, lambda: db.session.execute(Role.live().where(Role.role_code == code)).scalar_one().id)


# ---------------------------------------------------------------------------------------------
# Random text for the keyword filters' "exactly LIKE's rows" tests

# Chinese, ASCII of both cases, digits and LIKE's own wildcards and FTS5 syntax characters.
# Also letters whose case only the trigram index folds (not LIKE), where its count may not be LIKE's.
ALPHABET = list("王李张员工部门财务研发测试中心一二三") + list("abcXYZ") + list("0123") + list('%_"* ') + list("Éé")


def random_text(rng: random.Random, lo: int, hi: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(lo, hi))).strip() or "王"


def random_keywords(rng: random.Random, texts: list[str], count: int) -> list[str]:
    """`count` keywords of one to five characters, most cut out of `texts`, the rest random; then a few fixed
    ones (the wildcards alone, a quote, both cases of one word)."""
    words = []
    for _ in range(count):
        if rng.random() < 0.7:
            source = rng.choice(texts)
            start = rng.randrange(len(source))
            words.append(source[start:start + rng.randint(1, 5)])
        else:
            words.append(random_text(rng, 1, 4))
    return [w for w in words if w.strip()] + ["%", "_", '"', "员工", "abc", "ABC", "王李张", "xyz"]


def seed_random_users(app: Any, rng: random.Random, count: int) -> list[int]:
    """`count` users with random names and phones in one statement (nobody signs in as them), created within a
    minute of each other (ties included); then some renamed, some deleted and some soft-deleted, so the trigram
    index has followed updates and deletes. Returns the ids left, the soft-deleted among them."""
    from sqlalchemy import delete, func, insert, select, update

    from pcloud.core.timefmt import utcnow
    from pcloud.users.models import User

    now = utcnow()
    with app.app_context(), db.engine.begin() as conn:
        first = conn.execute(select(func.coalesce(func.max(User.id), 0))).scalar_one() + 1
        conn.execute(insert(User.__table__), [
            {"phone": f"1{rng.randrange(10**10):010d}", "name": random_text(rng, 1, 12), "password_hash": "x" * 60,
             "gmt_created_date": now - timedelta(seconds=rng.randint(0, 60)), "gmt_modified_date": now}
            for _ in range(count)])
        seeded = User.id >= first
        conn.execute(update(User).where(seeded, User.id % 7 == 0).values(name=User.name + "Abc研发"))
        conn.execute(delete(User).where(seeded, User.id % 11 == 5))
        conn.execute(update(User).where(seeded, User.id % 5 == 2).values(deleted_at=now))
        return list(conn.execute(select(User.id).where(seeded).order_by(User.id)).scalars())
