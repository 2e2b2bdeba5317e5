"""Lists at any size (issue 12): statistics kept by the application, capped totals marked as estimates,
trigram keyword search with exactly LIKE's results, and every list query's plan on seeded data."""

from __future__ import annotations

import random
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import desc, insert, select, text

from pcloud.extensions import db
from tests.conftest import ApiClient, PageClient, is_postgres, statements_seen
from tests.factories import make_user, random_keywords, random_text

USER_PAGE = "/api/admin/system/user/page"
LOG_PAGE = "/api/admin/log/action/page"
MAIL_PAGE = "/api/integration/admin/mail/page"
NOTICE_PAGE = "/api/admin/notice/page"


def _seed_random_rows(app: Any, rng: random.Random, count: int) -> None:
    from pcloud.actionlog.models import ActionLog
    from pcloud.core.timefmt import utcnow
    from pcloud.users.models import User

    now = utcnow()
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(insert(User.__table__), [
            {"phone": f"15{i:09d}"[:11] if i % 3 else f"1{rng.randint(0, 10**10):010d}",
             "name": random_text(rng, 1, 12), "password_hash": "x" * 60,  # never signs in "state": 0,
             "gmt_created_date": now, "gmt_modified_date": now} for i in range(count)])
        conn.execute(insert(ActionLog.__table__), [
            {"user_id": 1, "name": random_text(rng, 1, 8), "phone": "13800000000", "title": "测试", "method": "POST",
             "path": "/api/" + random_text(rng, 1, 20), "status": "success", "cost_ms": 1, "gmt_created_date": now}
            for _ in range(count)])


