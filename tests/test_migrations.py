"""Migrations: `upgrade` on an empty database (SQLite, and PostgreSQL in the PG pass), models match them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from pcloud import MIGRATIONS_DIR
from pcloud.config import normalise_database_url
from pcloud.extensions import db
from tests.conftest import TEST_CONFIG


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    pg = os.environ.get("PCLOUD_TEST_DATABASE_URL")
    if not pg:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url = make_url(normalise_database_url(pg))
    name = f"pcloud_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _app(url: str) -> Any:
    from pcloud import create_app

    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})


def test_upgrade_on_an_empty_database_reaches_head_and_matches_the_models(empty_database_url: str) -> None:
    from flask_migrate import downgrade, upgrade

    app = _app(empty_database_url)
    head = ScriptDirectory(MIGRATIONS_DIR).get_current_head()
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        with db.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head
            tables = set(inspect(conn).get_table_names())
            assert {"sys_user", "sys_role", "auth_session", "sys_action_log"} <= tables
            from pcloud.core.search import include_object

            diff = compare_metadata(MigrationContext.configure(conn, opts={"include_object": include_object}),
                                    db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        downgrade(directory=MIGRATIONS_DIR, revision="base")
        with db.engine.connect() as conn:
            assert "sys_user" not in inspect(conn).get_table_names()
        upgrade(directory=MIGRATIONS_DIR)
        db.engine.dispose()


def test_init_twice_changes_nothing_the_second_time(empty_database_url: str) -> None:
    app = _app(empty_database_url)
    runner = app.test_cli_runner()
    env = {"PCLOUD_ADMIN_PASSWORD": "First12345"}
    first = runner.invoke(args=["pcloud", "init"], env=env)
    assert first.exit_code == 0, first.output
    assert "super administrator created" in first.output
    second = runner.invoke(args=["pcloud", "init"], env=env)
    assert second.exit_code == 0 and "nothing changed" in second.output
    with app.app_context():
        from pcloud.roles.models import Role
        from pcloud.users.models import User

        assert db.session.query(User).count() == 1
        assert sorted(r.role_code for r in db.session.query(Role)) == ["ROLE_ADMIN", "ROLE_SUPER_ADMIN"]
        db.session.remove()
        db.engine.dispose()


def test_init_with_a_weak_admin_password_says_so_in_one_line(empty_database_url: str) -> None:
    """The last probe: a weak or over-long PCLOUD_ADMIN_PASSWORD was refused with a traceback."""
    app = _app(empty_database_url)
    runner = app.test_cli_runner()
    for password in ("weak", "a1" * 37):
        result = runner.invoke(args=["pcloud", "init"], env={"PCLOUD_ADMIN_PASSWORD": password})
        assert result.exit_code == 1 and "PCLOUD_ADMIN_PASSWORD" in result.output, result.output
        assert isinstance(result.exception, SystemExit), result.exception  # a ClickException, not an error
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_init_generates_and_prints_a_password_once(empty_database_url: str) -> None:
    app = _app(empty_database_url)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["pcloud", "init"], env={"PCLOUD_ADMIN_PASSWORD": ""})
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "and password" in x)
    password = line.split("and password ")[1].split(" ")[0]
    client = app.test_client()
    resp = client.post("/api/oauth/token", json={"phone": "13800000000", "password": password, "grantType": "ADMIN"})
    assert resp.status_code == 200
    again = runner.invoke(args=["pcloud", "init"])
    assert "password" not in again.output.lower()
    created = runner.invoke(args=["pcloud", "create-admin", "--phone", "13800000001", "--password", "Other12345"])
    assert created.exit_code == 0 and "ROLE_SUPER_ADMIN" in created.output
    dup = runner.invoke(args=["pcloud", "create-admin", "--phone", "13800000001", "--password", "Other12345"])
    assert dup.exit_code != 0 and "手机号已被其他用户使用" in dup.output
    with app.app_context():
        db.engine.dispose()


def test_a_new_role_admin_can_use_the_back_office(empty_database_url: str) -> None:
    app = _app(empty_database_url)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["pcloud", "init"], env={"PCLOUD_ADMIN_PASSWORD": "First12345"}).exit_code == 0
    made = runner.invoke(args=["pcloud", "create-admin", "--phone", "13800000002", "--password", "Admin2345",
                               "--role", "admin"])
    assert made.exit_code == 0 and "ROLE_ADMIN" in made.output
    client = app.test_client()
    token = client.post("/api/oauth/token", json={"phone": "13800000002", "password": "Admin2345",
                                                  "grantType": "ADMIN"}).get_json()["data"]["token"]
    resp = client.post("/api/admin/system/user/page", json={}, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    with app.app_context():
        db.engine.dispose()


def test_upgrade_backfills_the_department_closure_of_existing_departments(empty_database_url: str) -> None:
    """0003 adds sys_dept_closure to a database that already has a department tree, and fills it."""
    from flask_migrate import upgrade

    app = _app(empty_database_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0002")
        with db.engine.begin() as conn:
            for dept_id, parent_id, deleted in ((1, 0, None), (2, 1, None), (3, 2, None), (4, 1, None),
                                                (5, 4, "2020-01-01 00:00:00")):
                conn.execute(text(
                    "INSERT INTO sys_dept (id, parent_id, name, sequence, gmt_created_date, gmt_modified_date, "
                    "deleted_at) VALUES (:id, :parent, :name, 0, '2020-01-01', '2020-01-01', :deleted)"),
                    {"id": dept_id, "parent": parent_id, "name": f"部门{dept_id}", "deleted": deleted})
        upgrade(directory=MIGRATIONS_DIR)
        with db.engine.connect() as conn:
            rows = set(conn.execute(text("SELECT ancestor_id, descendant_id, depth FROM sys_dept_closure")))
        assert rows == {(1, 1, 0), (2, 2, 0), (3, 3, 0), (4, 4, 0), (1, 2, 1), (1, 3, 2), (2, 3, 1), (1, 4, 1)}
        from pcloud.depts import service

        assert sorted(service.subtree_ids(1)) == [1, 2, 3, 4]
        db.session.remove()
        db.engine.dispose()


def test_upgrade_renders_the_html_of_existing_notices(empty_database_url: str) -> None:
    """0027 adds sys_notice.content_html and fills it with each notice's text rendered (and sanitised)."""
    from flask_migrate import upgrade

    from pcloud.core.markdown import render_markdown

    app = _app(empty_database_url)
    text_of = {1: "**粗体** 与 [链接](https://example.com)",
               2: "<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |"}
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0026_user_insert_lock_first")
        with db.engine.begin() as conn:
            for notice_id, content in text_of.items():
                conn.execute(text(
                    "INSERT INTO sys_notice (id, title, content, notice_type, status, audience_all, gmt_created_date, "
                    "gmt_modified_date) VALUES (:id, '通知', :content, 1, 1, :yes, '2020-01-01', '2020-01-01')"),
                    {"id": notice_id, "content": content, "yes": True})
        upgrade(directory=MIGRATIONS_DIR)
        with db.engine.connect() as conn:
            stored = dict(conn.execute(text("SELECT id, content_html FROM sys_notice")).all())
        assert stored == {i: render_markdown(content) for i, content in text_of.items()}
        assert "<strong>粗体</strong>" in stored[1] and "<script>" not in stored[2] and "<table>" in stored[2]
        db.session.remove()
        db.engine.dispose()


def test_upgrade_writes_the_alignment_of_stored_notice_tables_as_classes(empty_database_url: str) -> None:
    """0034: a notice stored with markdown-it's style="text-align:..." cells is rendered again (the pages' CSP now
    refuses style attributes); a notice without such cells is left as stored; downgrade writes the styles back."""
    from flask_migrate import downgrade, upgrade

    from pcloud.core.markdown import render_markdown

    app = _app(empty_database_url)
    aligned = "| a | b |\n|:--|--:|\n| 1 | 2 |"
    old_html = ('<table>\n<thead>\n<tr>\n<th style="text-align:left">a</th>\n<th style="text-align:right">b</th>\n'
                '</tr>\n</thead>\n<tbody>\n<tr>\n<td style="text-align:left">1</td>\n'
                '<td style="text-align:right">2</td>\n</tr>\n</tbody>\n</table>\n')
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0033_mail_notice_trigram")
        with db.engine.begin() as conn:
            for notice_id, content, html in ((1, aligned, old_html), (2, "plain", "<p>kept as stored</p>\n")):
                conn.execute(text(
                    "INSERT INTO sys_notice (id, title, content, content_html, notice_type, status, audience_all, "
                    "gmt_created_date, gmt_modified_date) VALUES (:id, '通知', :content, :html, 1, 1, :yes, "
                    "'2020-01-01', '2020-01-01')"), {"id": notice_id, "content": content, "html": html, "yes": True})

        def stored() -> dict[int, str]:
            with db.engine.connect() as conn:
                return dict(conn.execute(text("SELECT id, content_html FROM sys_notice")).all())

        upgrade(directory=MIGRATIONS_DIR)
        assert stored() == {1: render_markdown(aligned), 2: "<p>kept as stored</p>\n"}
        assert '<td class="text-end">2</td>' in stored()[1] and "style=" not in stored()[1]
        downgrade(directory=MIGRATIONS_DIR, revision="0033_mail_notice_trigram")
        assert stored() == {1: old_html, 2: "<p>kept as stored</p>\n"}
        db.session.remove()
        db.engine.dispose()