@pytest.mark.parametrize("dead_probe_limit", [100, 0], ids=["deleted-probed-by-rowid", "matches-listed"])
def test_keyword_search_gives_exactly_the_rows_of_like(app: Any, dead_probe_limit: int,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Trigram-narrowed search == `LIKE '%kw%'` of the same database, on random data, Chinese included,
    and stays so after rows change (the triggers / GIN index follow updates and deletes). Both ways of
    discounting the deleted users from a SQLite keyword count (users.service.DEAD_PROBE_LIMIT)."""
    from pcloud.actionlog import service as log_service
    from pcloud.actionlog.models import ActionLog
    from pcloud.users import service as user_service
    from pcloud.users.models import User

    monkeypatch.setattr(user_service, "DEAD_PROBE_LIMIT", dead_probe_limit)

    rng = random.Random(12)
    _seed_random_rows(app, rng, 400)
    with app.app_context():
        db.session.execute(text("UPDATE sys_user SET name = name || '测试中心' WHERE id % 7 = 0"))
        db.session.execute(text("DELETE FROM sys_user_role"))
        db.session.execute(text("DELETE FROM auth_session"))
        db.session.execute(text("DELETE FROM sys_user WHERE id % 11 = 5 AND id > 1"))
        db.session.execute(text("UPDATE sys_user SET deleted_at = gmt_created_date WHERE id % 5 = 2 AND id > 1"))
        db.session.commit()
        names = list(db.session.execute(select(User.name)).scalars())
        phones = list(db.session.execute(select(User.phone)).scalars())
        paths = list(db.session.execute(select(ActionLog.path)).scalars())
        checked = 0
        for field, column, texts in (("keyword", User.name, names), ("phone", User.phone, phones)):
            for kw in random_keywords(rng, texts, 40):
                expected = set(db.session.execute(User.live().with_only_columns(User.id).where(
                    column.contains(kw.strip(), autoescape=True))).scalars())
                got = user_service.page_users({field: kw}, 1, 200)
                assert got.total_exact and got.total == len(expected), (field, kw)
                if len(expected) <= 200:
                    assert {u.id for u in got.items} == expected, (field, kw)
                checked += 1
        for field, column, texts in (("name", ActionLog.name, names), ("path", ActionLog.path, paths)):
            for kw in random_keywords(rng, texts, 40):
                expected = set(db.session.execute(select(ActionLog.id).where(
                    column.contains(kw.strip(), autoescape=True))).scalars())
                got = log_service.page_logs({field: kw}, 1, 200)
                assert got.total == len(expected), (field, kw)
                if len(expected) <= 200:
                    assert {r.id for r in got.items} == expected, (field, kw)
                checked += 1
        assert checked > 150
        db.session.remove()


def _seed_titled_rows(app: Any, rng: random.Random, count: int) -> list[int]:
    """`count` mail with random titles among three new users (one in four sent by the system) and `count` notices
    with random titles, created a few seconds apart with ties; returns the three users' ids."""
    from pcloud.core.timefmt import utcnow
    from pcloud.mail.models import Mail
    from pcloud.notices.models import Notice
    from tests.factories import make_user

    users = [make_user(app) for _ in range(3)]
    now = utcnow()
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(insert(Mail.__table__), [
            {"recipient_id": users[i % 3], "sender_id": None if i % 4 == 0 else users[(i + 1) % 3],
             "name": random_text(rng, 1, 12), "description": "正文",
             "gmt_created_date": now - timedelta(seconds=i % 97), "gmt_modified_date": now} for i in range(count)])
        conn.execute(insert(Notice.__table__), [
            {"title": random_text(rng, 1, 16), "content": "正文", "content_html": "<p>正文</p>",
             "gmt_created_date": now - timedelta(seconds=i % 89), "gmt_modified_date": now} for i in range(count)])
    return users


@pytest.mark.parametrize("scan", [False, True], ids=["matches-sorted", "scanned-in-order"])
def test_mail_and_notice_title_keywords_give_exactly_the_rows_of_like(app: Any, scan: bool,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The 站内信 list's title filter (every mail, one recipient's by phone, one's own inbox) and the notices' title
    filter through the trigram index (migration 0033) == `LIKE '%kw%'` of the same database, in the page's order,
    on random titles (Chinese, ASCII of both cases, letters whose case only the index folds, `%`, `_` and `"`,
    keywords of one to five characters), after titles changed and rows were deleted (the triggers and GIN indexes
    follow) and soft-deleted; in both plans of the page (the index's matches sorted, or the rows read newest first
    and each checked)."""
    from pcloud.core import paging
    from pcloud.mail import service as mail_service
    from pcloud.mail.models import Mail
    from pcloud.notices import service as notice_service
    from pcloud.notices.models import Notice
    from pcloud.users.models import User

    monkeypatch.setattr(paging, "scan_is_cheaper", lambda *_args, **_kwargs: scan)
    rng = random.Random(33)
    users = _seed_titled_rows(app, rng, 400)
    with app.app_context():
        for table, column in (("sys_mail", "name"), ("sys_notice", "title")):
            db.session.execute(text(f"UPDATE {table} SET {column} = {column} || 'Abc研发' WHERE id % 7 = 0"))
            db.session.execute(text(f"DELETE FROM {table} WHERE id % 11 = 5"))
            db.session.execute(text(f"UPDATE {table} SET deleted_at = gmt_created_date WHERE id % 5 = 2"))
        db.session.commit()
        phone = db.session.get(User, users[1]).phone

        def like(model: Any, column: Any, kw: str, *where: Any) -> list[int]:
            return list(db.session.execute(select(model.id).where(
                model.deleted_at.is_(None), column.contains(kw, autoescape=True), *where).order_by(
                model.gmt_created_date.desc(), model.id.desc())).scalars())

        cases = [
            ("mail", Mail, Mail.name, (), lambda kw: mail_service.page_mail({"name": kw}, 1, 200)),
            ("inbox", Mail, Mail.name, (Mail.recipient_id == users[0],),
             lambda kw: mail_service.page_mail({"name": kw}, 1, 200, recipient_id=users[0])),
            ("phone", Mail, Mail.name, (Mail.recipient_id == users[1],),
             lambda kw: mail_service.page_mail({"name": kw, "phone": phone}, 1, 200)),
            ("notice", Notice, Notice.title, (), lambda kw: notice_service.page_notices({"title": kw}, 1, 200)),
        ]
        checked = 0
        for name, model, column, where, page in cases:
            titles = list(db.session.execute(select(column)).scalars())
            for kw in random_keywords(rng, titles, 30) + ["abc研", "ABC研", "研发"]:
                expected = like(model, column, kw.strip(), *where)
                got = page(kw)
                assert got.total_exact and got.total == len(expected), (name, kw)
                assert [item["id"] for item in got.items] == expected[:200], (name, kw)
                checked += 1
        assert checked > 120
        db.session.remove()


def test_a_title_keyword_is_looked_up_in_the_trigram_index(api: ApiClient, app: Any) -> None:
    """The review's case: a mail title (or a notice title) matching nothing is looked up in the trigram index
    (SQLite's FTS table; PostgreSQL's GIN index, which a plan reads once the table is large: here the only way left
    once the other indexes are dropped and scans priced out), not checked against every row (a count and a page,
    each reading the whole table)."""
    from pcloud.core.dbstats import captured_selects, plan

    _seed_titled_rows(app, random.Random(5), 50)
    with app.app_context():
        engine = db.engine
    for path, body, table, column in ((MAIL_PAGE, {"name": "无此标题"}, "sys_mail", "name"),
                                      (NOTICE_PAGE, {"title": "无此标题"}, "sys_notice", "title")):
        with captured_selects(engine) as seen:
            resp = api.post(path, body)
        assert resp.status_code == 200 and resp.get_json()["total"] == 0, resp.get_json()
        # the count and the page (not the sample of the newest rows that judges whether the matches are many)
        keyword_reads = [(sql, params) for sql, params in seen if f"FROM {table}" in sql and "LIKE" in sql
                         and "CASE WHEN" not in sql]
        assert len(keyword_reads) == 2, seen
        for sql, params in keyword_reads:
            if is_postgres():  # one transaction, rolled back: the table's other indexes dropped, scans priced out
                with engine.connect() as conn:
                    for name in conn.execute(text(
                            "SELECT i.indexrelid::regclass::text FROM pg_index i "
                            "WHERE i.indrelid = CAST(:t AS regclass) AND NOT EXISTS "
                            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
                            "AND i.indexrelid::regclass::text NOT LIKE '%trgm%'"), {"t": table}).scalars().all():
                        conn.execute(text(f"DROP INDEX {name}"))
                    for knob in ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
                        conn.exec_driver_sql(f"SET LOCAL {knob} = off")
                    steps = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql, params))
                    conn.rollback()
                assert f"ix_{table}_{column}_trgm" in steps and f"Seq Scan on {table}" not in steps, steps
            else:
                steps = "\n".join(plan(engine, sql, params))
                assert f"{table}_fts VIRTUAL TABLE" in steps and f"SCAN {table}\n" not in steps + "\n", steps


def test_a_keyword_of_three_characters_uses_the_trigram_index(app: Any) -> None:
    from pcloud.core.dbstats import captured_selects, plan
    from pcloud.users import service as user_service

    with app.app_context():
        with captured_selects(db.engine) as seen:
            user_service.page_users({"keyword": "管理员"}, 1, 10)
        plans = "\n".join(line for sql, params in seen if "sys_user" in sql and "sqlite_" not in sql
                           for line in plan(db.engine, sql, params))
        assert ("VIRTUAL TABLE" in plans) if not is_postgres() else ("sys_user" in plans)
        db.session.remove()


@pytest.mark.parametrize("keyword", ["张伟", "伟", "We"])
def test_a_keyword_of_one_or_two_characters_starts_from_the_name_grams(app: Any, keyword: str) -> None:
    """A keyword too short for a trigram (a two-character Chinese name) finds its users through the name's grams
    (sys_user_name_gram's primary key), for the count and the page, instead of reading every user; and after a
    rename, a delete and a case change of ASCII letters, the list still gives LIKE's rows."""
    from pcloud.core.dbstats import captured_selects
    from pcloud.users import service as user_service
    from pcloud.users.models import User
    from tests.factories import seed_random_users

    seed_random_users(app, random.Random(7), 300)
    ids = [make_user(app, name=name) for name in ("张伟", "李伟明", "张伟", "We 王", "wEi")]
    with app.app_context():
        db.session.execute(text("UPDATE sys_user SET name = '赵六' WHERE id = :id"), {"id": ids[2]})
        db.session.execute(text("DELETE FROM sys_user WHERE id = :id"), {"id": ids[4]})
        db.session.execute(text("UPDATE sys_user SET name = 'WEi' WHERE id = :id"), {"id": ids[3]})
        db.session.commit()
        expected = set(db.session.execute(User.live().with_only_columns(User.id).where(
            User.name.contains(keyword, autoescape=True))).scalars())
        with captured_selects(db.engine) as seen:
            got = user_service.page_users({"keyword": keyword}, 1, 50)
        assert got.total_exact and got.total == len(expected) and {u.id for u in got.items} == expected
        assert expected & set(ids) or keyword == "We", expected
        assert_starts_from_the_grams(app, "sys_user_name_gram", seen, "sys_user")
        db.session.remove()


def assert_starts_from_the_grams(app: Any, gram_table: str, seen: list[tuple[str, Any]], table: str) -> None:
    """Each keyword statement of `seen` on `table` (the count and the page) starts from the gram's rows: on SQLite from
    the gram table's key, no scan of the table; on PostgreSQL as an InitPlan, whatever the statistics say."""
    from pcloud.core.dbstats import plan

    plans = ["\n".join(plan(db.engine, sql, params, avoid_scans=True)) for sql, params in seen
             if re.search(rf"FROM {table}\b", sql) and " LIKE " in sql and "CASE WHEN" not in sql]
    assert plans
    for steps in plans:
        if is_postgres():
            assert "InitPlan" in steps and f"pk_{gram_table}" in steps, steps
            assert f"Seq Scan on {table} " not in steps + " ", steps
        else:
            assert f"SEARCH {gram_table} USING PRIMARY KEY (gram=?)" in steps, steps
            assert not re.search(rf"SCAN {table}( |$)", steps, re.M), steps


@pytest.mark.parametrize("keyword", ["张伟", "伟", "wE"])
def test_a_picker_and_a_name_filter_of_one_or_two_characters_start_from_the_name_grams(app: Any, keyword: str) -> None:
    """The pickers by name alone (the department manager picker for those who do not see phones: contains_any) and
    the read receipts' name filter (contains) found a two-character name by reading every user; they start from the
    name's grams too, and give LIKE's rows."""
    from pcloud.core import search
    from pcloud.core.dbstats import captured_selects
    from pcloud.users.models import User
    from tests.factories import seed_random_users

    seed_random_users(app, random.Random(9), 300)
    for name in ("张伟", "李伟明", "WEi", "we", "小wE"):
        make_user(app, name=name)
    with app.app_context():
        dialect = db.engine.dialect.name
        by_name = select(User.name).where(User.deleted_at.is_(None)).order_by(User.name, User.id)
        expected = list(db.session.execute(select(User.id).where(
            User.deleted_at.is_(None), User.name.contains(keyword, autoescape=True)).order_by(User.name, User.id))
            .scalars())
        assert expected
        for condition in (lambda: search.contains_any((User.name,), keyword, dialect, by_name),
                          lambda: search.contains(User.name, keyword, dialect)):
            with captured_selects(db.engine) as seen:
                got = list(db.session.execute(select(User.id).where(User.deleted_at.is_(None), condition())
                                              .order_by(User.name, User.id)).scalars())
            assert got == expected, (got, expected)
            assert_starts_from_the_grams(app, "sys_user_name_gram", seen, "sys_user")
        db.session.remove()


def test_a_short_name_most_users_hold_is_checked_row_by_row_not_through_its_grams(app: Any,
                                                                                  monkeypatch: Any) -> None:
    """Every row holding a common gram costs more to read than the table: when a sample shows the matches plainly
    many (the limits made small here, as 300 users stand for a million), a picker reads in its order and the read
    receipts' filter checks each row, and both still give LIKE's rows."""
    from pcloud.core import paging, search
    from pcloud.core.dbstats import captured_selects
    from pcloud.core.timefmt import utcnow
    from pcloud.users.models import User

    monkeypatch.setattr(paging, "SAMPLE_ROWS", 50)
    monkeypatch.setattr(paging, "TOTAL_EXACT_LIMIT", 20)
    with app.app_context():
        db.session.execute(insert(User), [{"phone": f"1390000{i:04d}", "name": f"林某{i}", "password_hash": "x",
                                           "state": 0, "gmt_created_date": utcnow()} for i in range(300)])
        db.session.commit()
        db.session.execute(text("ANALYZE"))  # the table's size, from the planner's statistics
        db.session.commit()
        dialect = db.engine.dialect.name
        by_name = select(User.name).where(User.deleted_at.is_(None)).order_by(User.name, User.id)
        expected = list(db.session.execute(select(User.id).where(
            User.deleted_at.is_(None), User.name.contains("林某", autoescape=True)).order_by(User.name, User.id))
            .scalars())
        for condition in (lambda: search.contains_any((User.name,), "林某", dialect, by_name),
                          lambda: search.contains(User.name, "林某", dialect)):
            with captured_selects(db.engine) as seen:
                got = list(db.session.execute(select(User.id).where(User.deleted_at.is_(None), condition())
                                              .order_by(User.name, User.id)).scalars())
            assert got == expected and len(got) == 300
            assert not any("sys_user_name_gram" in sql for sql, _ in seen), seen
        db.session.remove()


@pytest.mark.parametrize("keyword", ["张伟", "伟"])
def test_an_operator_of_one_or_two_characters_starts_from_the_name_grams(app: Any, keyword: str) -> None:
    """The operation log's 操作人 with a two-character name: its rows through the name's grams, LIKE's rows."""
    from pcloud.actionlog import service as log_service
    from pcloud.actionlog.models import ActionLog
    from pcloud.core.dbstats import captured_selects
    from pcloud.core.timefmt import utcnow

    _seed_random_rows(app, random.Random(8), 300)
    with app.app_context():
        db.session.execute(insert(ActionLog.__table__), [
            {"user_id": 1, "name": name, "phone": "13800000000", "title": "测试", "method": "POST", "path": "/api/x",
             "status": "success", "cost_ms": 1, "gmt_created_date": utcnow()}
            for name in ("张伟", "李伟", "王五", "Zhang Wei")])
        db.session.execute(text("UPDATE sys_action_log SET name = '赵伟' WHERE name = '王五'"))
        db.session.commit()
        expected = set(db.session.execute(select(ActionLog.id).where(
            ActionLog.name.contains(keyword, autoescape=True))).scalars())
        with captured_selects(db.engine) as seen:
            got = log_service.page_logs({"name": keyword}, 1, 50)
        assert got.total == len(expected) and {r.id for r in got.items} == expected and len(expected) >= 1
        assert_starts_from_the_grams(app, "sys_action_log_name_gram", seen, "sys_action_log")
        db.session.remove()


def test_a_keyword_with_many_matches_reads_users_in_order_never_through_the_trigram_index(app: Any) -> None:
    """Many matches: the first page reads the live users newest first and checks each ("scan"). PostgreSQL
    misjudges a LIKE's matches and would start from the GIN index, fetch every match and sort (issue 12:
    11 ms against 2 ms at a million users), so the scan's keyword is one no index can answer: even with
    the trigram index the only index left and sequential scans priced out, the plan does not use it."""
    from pcloud.core.dbstats import plan
    from pcloud.users import service as user_service

    filters = {"keyword": "管理员"}
    with app.app_context():
        ids = user_service._ids_select(filters, "scan", "gmtCreatedDate", desc).limit(10)
        compiled = ids.compile(db.engine, compile_kwargs={})
        sql, params = str(compiled), dict(compiled.params)
        if is_postgres():
            with db.engine.connect() as conn:  # one transaction, rolled back: DDL included
                for name in conn.execute(text(
                        "SELECT i.indexrelid::regclass::text FROM pg_index i WHERE i.indrelid = 'sys_user'::regclass "
                        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
                        "AND i.indexrelid::regclass::text NOT LIKE '%trgm%'")).scalars().all():
                    conn.execute(text(f"DROP INDEX {name}"))  # left: the trigram and constraints' indexes
                conn.execute(text("SET LOCAL enable_seqscan = off"))
                lines = [r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql, params)]
                conn.rollback()
            assert not any("trgm" in line for line in lines), lines
        else:
            details = plan(db.engine, sql, compiled.positiontup and [params[k] for k in compiled.positiontup])
            assert any("ix_sys_user_live_created" in d for d in details) and not any("VIRTUAL" in d for d in details)
        db.session.remove()


def test_totals_above_the_limit_are_estimates_and_say_so(api: ApiClient, pages: PageClient, app: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from pcloud.core import paging
    from tests.factories import make_user

    for i in range(7):
        make_user(app, name=f"估算{i}", state=1 if i < 2 else 0)
    monkeypatch.setattr(paging, "TOTAL_EXACT_LIMIT", 5)
    # a keyword's matches are counted (no kept count answers it): capped, then an estimate
    body = api.post(USER_PAGE, {"keyword": "估算", "pageSize": 3}).get_json()
    assert body["totalExact"] is False and body["total"] >= 6 and len(body["data"]) == 3
    small = api.post(USER_PAGE, {"keyword": "估算", "state": 1}).get_json()
    assert small["total"] == 2 and "totalExact" not in small
    html = pages.get("/system/user/?keyword=估算").get_data(as_text=True)
    assert "（估算）" in html
    # no filter: the kept count, exact whatever the limit
    unfiltered = api.post(USER_PAGE, {}).get_json()
    assert unfiltered["total"] == 8 and "totalExact" not in unfiltered
    monkeypatch.setattr(paging, "TOTAL_EXACT_LIMIT", 10_000)
    exact = api.post(USER_PAGE, {"keyword": "估算"}).get_json()
    assert exact["total"] == 7 and "totalExact" not in exact


def _pager_items(html: str) -> list[dict[str, Any]]:
    """The pager's items (templates/macros.html, pagination), in order: each one's text, its li's classes, its link's
    tag, href and aria-disabled."""
    from html.parser import HTMLParser

    items: list[dict[str, Any]] = []

    class Pager(HTMLParser):
        inside = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            values = dict(attrs)
            classes = (values.get("class") or "").split()
            if tag == "ul" and "pagination" in classes:
                self.inside = True
            elif self.inside and tag == "li":
                items.append({"li": classes, "text": ""})
            elif self.inside and "page-link" in classes:
                items[-1].update(tag=tag, href=values.get("href"), disabled=values.get("aria-disabled"))

        def handle_endtag(self, tag: str) -> None:
            if tag == "ul":
                self.inside = False

        def handle_data(self, data: str) -> None:
            if self.inside and items:
                items[-1]["text"] += data.strip()

    Pager().feed(html)
    return items


def test_the_pager_s_previous_and_next_are_no_links_where_there_is_no_such_page(pages: PageClient, app: Any) -> None:
    """The browser review: 上一页 on the first page and 下一页 on the last were links (to ?page=0 and to the page
    after the last) only styled disabled, so a keyboard reached them and Enter followed them. There they are no link
    now (a span marked aria-disabled, with the look Bootstrap gives a disabled item); every other item still links."""
    for n in range(25):
        make_user(app, name=f"翻页{n:02d}", phone=f"139000{n:05d}")
    by_page = {}
    for number in (1, 2, 3):
        html = pages.get(f"/system/user/?keyword=翻页&size=10&page={number}").get_data(as_text=True)
        assert f"第 {number} / 3 页" in html
        by_page[number] = _pager_items(html)
    for number, items in by_page.items():
        previous, *numbers, following = items
        assert (previous["text"], following["text"]) == ("上一页", "下一页")
        assert [item["text"] for item in numbers] == ["1", "2", "3"]
        for item in numbers:  # each number a link, the current one too
            assert item["tag"] == "a" and f"page={item['text']}" in item["href"] and "keyword=" in item["href"]
        for item, target, exists in ((previous, number - 1, number > 1), (following, number + 1, number < 3)):
            if exists:
                assert item["tag"] == "a" and f"page={target}" in item["href"] and "disabled" not in item["li"]
                assert item["disabled"] is None
            else:
                assert item == {"li": ["page-item", "disabled"], "text": item["text"], "tag": "span", "href": None,
                                "disabled": "true"}, number
    only = _pager_items(pages.get("/system/user/?keyword=翻页00").get_data(as_text=True))  # one page: neither links
    assert [(item["text"], item["href"] is None) for item in only] == [("上一页", True), ("1", False), ("下一页", True)]


def test_a_keyword_beyond_the_exact_limit_lists_its_matches_once(api: ApiClient, app: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """More matches than the exact limit: the trigram index lists them once (to the limit), and that count is
    the answer's lower bound; they are not counted a second time (at a million users, with a keyword matching
    1% of them, listing the matches is most of the request)."""
    from pcloud.core import paging
    from pcloud.users import service as users_service
    from tests.factories import make_user

    for i in range(8):
        make_user(app, name=f"计数员{i}")
    make_user(app, name="别人")
    monkeypatch.setattr(paging, "TOTAL_EXACT_LIMIT", 5)
    monkeypatch.setattr(users_service, "TOTAL_EXACT_LIMIT", 5)
    answers: list[Any] = []
    seen = statements_seen(app, lambda: answers.append(api.post(USER_PAGE, {"keyword": "计数员", "pageSize": 3})))
    body = answers[0].get_json()
    # the statements listing the matches (not a probe of one row by its rowid)
    listed = [sql for sql in seen if " MATCH " in sql and "EXISTS (SELECT 1 FROM" not in sql]
    assert body["totalExact"] is False and body["total"] >= 6 and len(body["data"]) == 3
    assert all("计数员" in row["name"] for row in body["data"])
    if not is_postgres():  # PostgreSQL's trigram index serves the LIKE itself: no MATCH statement
        assert len(listed) == 1, listed
    monkeypatch.setattr(paging, "TOTAL_EXACT_LIMIT", 10_000)
    monkeypatch.setattr(users_service, "TOTAL_EXACT_LIMIT", 10_000)
    exact = api.post(USER_PAGE, {"keyword": "计数员"}).get_json()
    assert exact["total"] == 8 and "totalExact" not in exact


def test_statistics_are_refreshed_by_the_application(app: Any) -> None:
    from pcloud.core.dbstats import refresh_statistics
    from tests.factories import make_user

    make_user(app)
    with app.app_context():
        refresh_statistics(db.engine)
        if is_postgres():
            analysed = db.session.execute(text(
                "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'sys_user'")).scalar()
            assert analysed is not None
        else:
            rows = db.session.execute(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'sys_user'")).scalar()
            assert rows > 0
        db.session.remove()


def test_init_leaves_statistics_behind(tmp_path: Any) -> None:
    if is_postgres():
        pytest.skip("the SQLite file shows it; PostgreSQL's ANALYZE is covered above")
    from pcloud import create_app
    from tests.conftest import TEST_CONFIG

    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'init.db'}"})
    result = app.test_cli_runner().invoke(args=["pcloud", "init"], env={"PCLOUD_ADMIN_PASSWORD": "First12345"})
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM sqlite_stat1")).scalar() > 0
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------------------------------------
# Plans of every list query on seeded data


LARGE_TABLES = ("sys_user", "sys_action_log", "sys_user_role", "sys_mail", "sys_notice")
# A sort is fine when its input is bounded by the filter's own index: a trigram match, a role's members,
# a department subtree's members (the pages choose that plan only for few matches, core.paging).
BOUNDED_DRIVERS = ("VIRTUAL TABLE", "ix_sys_user_role_role_user", "ix_sys_user_live_dept_created",
                   "_trgm", "sys_user_role_role_user")


def _list_calls(role_id: int, dept_id: int) -> list[tuple[str, dict[str, Any]]]:
    """Every list route of every module, unfiltered and with each indexed filter."""
    from pcloud.core.timefmt import local_today

    today = local_today().isoformat()
    calls: list[tuple[str, dict[str, Any]]] = [
        (USER_PAGE, {}), (USER_PAGE, {"state": 1}), (USER_PAGE, {"roleIds": [role_id]}),
        (USER_PAGE, {"deptId": dept_id}), (USER_PAGE, {"keyword": "员工12"}), (USER_PAGE, {"phone": "1500001"}),
        (USER_PAGE, {"keyword": "员工"}), (USER_PAGE, {"page": 3}),
        (LOG_PAGE, {}), (LOG_PAGE, {"userId": 1003}), (LOG_PAGE, {"path": "module7/"}),
        (LOG_PAGE, {"name": "操作员1"}),
        (LOG_PAGE, {"userId": 1003, "startTime": f"{today}T00:00:00", "endTime": f"{today}T23:59:59"}),
        (LOG_PAGE, {"startTime": f"{today}T00:00:00"}),
    ]
    for path, title in ((MAIL_PAGE, "name"), (NOTICE_PAGE, "title")):  # a title: none, 1%, every row
        calls += [(path, {}), (path, {title: "无此标题"}), (path, {title: "项目37的"}), (path, {title: "的通知"})]
    for path in ("/api/admin/role/page", "/api/admin/menu/page", "/api/admin/resource/page", "/api/admin/dept/page",
                 "/api/admin/post/page", "/api/admin/grade/page"):
        calls.append((path, {}))
    return calls


def _seed_notices(app: Any, count: int) -> None:
    """`count` notices titled as bench/mail_list.py titles its mail, one a minute, newest last, 1% deleted."""
    from pcloud.core.timefmt import utcnow
    from pcloud.notices.models import Notice

    now = utcnow()
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(insert(Notice.__table__), [
            {"title": f"关于项目{i % 100:02d}的通知（第{i}号）", "content": "正文", "content_html": "<p>正文</p>",
             "status": i % 3, "gmt_created_date": now - timedelta(minutes=count - i), "gmt_modified_date": now,
             "deleted_at": now if i % 100 == 99 else None} for i in range(count)])


def _main_table(sql: str) -> str:
    """The table the outermost SELECT reads first: its FROM, skipping parenthesised subqueries (the user
    page's ids statement carries the kept count as a scalar subquery column)."""
    depth, outer = 0, []
    for ch in " ".join(sql.split()):
        depth += ch == "("
        outer.append(ch if depth == 0 else " ")
        depth -= ch == ")"
    return "".join(outer).split(" FROM ", 1)[1].split()[0]


def test_every_list_query_reads_through_an_index(api: ApiClient, app: Any, database_url: str) -> None:
    """On 20,000 users, 20,000 log rows, 20,000 mail and 20,000 notices (bench/mail_list.py's titles), after the
    application's own statistics step: no list query
    sorts for ORDER BY in a temporary B-tree (unless its input is a filter's bounded matches) and none
    reads a large table from end to end. PostgreSQL, which rightly scans a table this small, is asked
    for its plan with scans and sorts priced out: one left in the plan has no index to replace it."""
    from bench.action_log import seed_log
    from bench.common import seed_users_sql
    from bench.mail_list import seed_mail
    from pcloud.core.dbstats import captured_selects, plan, refresh_statistics
    from tests.factories import make_dept

    dept_id = make_dept(app, "计划部")
    with app.app_context():
        first_dept = db.session.execute(text("SELECT max(id) FROM sys_dept")).scalar()
        db.session.remove()
    role_ids = seed_users_sql(database_url, 20_000, dept_ids=(first_dept, first_dept))
    seed_log(database_url, 20_000)
    seed_mail(database_url, 20_000)
    _seed_notices(app, 20_000)
    with app.app_context():
        refresh_statistics(db.engine)
    # every module's list routes answer through the API, each statement captured and explained
    problems = []
    with app.app_context():
        engine = db.engine
    for path, body in _list_calls(role_ids[0], dept_id):
        with captured_selects(engine) as seen:
            resp = api.post(path, body)
        assert resp.status_code == 200, (path, resp.get_json())
        for sql, params in seen:
            if not any(t in sql for t in LARGE_TABLES) or "sqlite_" in sql or "pg_class" in sql:
                continue
            steps = plan(engine, sql, params, avoid_scans=True)
            joined = "\n".join(steps)
            # a list query (LIMIT) over a large table must not sort it; loading a page's children (no
            # LIMIT, `IN` the page's ids) sorts a bounded handful
            main = _main_table(sql)
            sorts_list = "LIMIT" in sql and main in LARGE_TABLES and not any(d in joined for d in BOUNDED_DRIVERS)
            if is_postgres():
                bad = [s for s in steps if any(f"Seq Scan on {t} " in s for t in LARGE_TABLES)]
                if sorts_list and any(s.strip().startswith(("Sort ", "->  Sort ")) for s in steps):
                    bad.append("Sort")
            else:
                bad = [s for s in steps if s.strip() in {f"SCAN {t}" for t in LARGE_TABLES}]
                if sorts_list and "USE TEMP B-TREE FOR ORDER BY" in joined:
                    bad.append("USE TEMP B-TREE FOR ORDER BY")
            if bad:
                problems.append(f"{path} {body}: {bad} {params!r}\n  {' '.join(sql.split())[:300]}\n  "
                                + "\n  ".join(steps))
    assert not problems, "\n\n".join(problems)


def test_a_keyword_matching_plainly_many_rows_answers_a_sampled_estimate(api: ApiClient, app: Any,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from pcloud.actionlog.models import ActionLog
    from pcloud.core import paging
    from pcloud.core.dbstats import refresh_statistics
    from pcloud.core.timefmt import utcnow

    now = utcnow()
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(insert(ActionLog.__table__), [
                {"title": "测试", "method": "POST", "path": f"/api/common/{i % 3}", "status": "success", "cost_ms": 0,
                 "gmt_created_date": now} for i in range(300)])
        refresh_statistics(db.engine)
        db.session.remove()
    monkeypatch.setattr(paging, "SAMPLE_ROWS", 60)
    monkeypatch.setattr(paging, "TOTAL_EXACT_LIMIT", 20)
    many = api.post(LOG_PAGE, {"path": "common/1", "pageSize": 5}).get_json()
    assert many["totalExact"] is False and 60 <= many["total"] <= 140 and len(many["data"]) == 5
    assert all("common/1" in row["path"] for row in many["data"])
    few = api.post(LOG_PAGE, {"path": "nowhere"}).get_json()
    assert few["total"] == 0 and "totalExact" not in few


def test_name_and_phone_keywords_together(api: ApiClient, app: Any) -> None:
    from tests.factories import make_user

    make_user(app, name="王测试员甲", phone="13912345678")
    make_user(app, name="王测试员乙", phone="13987654321")
    body = api.post(USER_PAGE, {"keyword": "测试员", "phone": "1234567"}).get_json()
    assert [u["name"] for u in body["data"]] == ["王测试员甲"]
    logs = api.post(LOG_PAGE, {"name": "超级管理员", "path": "oauth/token"}).get_json()
    assert logs["total"] == 1


# ---------------------------------------------------------------------------------------------
# Counts kept per filter (users.tally): exact at any size, for every writer


def _tally_matches_rows(app: Any) -> None:
    from pcloud.users import tally

    with app.app_context():
        with db.engine.connect() as conn:
            kept, actual = tally.counts(conn), tally.recount(conn)
        assert kept == actual
        db.session.remove()


def test_kept_counts_follow_every_kind_of_write(api: ApiClient, app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Service writes and raw SQL (bulk insert, soft and hard delete, role rows) keep the counts equal to
    a recount; the page answers them as exact totals even above the count limit."""
    from pcloud.core import paging
    from tests.factories import make_dept, make_dept_tree, make_role, make_user

    depts = make_dept_tree(app, {"总部": {"研发": {"前端": {}}, "销售": {}}})
    sales, dev, hr = make_role(app, "ROLE_T_SALES"), make_role(app, "ROLE_T_DEV"), make_role(app, "ROLE_T_HR")
    ids = [make_user(app, role_ids=[sales, dev][: 1 + i % 2], dept_id=depts["前端" if i % 3 else "销售"],
                     state=i % 2) for i in range(9)]
    _tally_matches_rows(app)
    api.data("PUT", "/api/admin/system/user/modify", {"id": ids[0], "roleIds": [dev], "deptId": depts["研发"]})
    api.data("PUT", "/api/admin/system/user/modify", {"id": ids[1], "state": 0})
    api.data("DELETE", f"/api/admin/system/user/{ids[2]}/delete")
    _tally_matches_rows(app)
    with app.app_context():
        db.session.execute(text("UPDATE sys_user SET deleted_at = NULL WHERE id = :id"), {"id": ids[2]})
        db.session.execute(text("DELETE FROM sys_user WHERE id = :id"), {"id": ids[3]})  # hard delete
        db.session.execute(text("DELETE FROM sys_user_role WHERE user_id = :id"), {"id": ids[4]})
        db.session.execute(text("INSERT INTO sys_user_role (user_id, role_id) VALUES (:u, :r)"),
                           {"u": ids[5], "r": hr})
        db.session.execute(text("UPDATE sys_user SET state = 1 - state, dept_id = NULL WHERE id IN (:a, :b)"),
                           {"a": ids[6], "b": ids[7]})
        db.session.commit()
        db.session.remove()
    _tally_matches_rows(app)
    # the tree changes: a department moved (its members leave one subtree for another), one made, one
    # deleted, and the closure rebuilt from scratch
    from pcloud.depts.models import Dept, rebuild_dept_closure

    empty = make_dept(app, "空部门", depts["销售"])
    with app.app_context():
        db.session.get(Dept, depts["前端"]).parent_id = depts["销售"]
        db.session.commit()
        db.session.get(Dept, empty).soft_delete()
        db.session.commit()
        db.session.remove()
    _tally_matches_rows(app)
    with app.app_context():
        with db.engine.begin() as conn:
            rebuild_dept_closure(conn)
        db.session.get(Dept, depts["前端"]).parent_id = depts["研发"]
        db.session.commit()
        db.session.remove()
    _tally_matches_rows(app)
    monkeypatch.setattr(paging, "TOTAL_EXACT_LIMIT", 2)
    with app.app_context():
        from pcloud.users.models import User, user_role

        def real(stmt: Any) -> int:
            return len(set(db.session.execute(stmt.with_only_columns(User.id)).scalars()))

        live = User.live()
        expected = {
            "{}": real(live),
            "role": real(live.join(user_role, user_role.c.user_id == User.id).where(user_role.c.role_id == sales)),
            "state": real(live.where(User.state == 0)),
            "dept": real(live.where(User.dept_id.in_([depts["研发"], depts["前端"]]))),
        }
        db.session.remove()
    for key, body in (("{}", {}), ("role", {"roleIds": [sales]}), ("state", {"state": 0}),
                      ("dept", {"deptId": depts["研发"]})):
        answer = api.post(USER_PAGE, {**body, "pageSize": 2}).get_json()
        assert expected[key] > 2 and answer["total"] == expected[key] and "totalExact" not in answer, (key, answer)
        assert len(answer["data"]) == 2


@pytest.mark.slow
def test_kept_counts_stay_exact_under_parallel_writes(app: Any, database_url: str, instance_dir: Any) -> None:
    """Six clients create, re-role, move, disable and delete users at once through gunicorn (two workers),
    while a seventh moves a department with members: afterwards every kept count equals a recount."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from tests.conftest import ADMIN_PASSWORD, ADMIN_PHONE, start_server, stop_server
    from tests.factories import make_dept_tree, make_role, next_phone

    depts = list(make_dept_tree(app, {"甲": {"乙": {"丙": {}}, "丁": {}}}).values())
    roles = [make_role(app, f"ROLE_P{i}") for i in range(3)]
    server = start_server(database_url, instance_dir, workers=2)
    try:
        token = requests.post(f"{server.url}/api/oauth/token", timeout=60, json={
            "phone": ADMIN_PHONE, "password": ADMIN_PASSWORD, "grantType": "ADMIN"}).json()["data"]["token"]
        phones = [[next_phone() for _ in range(12)] for _ in range(6)]

        def client(n: int) -> list[str]:
            rng = random.Random(n)
            http = requests.Session()
            http.headers["Authorization"] = f"Bearer {token}"
            user = f"{server.url}/api/admin/system/user"
            failures, mine = [], []
            for phone in phones[n]:
                resp = http.post(f"{user}/create", timeout=60, json={
                    "phone": phone, "name": f"并发{n}", "password": "Passw0rd1", "state": rng.randint(0, 1),
                    "roleIds": rng.sample(roles, rng.randint(0, 2)), "deptId": rng.choice(depts)})
                if resp.status_code != 200:
                    failures.append(resp.text)
                    continue
                mine.append(resp.json()["data"])
                target = rng.choice(mine)
                change = rng.choice([{"roleIds": rng.sample(roles, rng.randint(0, 3))}, {"state": rng.randint(0, 1)},
                                     {"deptId": rng.choice(depts)}])
                resp = http.put(f"{user}/modify", timeout=60, json={"id": target, **change})
                if resp.status_code != 200:
                    failures.append(resp.text)
                if rng.random() < 0.3:
                    gone = mine.pop(rng.randrange(len(mine)))
                    resp = http.delete(f"{user}/{gone}/delete", timeout=60)
                    if resp.status_code != 200:
                        failures.append(resp.text)
            return failures

        def mover(_: int) -> list[str]:
            """Meanwhile a department with members moves back and forth (its subtree's counts move)."""
            http = requests.Session()
            http.headers["Authorization"] = f"Bearer {token}"
            failures = []
            for i in range(8):
                resp = http.put(f"{server.url}/api/admin/dept/modify", timeout=60, json={
                    "id": depts[2], "name": "丙", "parentId": depts[1] if i % 2 else depts[3]})
                if resp.status_code != 200:
                    failures.append(resp.text)
            return failures

        with ThreadPoolExecutor(7) as pool:
            failures = [f for result in pool.map(lambda n: client(n) if n < 6 else mover(n), range(7))
                        for f in result]
        assert not failures, failures[:3]
    finally:
        stop_server(server)
    _tally_matches_rows(app)


@pytest.mark.skipif(not is_postgres(), reason="SQLite serialises writers: one waits for the other's commit")
def test_two_transactions_adding_one_phone_never_deadlock_on_the_counts(app: Any, database_url: str) -> None:
    """An import holds the counts' lock from its first batch on; a create of a phone the import has yet to
    reach must wait for that lock before its row claims the phone, or the import's later batch waits for the
    create while the create waits for the import: PostgreSQL then kills one of them (a 503 to its user). With
    the lock taken first, the import goes through and the create finds the phone taken (a 409)."""
    import threading
    import time

    from sqlalchemy import create_engine
    from sqlalchemy.exc import IntegrityError

    insert_user = text("INSERT INTO sys_user (phone, name, password_hash, state, password_change_required, "
                       "gmt_created_date, gmt_modified_date) VALUES (:phone, 'x', 'x', 0, false, now(), now())")
    engine = create_engine(database_url, pool_size=3)
    outcome: dict[str, Any] = {}
    try:
        with engine.connect() as importer:
            importer.execute(insert_user, {"phone": "13700000001"})  # the import's first batch

            def create() -> None:
                try:
                    with engine.begin() as creator:
                        creator.execute(text("SET LOCAL application_name = 'pcloud_test_creator'"))
                        creator.execute(insert_user, {"phone": "13700000002"})
                    outcome["create"] = "committed"
                except Exception as error:  # noqa: BLE001 - the kind of failure is what is checked
                    outcome["create"] = error

            thread = threading.Thread(target=create)
            thread.start()
            with engine.connect() as watcher:  # the create is waiting for a lock (whichever it is)
                deadline = time.monotonic() + 10
                while not watcher.execute(text(
                        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'pcloud_test_creator' "
                        "AND wait_event_type = 'Lock'")).first():
                    watcher.rollback()  # the activity view is read once per transaction
                    assert time.monotonic() < deadline, "the create never waited"
                    time.sleep(0.02)
            importer.execute(insert_user, {"phone": "13700000002"})  # the import's later batch reaches it
            importer.commit()
            thread.join(30)
    finally:
        engine.dispose()
    assert isinstance(outcome["create"], IntegrityError), outcome["create"]  # the phone is taken: not a deadlock
    _tally_matches_rows(app)


def test_a_nul_in_a_list_filter_is_refused_at_the_filter_not_on_an_error_page(pages: PageClient, api: ApiClient,
                                                                             english_pages: PageClient) -> None:
    """A review: a NUL (%00) in a list page's filter (/system/user?phone=%00, a keyword) answered the guard's bare 400
    page. The list is shown as for any other refused filter: without it, a red flash naming it and why, 422; the other
    filters still apply. The API answers a NUL in a query 422 naming the parameter, as it answers one in a body."""
    from html import unescape

    make_user(pages.client.application, phone="13900000777", name="零字符")
    for url in ("/system/user?phone=%00", "/system/user/?phone=139%00"):
        resp = pages.client.get(url, follow_redirects=True)
        html = unescape(resp.get_data(as_text=True))
        assert resp.status_code == 422, (url, resp.status_code, html[:500])
        assert "筛选条件「手机号」不能包含空字符 (\\u0000)，已忽略该条件" in html
        assert "13900000777" in html and "13800000000" in html  # the list, unfiltered
    resp = pages.get("/system/user/?keyword=a%00b&phone=13900000777")
    html = unescape(resp.get_data(as_text=True))
    assert resp.status_code == 422 and "筛选条件「用户名」不能包含空字符 (\\u0000)，已忽略该条件" in html
    assert "13900000777" in html and "13800000000" not in html  # the phone filter still applies
    resp = pages.get("/system/log/?path=%00&page=%00")
    assert resp.status_code == 422 and "不能包含空字符" in unescape(resp.get_data(as_text=True))
    html = unescape(english_pages.get("/system/user/?phone=%00").get_data(as_text=True))
    assert "Filter 'Phone': Must not contain the null character (\\u0000); the filter was ignored" in html

    refused = api.get("/api/job/jobinfo/nextTriggerTime?cron=%00")
    body = refused.get_json()
    assert refused.status_code == 422 and body["code"] == 422, body
    assert body["errors"] == {"cron": ["不能包含空字符 (\\u0000)"]}
    assert body["msg"] == "参数校验失败：cron 不能包含空字符 (\\u0000)"