def test_upgrade_takes_deleted_users_off_the_departments_they_managed(empty_database_url: str) -> None:
    """0031 clears a department's manager who was deleted before deletes did so themselves; a live one stays."""
    from flask_migrate import upgrade

    app = _app(empty_database_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0030_open_account_notify")
        with db.engine.begin() as conn:
            for user_id, deleted in ((1, None), (2, "2026-01-01")):
                conn.execute(text(
                    "INSERT INTO sys_user (id, phone, name, password_hash, state, deleted_at, gmt_created_date, "
                    "gmt_modified_date) VALUES (:id, :phone, '经理', 'x', 0, :deleted, '2020-01-01', '2020-01-01')"),
                    {"id": user_id, "phone": f"1390000000{user_id}", "deleted": deleted})
            for dept_id, manager in ((1, 1), (2, 2)):
                conn.execute(text(
                    "INSERT INTO sys_dept (id, parent_id, name, manager_id, sequence, gmt_created_date, "
                    "gmt_modified_date) VALUES (:id, 0, :name, :manager, 0, '2020-01-01', '2020-01-01')"),
                    {"id": dept_id, "name": f"部门{dept_id}", "manager": manager})
        upgrade(directory=MIGRATIONS_DIR)
        with db.engine.connect() as conn:
            assert dict(conn.execute(text("SELECT id, manager_id FROM sys_dept")).all()) == {1: 1, 2: None}
        db.session.remove()
        db.engine.dispose()


def test_upgrade_keeps_the_grams_of_existing_names_and_downgrade_drops_them(empty_database_url: str) -> None:
    """0035 fills sys_user_name_gram from the users already there (every character and adjacent pair, lower-cased)
    and sys_action_log_name_gram from the operation log's operators; the triggers follow an insert, a rename and a
    delete; downgrade leaves tables that take rows as before."""
    from flask_migrate import downgrade, upgrade

    def add_user(conn: Any, user_id: int, name: str) -> None:
        conn.execute(text(
            "INSERT INTO sys_user (id, phone, name, password_hash, state, gmt_created_date, gmt_modified_date) "
            "VALUES (:id, :phone, :name, 'x', 0, '2020-01-01', '2020-01-01')"),
            {"id": user_id, "phone": f"1390000000{user_id}", "name": name})

    def add_log(conn: Any, log_id: int, name: str) -> None:
        conn.execute(text(
            "INSERT INTO sys_action_log (id, user_id, name, title, method, path, status, cost_ms, gmt_created_date) "
            "VALUES (:id, 1, :name, '测试', 'POST', '/api/x', 'success', 1, '2020-01-01')"),
            {"id": log_id, "name": name})

    def grams(conn: Any, table: str = "sys_user") -> set[tuple[str, int]]:
        return {(g, i) for g, i in conn.execute(text(f"SELECT gram, row_id FROM {table}_name_gram"))}

    app = _app(empty_database_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0034_notice_cell_align")
        with db.engine.begin() as conn:
            add_user(conn, 1, "张伟")
            add_user(conn, 2, "Ann")
            add_log(conn, 1, "张伟")
        upgrade(directory=MIGRATIONS_DIR)
        with db.engine.begin() as conn:
            assert grams(conn) == {("张", 1), ("伟", 1), ("张伟", 1), ("a", 2), ("n", 2), ("an", 2), ("nn", 2)}
            assert grams(conn, "sys_action_log") == {("张", 1), ("伟", 1), ("张伟", 1)}
            add_log(conn, 2, "Li")
            conn.execute(text("DELETE FROM sys_action_log WHERE id = 1"))
            assert grams(conn, "sys_action_log") == {("l", 2), ("i", 2), ("li", 2)}
            add_user(conn, 3, "李四")
            conn.execute(text("UPDATE sys_user SET name = '张三' WHERE id = 1"))
            conn.execute(text("UPDATE sys_user SET state = 1 WHERE id = 2"))  # not the name: its grams stay
            conn.execute(text("DELETE FROM sys_user WHERE id = 3"))
            assert grams(conn) == {("张", 1), ("三", 1), ("张三", 1), ("a", 2), ("n", 2), ("an", 2), ("nn", 2)}
        downgrade(directory=MIGRATIONS_DIR, revision="0034_notice_cell_align")
        with db.engine.begin() as conn:
            add_user(conn, 4, "王五")
            conn.execute(text("UPDATE sys_user SET name = '王六' WHERE id = 4"))
            conn.execute(text("DELETE FROM sys_user WHERE id = 4"))
            add_log(conn, 3, "王五")
            assert not {"sys_user_name_gram", "sys_action_log_name_gram"} & set(inspect(conn).get_table_names())
        db.session.remove()
        db.engine.dispose()


def test_upgrade_fills_the_login_logs_distinct_phones_and_keeps_them(empty_database_url: str) -> None:
    """0025 fills sys_login_log_phone from the rows already there; its triggers keep it for every writer (raw
    SQL included, one and many rows); downgrade gives the trigram search back."""
    from flask_migrate import downgrade, upgrade

    def insert(conn: Any, *phones: str | None) -> None:
        conn.execute(text("INSERT INTO sys_login_log (event, result, phone, signed_in_at) VALUES "
                          + ", ".join(f"('login', 1, :p{n}, '2026-01-01 00:00:00')" for n in range(len(phones)))),
                     {f"p{n}": p for n, p in enumerate(phones)})

    app = _app(empty_database_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0022")
        with db.engine.begin() as conn:
            insert(conn, "13900000001", "13900000001", "13900000002", None)
        upgrade(directory=MIGRATIONS_DIR)
        with db.engine.begin() as conn:
            insert(conn, "13900000003")
            insert(conn, "13900000003", "13900000004", "13900000001", None)
            conn.execute(text("UPDATE sys_login_log SET phone = '13900000005' WHERE phone = '13900000002'"))
        with db.engine.connect() as conn:
            kept = set(conn.execute(text("SELECT phone FROM sys_login_log_phone")).scalars())
        assert kept == {"13900000001", "13900000002", "13900000003", "13900000004", "13900000005"}
        downgrade(directory=MIGRATIONS_DIR, revision="0022")
        with db.engine.connect() as conn:
            assert "sys_login_log_phone" not in inspect(conn).get_table_names()
            if conn.dialect.name == "sqlite":
                assert conn.execute(text("SELECT count(*) FROM sys_login_log_fts WHERE sys_login_log_fts MATCH "
                                         "'phone : \"900000001\"'")).scalar() == 3
            else:
                assert "ix_sys_login_log_phone_trgm" in {i["name"] for i in inspect(conn).get_indexes("sys_login_log")}
        db.engine.dispose()


def test_upgrade_puts_the_titles_of_existing_mail_and_notices_in_the_trigram_search(empty_database_url: str) -> None:
    """0033 adds the mail's and the notices' titles to the trigram search (core.search.SEARCHED): the rows already
    there are found (SQLite: the FTS tables rebuilt from them; PostgreSQL: the GIN indexes built over them), every
    later write follows (insert, title changed, delete), both lists get an index of their order (time, id);
    downgrade takes it all back and leaves the tables writable. Its frozen SQL is what core.search builds."""
    import importlib.util

    from flask_migrate import downgrade, upgrade

    from pcloud.core import search

    path = Path(MIGRATIONS_DIR) / "versions" / "0033_mail_notice_trigram.py"
    spec = importlib.util.spec_from_file_location("m0033", path)
    frozen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(frozen)
    tables = ("sys_mail", "sys_notice")
    assert [sql for t in tables for sql in search.sqlite_create_sql(t)] == frozen.SQLITE_UP
    assert [sql for t in tables for sql in search.sqlite_drop_sql(t)] == frozen.SQLITE_DOWN
    assert [sql for t in tables for sql in search.postgres_create_sql(t)] == frozen.POSTGRES_UP
    assert [sql for t in tables for sql in search.postgres_drop_sql(t)] == frozen.POSTGRES_DOWN

    def write(conn: Any, sql: str, **params: Any) -> None:
        conn.execute(text(sql), {"d": "2026-01-01 00:00:00", **params})

    def add(conn: Any, mail: str, notice: str) -> None:
        write(conn, "INSERT INTO sys_mail (recipient_id, name, description, gmt_created_date, gmt_modified_date) "
                    "VALUES (1, :t, '正文', :d, :d)", t=mail)
        write(conn, "INSERT INTO sys_notice (title, content, notice_type, status, audience_all, gmt_created_date, "
                    "gmt_modified_date) VALUES (:t, '正文', 1, 0, :yes, :d, :d)", t=notice, yes=True)

    def found(conn: Any, table: str, keyword: str) -> set[int]:
        """The rows the trigram search finds (SQLite: the FTS table alone, so a missed write shows; PostgreSQL: the
        LIKE its GIN index serves, kept by the server)."""
        column = search.SEARCHED[table][0]
        if conn.dialect.name == "sqlite":
            return set(conn.execute(text(f"SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH :q"),
                                    {"q": f'{column} : "{keyword}"'}).scalars())
        return set(conn.execute(text(f"SELECT id FROM {table} WHERE {column} LIKE :q"),
                                {"q": f"%{keyword}%"}).scalars())

    app = _app(empty_database_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0032_form_submission")
        with db.engine.begin() as conn:
            write(conn, "INSERT INTO sys_user (id, phone, name, password_hash, state, gmt_created_date, "
                        "gmt_modified_date) VALUES (1, '13900000001', '收信人', 'x', 0, :d, :d)")
            add(conn, "周例会纪要", "周例会安排")
            add(conn, "项目周报", "放假通知")
        upgrade(directory=MIGRATIONS_DIR)
        with db.engine.begin() as conn:
            assert found(conn, "sys_mail", "周例会") == {1} and found(conn, "sys_notice", "周例会") == {1}
            add(conn, "新的周例会", "新的周例会")
            write(conn, "UPDATE sys_mail SET name = '项目月报' WHERE id = 2")
            write(conn, "UPDATE sys_notice SET title = '放假安排' WHERE id = 2")
            write(conn, "DELETE FROM sys_mail WHERE id = 1")
            write(conn, "DELETE FROM sys_notice WHERE id = 1")
        with db.engine.connect() as conn:
            assert found(conn, "sys_mail", "周例会") == {3} and found(conn, "sys_notice", "周例会") == {3}
            assert found(conn, "sys_mail", "项目月") == {2} and found(conn, "sys_mail", "项目周") == set()
            assert found(conn, "sys_notice", "放假安") == {2} and found(conn, "sys_notice", "放假通") == set()
            indexes = {t: {i["name"] for i in inspect(conn).get_indexes(t)} for t in tables}
            assert "ix_sys_notice_created_id" in indexes["sys_notice"]
            assert "ix_sys_mail_created_id" in indexes["sys_mail"] and "ix_sys_mail_created" not in indexes["sys_mail"]
            if conn.dialect.name == "postgresql":
                assert "ix_sys_mail_name_trgm" in indexes["sys_mail"]
                assert "ix_sys_notice_title_trgm" in indexes["sys_notice"]
        downgrade(directory=MIGRATIONS_DIR, revision="0032_form_submission")
        with db.engine.begin() as conn:
            names = set(inspect(conn).get_table_names())
            assert not {"sys_mail_fts", "sys_notice_fts"} & names
            if conn.dialect.name == "sqlite":  # the FTS tables, their shadow tables and their triggers
                assert not [name for name in conn.execute(text("SELECT name FROM sqlite_master")).scalars()
                            if name.startswith(("sys_mail_fts", "sys_notice_fts"))]
            left = {i["name"] for t in tables for i in inspect(conn).get_indexes(t)}
            assert not {"ix_sys_notice_created_id", "ix_sys_mail_created_id", "ix_sys_mail_name_trgm",
                        "ix_sys_notice_title_trgm"} & left and "ix_sys_mail_created" in left
            add(conn, "降级后", "降级后")  # no trigger left behind refers to a dropped table
            write(conn, "UPDATE sys_mail SET name = '降级后改' WHERE id = 2")
            write(conn, "DELETE FROM sys_notice WHERE id = 2")
        upgrade(directory=MIGRATIONS_DIR)
        with db.engine.connect() as conn:
            assert found(conn, "sys_mail", "降级后") == {4, 2} and found(conn, "sys_notice", "降级后") == {4}
        db.session.remove()
        db.engine.dispose()


def test_upgrade_gives_live_menus_with_one_path_distinct_paths(empty_database_url: str) -> None:
    """0006 makes menu paths unique among live menus; duplicates from before keep the oldest on the path."""
    from flask_migrate import upgrade

    app = _app(empty_database_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0003")
        with db.engine.begin() as conn:
            for menu_id, path, deleted in ((1, "/report", None), (2, "/report", None), (3, "/report", "2020-01-01"),
                                           (4, "/other", None)):
                conn.execute(text(
                    "INSERT INTO sys_menu (id, parent_id, name, path, router, hidden, sequence, built_in, "
                    "gmt_created_date, gmt_modified_date, deleted_at) VALUES (:id, 0, :name, :path, true, false, "
                    "0, false, '2020-01-01', '2020-01-01', :deleted)"),
                    {"id": menu_id, "name": f"菜单{menu_id}", "path": path, "deleted": deleted})
        upgrade(directory=MIGRATIONS_DIR)
        with db.engine.connect() as conn:
            paths = dict(conn.execute(text("SELECT id, path FROM sys_menu")).all())
        assert paths == {1: "/report", 2: "/report-dup-2", 3: "/report", 4: "/other"}
        db.session.remove()
        db.engine.dispose()


def test_upgrade_puts_the_letters_of_live_sms_template_codes_in_capitals(empty_database_url: str) -> None:
    """0037: a template saved as `login` (never used: the sign-in looks up LOGIN) becomes LOGIN; where a live code
    already holds those capitals (`LOGIN` beside `login`), the one in use keeps them and the other gets a suffix
    (an administrator sees it on 短信模板); among lower-case ones only, the oldest. A deleted template is left."""
    from flask_migrate import upgrade

    app = _app(empty_database_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0036_job_change_notify")
        with db.engine.begin() as conn:
            for template_id, code, deleted in ((1, "login", None), (2, "LOGIN", None), (3, "reset", None),
                                               (4, "Reset", None), (5, "old", "2020-01-01"), (6, "OTHER", None),
                                               (7, "短信b", None)):
                conn.execute(text(
                    "INSERT INTO sys_sms_template (id, code, name, description, gmt_created_date, gmt_modified_date, "
                    "deleted_at) VALUES (:id, :code, 'x', '{code}', '2020-01-01', '2020-01-01', :deleted)"),
                    {"id": template_id, "code": code, "deleted": deleted})
        upgrade(directory=MIGRATIONS_DIR)
        with db.engine.connect() as conn:
            codes = dict(conn.execute(text("SELECT id, code FROM sys_sms_template")).all())
        assert codes == {1: "LOGIN_DUP_1", 2: "LOGIN", 3: "RESET", 4: "RESET_DUP_4", 5: "old", 6: "OTHER",
                         7: "短信B"}
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------------------------------------
# Issue 19, finding 13: ids are never reused (SQLite AUTOINCREMENT on every table with a surrogate id)


def _autoincrement_tables(conn: Any) -> set[str]:
    return {name for name, sql in conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
            if sql and " AUTOINCREMENT" in sql}


def test_every_surrogate_id_autoincrements_in_the_models_and_the_upgraded_schema(empty_database_url: str) -> None:
    """compare_metadata does not see AUTOINCREMENT: the models and the migrated schema are compared here."""
    from flask_migrate import upgrade
    from sqlalchemy.schema import CreateTable

    from pcloud.core.models import has_surrogate_id

    app = _app(empty_database_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        wanted = {t.name for t in db.metadata.sorted_tables if has_surrogate_id(t)}
        assert {"sys_user", "sys_role", "job_log", "job_info", "sys_action_log", "auth_session"} <= wanted
        flagged = {t.name for t in db.metadata.sorted_tables if t.dialect_options["sqlite"]["autoincrement"]}
        assert flagged == wanted
        with db.engine.connect() as conn:
            if conn.dialect.name != "sqlite":
                db.engine.dispose()
                return  # serial/identity columns never reuse an id
            assert _autoincrement_tables(conn) == wanted
            for name in wanted:  # a new database made from the models says the same
                assert " AUTOINCREMENT" in str(CreateTable(db.metadata.tables[name]).compile(conn))
        db.engine.dispose()


def test_the_autoincrement_rebuild_keeps_rows_triggers_and_counts(tmp_path: Path) -> None:
    """Migration 0011 rebuilds tables on SQLite: rows (with their ids), indexes, the FTS and tally triggers
    stay; no foreign-key cascade fires (sys_user_role keeps its rows); ids deleted afterwards never return."""
    from flask_migrate import downgrade, upgrade

    from pcloud.users import tally

    app = _app(f"sqlite:///{tmp_path / 'rebuild.db'}")
    now = "2026-12-01 00:00:00"
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="0010")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO sys_role (id, name, role_code, built_in, hidden, gmt_created_date, "
                              "gmt_modified_date) VALUES (1, '甲', 'ROLE_A', 0, 0, :n, :n)"), {"n": now})
            for uid in range(1, 8):
                conn.execute(text("INSERT INTO sys_user (id, phone, name, password_hash, state, gmt_created_date, "
                                  "gmt_modified_date) VALUES (:i, :p, :nm, 'x', 0, :n, :n)"),
                             {"i": uid, "p": f"1390000000{uid}", "nm": f"用户{uid}", "n": now})
                conn.execute(text("INSERT INTO sys_user_role (user_id, role_id) VALUES (:i, 1)"), {"i": uid})
            conn.execute(text("DELETE FROM sys_user WHERE id IN (6, 7)"))  # the newest, before the upgrade
        with db.engine.connect() as conn:
            before = sorted(conn.execute(text(
                "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')")).all())
            counts_before = tally.counts(conn)
        upgrade(directory=MIGRATIONS_DIR, revision="0011")  # this migration alone: later ones add their own
        with db.engine.begin() as conn:
            after = sorted(conn.execute(text(
                "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')")).all())
            assert after == before
            assert conn.execute(text("SELECT count(*) FROM sys_user_role")).scalar() == 5
            assert tally.counts(conn) == counts_before == tally.recount(conn)
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            conn.execute(text("DELETE FROM sys_user WHERE id = 5"))
            conn.execute(text("INSERT INTO sys_user (phone, name, password_hash, state, gmt_created_date, "
                              "gmt_modified_date) VALUES ('13900000099', '新来的', 'x', 0, :n, :n)"), {"n": now})
            new_id = conn.execute(text("SELECT id FROM sys_user WHERE phone = '13900000099'")).scalar()
            assert new_id == 6  # 5 was the largest id the table ever held... before 0011 counted nothing
            conn.execute(text("DELETE FROM sys_user WHERE id = :i"), {"i": new_id})
            conn.execute(text("INSERT INTO sys_user (phone, name, password_hash, state, gmt_created_date, "
                              "gmt_modified_date) VALUES ('13900000098', '又来的', 'x', 0, :n, :n)"), {"n": now})
            assert conn.execute(text("SELECT id FROM sys_user WHERE phone = '13900000098'")).scalar() == 7
            assert tally.counts(conn) == tally.recount(conn)
            found = conn.execute(text("SELECT rowid FROM sys_user_fts WHERE sys_user_fts MATCH '又来的'")).all()
            assert found == [(7,)]
        downgrade(directory=MIGRATIONS_DIR, revision="0010")
        with db.engine.connect() as conn:
            assert _autoincrement_tables(conn) == set()
            assert conn.execute(text("SELECT count(*) FROM sys_user")).scalar() == 5
        db.engine.dispose()
