"""The console at a phone's width and a laptop's: off-canvas menu, marked current page, folding
groups, tables that scroll instead of wrapping, long names clipped, a pager with size and jump."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import settle, sign_in, watch_console
from tests.factories import make_dept, make_role, make_user

LIST_PAGES = ["/system/user/", "/system/role/", "/system/dept/", "/system/post/", "/system/grade/",
              "/system/menu/", "/system/resource/", "/system/log/", "/personalized/mail/", "/personalized/sms/",
              "/personalized/upload/", "/mail/", "/monitor/online/", "/monitor/loginlog/",
              "/system/notice/", "/notices/", "/personalized/upload/storages/",
              "/system/dict/", "/system/dict/data?dict_type=job_handle_code", "/system/config/",
              "/system/role/2/users?assigned=false",  # 分配用户 (ROLE_ADMIN's, every user unassigned)
              "/job/info/", "/job/group/", "/job/log/", "/integration/segment/", "/open/account/", "/open/resource/"]

# Both checks below read where each text node of a cell lies: its nodes holding more than white space, each with its
# box on the screen (none when it is not laid out).
TEXT_BOXES = """
  const textBoxes = function (element) {
    const found = [];
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const box = range.getBoundingClientRect();
      if (box.width && box.height) found.push([node, box]);
    }
    return found;
  };"""

# A cell "narrower than its text" wraps its text over several lines; report any such cell. The lines counted are those
# in sight: a box that clips its text (a name cut after two lines, app.css .wrap-words) hides the lines past its edge.
WRAPPED_CELLS = """() => {""" + TEXT_BOXES + """
  const bad = [];
  for (const cell of document.querySelectorAll('table td, table th')) {
    const text = cell.innerText.trim();
    // a row's buttons may take two lines on a phone (app.css): they are no text squeezed
    if (!text || cell.querySelector('table, ul, .org-chart') || cell.matches('td.col-actions')) continue;
    const lh = parseFloat(getComputedStyle(cell).lineHeight) || 20;
    // the text's own height: a cell is as tall as its row, whose buttons may take two lines on a phone
    let top = Infinity, bottom = -Infinity;
    for (const [node, box] of textBoxes(cell)) {
      let shownTop = box.top, shownBottom = box.bottom;
      for (let el = node.parentElement; el !== cell; el = el.parentElement) {
        if (getComputedStyle(el).overflowY === 'visible') continue;
        const clip = el.getBoundingClientRect();
        shownTop = Math.max(shownTop, clip.top);
        shownBottom = Math.min(shownBottom, clip.bottom);
      }
      if (shownBottom > shownTop) { top = Math.min(top, shownTop); bottom = Math.max(bottom, shownBottom); }
    }
    if (bottom - top > 2.6 * lh) bad.push(text.slice(0, 40));
  }
  return bad;
}"""


# Text of a row that lies beneath the row's sticky actions cell, at the table's first position (scrolled to its left
# edge): each text node's box, cut where a box of the cell clips it (an ellipsis), against the actions cell's left edge.
UNDER_THE_ACTIONS = """() => {""" + TEXT_BOXES + """
  const under = [];
  for (const table of document.querySelectorAll('.table-responsive > table')) {
    if (!table.getBoundingClientRect().width) continue;  // a dialog's table, hidden
    for (const row of table.rows) {
      const actions = row.querySelector(':scope > .col-actions');
      if (!actions) continue;
      const left = actions.getBoundingClientRect().left;
      for (const cell of row.cells) {
        if (cell === actions) continue;
        for (const [node, box] of textBoxes(cell)) {
          let right = box.right;
          for (let el = node.parentElement; el !== row; el = el.parentElement) {
            if (getComputedStyle(el).overflowX !== 'visible') right = Math.min(right, el.getBoundingClientRect().right);
          }
          if (right > left + 0.5) {
            under.push(table.id + ': ' + node.textContent.trim().slice(0, 30) + ' @' + Math.round(right - left));
            break;
          }
        }
      }
    }
  }
  return under;
}"""


@pytest.mark.parametrize(("width", "lang"), [(1280, "zh"), (390, "zh"), (1280, "en"), (390, "en"), (1366, "zh"),
                                             (1366, "en")])
def test_every_list_page_fits_its_width(page: Any, app: Any, width: int, lang: str) -> None:
    """At a laptop's width (1280 and 1366 px) every column of every list is in sight beside the sticky actions, in
    either language, and the page never scrolls sideways (a review at 1280 px: 任务管理's 下次触发 lay beneath the
    actions, and in English 菜单管理's Updated at); on a phone the table scrolls within its card instead."""
    from pcloud.extensions import db
    from pcloud.notices import service as notices
    from tests.factories import (
        make_action_log,
        make_executor,
        make_job,
        make_open_account,
        make_open_entry,
        make_run,
        make_segment,
    )

    make_dept(app, "研" * 64)
    make_user(app, name="很长的名字" * 6)
    # a review: in English a user's built-in roles (Super administrator) put 用户管理's 创建时间 beneath the actions
    make_user(app, name="张三", role_codes=("ROLE_SUPER_ADMIN", "ROLE_ADMIN"))
    group = make_executor(app, "layout-app", nodes=("10.0.0.1:9999",))
    job = make_job(app, group, job_desc="Nightly settlement of the order ledger", trigger_status=1,
                   trigger_next_time=1_900_000_000_000)
    make_job(app, group, job_desc="Python clean-up", glue_type="GLUE_PYTHON", glue_source="print(1)",
             trigger_status=1, trigger_next_time=1_900_000_000_000)
    make_run(app, group, job, handle_code=200)
    make_segment(app, "order_number_for_east_china")
    entry = make_open_entry(app, "SegmentAllocationInterface", "/api/integration/segment/get/{bizTag}")
    make_open_account(app, "订单系统", (entry,))
    make_action_log(app, 1, "很长的操作标题" * 4)
    # a browser review: a role code of its full 64 characters, and a long name as the role's (and a dictionary's)
    # last editor, put 角色管理's (字典管理's) times beneath the sticky actions
    long_role = make_role(app, "ROLE_" + "X" * 59, "很长的角色名称" * 9)
    with app.app_context():
        from pcloud.dicts.models import DictType
        from pcloud.roles.models import Role

        db.session.get(Role, long_role).gmt_modified_name = "很长的名字" * 6
        db.session.execute(db.update(DictType).values(gmt_modified_name="很长的名字" * 6))
        db.session.commit()
        db.session.remove()
    # a browser review: a refused save's row, its path, message, an IPv6 client and its browser, put 操作日志's
    # 耗时 (and in English IP, Client) beneath 详情 at 1280 px
    make_action_log(app, 1, "角色分配用户", path="/system/role/1234/users/assign", status="fail",
                    msg="手机号已被其他用户使用", client_ip="2001:db8:85a3::8a2e:370:7334", os="Windows 10",
                    browser="HeadlessChrome 120.0.6099.28", cost_ms=12345)
    with app.app_context():
        notice = notices.create_notice({"title": "发布计划", "content": "x", "status": 1, "audience": {"all": True}}).id
        db.session.remove()
    # a review: a long name (a user's name of its allowed 64 characters) as the last editor of a storage, an SMS
    # template or a notice put 存储设置's, 短信模板's and 通知公告's times beneath the sticky actions at 1280 px
    with app.app_context():
        from pcloud.notices.models import Notice
        from pcloud.smstemplates.models import SmsTemplate
        from pcloud.uploads.models import Storage

        db.session.add_all([Storage(name="归档存储", type="DATABASE", bucket_name="sys_upload"),
                            SmsTemplate(code="NOTICE", name="通知", description="验证码 {code}")])
        db.session.commit()
        for model in (Storage, SmsTemplate, Notice):
            db.session.execute(db.update(model).values(gmt_modified_name="很长的名字" * 12 + "甲乙丙丁"))
        db.session.commit()
        db.session.remove()
    page.set_viewport_size({"width": width, "height": 900})
    errors = watch_console(page)
    sign_in(page)
    page.goto(f"/language/{lang}?next=/")  # the language menu's link
    for path in [*LIST_PAGES, f"/system/notice/{notice}/readers"]:
        page.goto(path)
        page.wait_for_load_state("load")
        assert page.evaluate(WRAPPED_CELLS) == [], (width, path)
        if width >= 1280:
            assert page.evaluate(UNDER_THE_ACTIONS) == [], (width, path)
            assert page.evaluate(PAGE_SCROLLS_SIDEWAYS) <= 1, (width, path)
    assert errors == []


def test_sidebar_is_off_canvas_on_a_phone(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in(page)
    menu_link = page.locator("#sidebar").get_by_role("link", name="用户管理")
    assert not menu_link.is_visible()
    page.get_by_test_id("menu-toggle").click()
    menu_link.wait_for(state="visible")
    menu_link.click()
    settle(page, "**/system/user/")
    assert page.locator("#sidebar [aria-current=page]").text_content().strip() == "用户管理"
    assert not page.locator("#sidebar").get_by_role("link", name="角色管理").is_visible()


def test_sidebar_marks_the_page_shows_icons_and_folds_groups(page: Any) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page)
    page.goto("/system/role/")
    current = page.locator("#sidebar [aria-current=page]")
    assert current.inner_text().strip() == "角色管理"
    assert current.locator("svg.bi").count() == 1  # the menu's icon
    page.goto("/")
    group = page.locator("#sidebar").get_by_role("button", name="系统管理")
    group.click()
    page.locator("#sidebar").get_by_role("link", name="用户管理").wait_for(state="hidden")
    page.reload()
    page.wait_for_load_state("load")
    assert not page.locator("#sidebar").get_by_role("link", name="用户管理").is_visible()  # remembered
    page.locator("#sidebar").get_by_role("button", name="系统管理").click()
    page.locator("#sidebar").get_by_role("link", name="用户管理").wait_for(state="visible")


def test_pager_changes_size_and_jumps(page: Any, app: Any) -> None:
    for n in range(25):
        make_user(app, name=f"翻页{n:02d}", phone=f"139000{n:05d}")
    sign_in(page)
    page.goto("/system/user/?keyword=翻页")
    page.get_by_label("每页条数").select_option("10")
    settle(page, "**size=10*")
    assert page.locator("#user-table tbody tr").count() == 10
    assert "keyword=" in page.url  # filters kept
    page.get_by_label("页码").fill("3")
    page.get_by_role("button", name="跳转").click()
    settle(page, "**page=3*")
    assert page.locator("#user-table tbody tr").count() == 5
    page.goto("/system/user/?keyword=翻页&size=10&page=99")
    page.wait_for_load_state("load")
    assert "page=3" in page.url and "第 3 / 3 页" in page.content()


# Each row's action buttons: their boxes inside the viewport and inside the table's card (issue 24.1).
ACTIONS_OUT_OF_SIGHT = """() => {
  const bad = [];
  // the list's card: the first one shown (a dialog's table, such as the user import's errors, is hidden)
  const card = [...document.querySelectorAll('.table-responsive')]
    .find(function (el) { return el.getBoundingClientRect().width > 0; }).getBoundingClientRect();
  const right = Math.min(card.right, window.innerWidth);
  for (const row of document.querySelectorAll('.table-responsive > table > tbody > tr')) {
    const cell = row.cells[row.cells.length - 1];
    for (const btn of cell.querySelectorAll('.btn, a')) {
      const box = btn.getBoundingClientRect();
      if (box.width === 0) continue;  // a dropdown's item, hidden until opened
      if (box.left < card.left - 1 || box.right > right + 1) {
        bad.push(btn.innerText.trim() + '@' + Math.round(box.right));
      }
    }
  }
  return bad;
}"""


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width", [1280, 1024, 390])
def test_row_actions_are_in_sight_on_the_busiest_lists(page: Any, app: Any, width: int, lang: str) -> None:
    from tests.factories import make_action_log, make_executor, make_job

    make_user(app, name="很长的名字" * 6)
    make_job(app, make_executor(app, "layout-app"))
    make_action_log(app, 1, "很长的操作标题" * 4)
    # a browser review: a refused save's row, its path, message, an IPv6 client and its browser, put 操作日志's
    # 耗时 (and in English IP, Client) beneath 详情 at 1280 px
    make_action_log(app, 1, "角色分配用户", path="/system/role/1234/users/assign", status="fail",
                    msg="手机号已被其他用户使用", client_ip="2001:db8:85a3::8a2e:370:7334", os="Windows 10",
                    browser="HeadlessChrome 120.0.6099.28", cost_ms=12345)
    page.set_viewport_size({"width": width, "height": 900})
    errors = watch_console(page)
    sign_in(page)
    page.goto(f"/language/{lang}?next=/")
    for path in ("/system/user/", "/system/role/", "/job/info/", "/system/log/"):
        page.goto(path)
        page.wait_for_load_state("load")
        assert page.locator(".table-responsive > table > tbody > tr > td:last-child :is(.btn, a)").count() > 0, path
        assert page.evaluate(ACTIONS_OUT_OF_SIGHT) == [], (width, path)
    assert errors == []


@pytest.mark.parametrize("width", [1280, 1024, 390])
def test_filters_fold_behind_a_button_on_a_phone(page: Any, app: Any, width: int) -> None:
    """Issue 24.7: on a phone the first screen shows data, the filter bar opens from 筛选."""
    make_user(app, name="筛选可见")
    page.set_viewport_size({"width": width, "height": 800})
    errors = watch_console(page)
    sign_in(page)
    page.goto("/system/user/")
    page.wait_for_load_state("load")
    bar = page.locator("form[role=search]").first
    toggle = page.locator(".filter-toggle").first
    if width < 768:
        assert not bar.is_visible() and toggle.is_visible()
        first_row = page.locator(".table-responsive tbody tr").first.bounding_box()
        assert first_row is not None and first_row["y"] < 800
        toggle.click()
        bar.wait_for(state="visible")
    else:
        assert bar.is_visible() and not toggle.is_visible()
    page.goto("/system/user/?name=筛选可见")
    page.wait_for_load_state("load")
    assert page.locator("form[role=search]").first.is_visible()  # an applied filter shows its bar
    assert errors == []


@pytest.mark.parametrize("width", [1280, 1024, 390])
def test_api_docs_lead_back_and_tags_do_not_wrap(page: Any, app: Any, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page)
    page.goto("/api/docs")
    page.locator(".swagger-ui .opblock-tag").first.wait_for()
    heights = page.evaluate("""() => Array.from(document.querySelectorAll('.swagger-ui .opblock-tag > a.nostyle'))
        .map(a => a.getBoundingClientRect().height)""")
    assert heights and max(heights) < 60, heights  # one line each, not a character per line
    page.get_by_test_id("docs-back").click()
    page.wait_for_url("**/")


@pytest.mark.parametrize("width", [1280, 1024, 390])
def test_the_open_account_grant_page_fits_the_width(page: Any, app: Any, width: int) -> None:
    from tests.factories import make_open_account, make_open_entry

    entry = make_open_entry(app, "SegmentAllocationInterface" * 2, "/api/integration/segment/get/{bizTag}")
    account = make_open_account(app, "订单系统", (entry,))
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page)
    page.goto(f"/open/account/{account}/grant")
    page.wait_for_load_state("load")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width


# Buttons and the pager's pieces that wrap (English is longer than Chinese): each must stay on one line.
WRAPPED_CONTROLS = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('main .btn, .pager .text-nowrap, .pager .page-link, .pager label')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0) continue;
    const lh = parseFloat(getComputedStyle(el).lineHeight) || 20;
    const pad = parseFloat(getComputedStyle(el).paddingTop) + parseFloat(getComputedStyle(el).paddingBottom);
    if (box.height - pad > 1.6 * lh) bad.push(el.innerText.trim().slice(0, 40));
  }
  return bad;
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_the_shared_pieces_fit_in_english(page: Any, app: Any, width: int) -> None:
    """Issue 24.10: the filter bar, the pager, the row actions and the form buttons in English, at a laptop's
    and a phone's width: nothing wraps a word per line, the actions stay in sight."""
    make_user(app, name="A rather long user name for the layout")
    page.set_viewport_size({"width": width, "height": 900})
    errors = watch_console(page)
    sign_in(page)
    page.goto("/language/en?next=/system/user/")
    settle(page, "**/system/user/")
    assert page.locator("html").get_attribute("lang") == "en"
    if width < 768:
        page.locator(".filter-toggle").first.click()
        page.locator("form[role=search]").first.wait_for(state="visible")
    assert page.evaluate(WRAPPED_CONTROLS) == [], width
    assert page.evaluate(ACTIONS_OUT_OF_SIGHT) == [], width
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.goto("/profile")
    page.wait_for_load_state("load")
    assert page.evaluate(WRAPPED_CONTROLS) == [], width
    assert errors == []


@pytest.mark.parametrize("width", [1280, 390])
def test_the_language_menu_switches_the_console_and_remembers_it(page: Any, width: int) -> None:
    """Issue 24.10: the language menu on the sign-in page and in the top bar; the choice holds across pages."""
    page.set_viewport_size({"width": width, "height": 900})
    errors = watch_console(page)
    page.goto("/login")
    page.get_by_test_id("language-menu").click()
    page.get_by_test_id("language-en").click()
    page.wait_for_url("**/login")
    assert page.locator("html").get_attribute("lang") == "en"
    sign_in(page)
    assert page.locator("html").get_attribute("lang") == "en"
    if width < 992:  # the sidebar is behind the menu button on a phone
        page.get_by_test_id("menu-toggle").click()
    sidebar = page.locator("#sidebar")
    assert sidebar.get_by_role("link", name="Users").first.is_visible()
    page.get_by_role("link", name="Users").first.click()
    page.wait_for_url("**/system/user/**")
    assert "Add user" in page.content()
    page.get_by_test_id("language-menu").click()
    page.get_by_test_id("language-zh").click()
    page.wait_for_url("**/system/user/**")
    assert page.locator("html").get_attribute("lang") == "zh-CN" and "新增用户" in page.content()
    assert errors == []


def test_the_next_page_takes_styles_scripts_and_icons_from_the_browser_s_cache(page: Any) -> None:
    """Only the page itself goes to the server on the next page: its stylesheets, scripts and icons are the
    ones the browser keeps (fingerprinted URLs), not asked for again, so nothing holds up its first paint.
    Chromium's own account of each request (DevTools protocol) says which were answered from its cache."""
    sign_in(page)
    page.goto("/system/user/")
    devtools = page.context.new_cdp_session(page)
    devtools.send("Network.enable")
    sent: dict[str, str] = {}
    cached: set[str] = set()
    devtools.on("Network.requestWillBeSent", lambda event: sent.setdefault(event["requestId"], event["request"]["url"]))
    devtools.on("Network.requestServedFromCache", lambda event: cached.add(event["requestId"]))
    devtools.on("Network.responseReceived",
                lambda event: cached.add(event["requestId"]) if event["response"].get("fromDiskCache") else None)
    page.goto("/system/role/")
    page.wait_for_load_state("load")
    assert page.locator("link[rel=stylesheet]").count() >= 2 and page.locator("svg.bi use").count() > 5
    to_server = [url for request_id, url in sent.items() if request_id not in cached]
    assert [url for url in to_server if "/static/" in url] == []
    assert [url for url in sent.values() if "/static/" in url], "the page names no static file"
    assert any(url.endswith("/system/role/") for url in to_server)


# Every item of an open 更多 menu is what a click at its centre hits: not a later row's button painted over it,
# nor cut off by the table's scrolling card (a review: 复制 on one job opened another job's run-once dialog).
MENU_ITEMS_HIDDEN = """() => {
  const menu = document.querySelector('.dropdown-menu.show');
  if (!menu) return ['no open menu'];
  const hidden = [];
  for (const item of menu.querySelectorAll('a, button')) {
    const box = item.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    if (!hit || !(item === hit || item.contains(hit))) hidden.push(item.textContent.trim());
  }
  return hidden;
}"""


@pytest.mark.parametrize("width", [1366, 390])
def test_a_rows_more_menu_lies_above_the_rows_below_it_and_inside_the_window(page: Any, app: Any,
                                                                            width: int) -> None:
    from tests.factories import make_executor, make_job, make_role

    group = make_executor(app, "menu-app")
    for n in range(4):
        make_job(app, group, job_desc=f"菜单测试任务{n}")
        make_role(app, f"ROLE_MENU_TEST_{n}", f"菜单测试角色{n}")
    page.set_viewport_size({"width": width, "height": 768})
    sign_in(page)
    for path in ("/job/info/", "/system/role/"):
        page.goto(path)
        toggles = page.locator("table .dropdown-toggle")
        assert toggles.count() >= 4, path
        for index in (0, toggles.count() - 1):  # the first row's menu over later rows; the last row's
            toggles.nth(index).scroll_into_view_if_needed()
            toggles.nth(index).click()
            page.locator(".dropdown-menu.show").wait_for()
            assert page.evaluate(MENU_ITEMS_HIDDEN) == [], (path, index)
            page.keyboard.press("Escape")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_job_list_shows_every_column_beside_the_actions_at_a_laptops_width(page: Any, app: Any,
                                                                              language: str) -> None:
    """The UX review: at 1366 px the job list's Status column (English) and its next fire times (Chinese, with
    a running job listed) lay beneath the sticky actions column. A schedule, a mode and a next fire time take two
    lines where the table would not fit, and in English a header of several words, so every column stays in
    sight."""
    from tests.factories import make_executor, make_job

    group = make_executor(app, "status-app")
    make_job(app, group, job_desc="Nightly settlement of the order ledger", trigger_status=1,
             trigger_next_time=1_900_000_000_000)
    make_job(app, group, job_desc="Python clean-up", glue_type="GLUE_PYTHON", glue_source="print(1)",
             trigger_status=1, trigger_next_time=1_900_000_000_000)
    make_job(app, group, job_desc="Shell report", glue_type="GLUE_SHELL", glue_source="echo 1")
    page.set_viewport_size({"width": 1366, "height": 768})
    errors = watch_console(page)
    sign_in(page)
    page.goto(f"/language/{language}?next=/job/info/")
    settle(page, "**/job/info/")
    assert page.locator("html").get_attribute("lang").startswith(language)
    assert page.evaluate(UNDER_THE_ACTIONS) == []  # the sweep's check (above), on this list's own rows
    assert page.evaluate(WRAPPED_CELLS) == []
    assert errors == []


# Text that spills out of its box inside a card (a label kept on one line, wider than its card); a box that scrolls
# or clips on purpose (a wide table's, a truncated name's) is left out.
OUT_OF_CARD = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('.card *')) {
    if (getComputedStyle(el).overflowX !== 'visible' || el.closest('.table-responsive')) continue;
    if (el.clientWidth && el.scrollWidth > el.clientWidth + 1) bad.push(el.innerText.slice(0, 40));
  }
  return bad;
}"""


@pytest.mark.parametrize(("width", "lang"), [(1200, "en"), (1280, "en"), (390, "en"), (1200, "zh")])
def test_the_home_page_figures_keep_their_labels_inside_their_cards(page: Any, width: int, lang: str) -> None:
    """The home page's six figures a row from 1200 px: an English label such as "Executor nodes online" ran past its
    card's edge at a laptop's width; a label wraps instead."""
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page)
    page.goto(f"/language/{lang}?next=/")
    page.wait_for_load_state("load")
    assert page.get_by_test_id("figures").is_visible()
    assert page.evaluate(OUT_OF_CARD) == [], (width, lang)


@pytest.mark.parametrize(("width", "lang"), [(992, "en"), (1280, "en"), (1280, "zh")])
def test_the_sidebar_holds_its_longest_labels_within_its_column(page: Any, width: int, lang: str) -> None:
    """English labels longer than a sixth of a laptop's window ("Access resources" below System) kept on one line
    pushed every link past the column's edge; a label wraps beside its icon now, and a single word fits."""
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page)
    page.goto(f"/language/{lang}?next=/system/resource/")
    page.wait_for_load_state("load")
    sizes = page.evaluate("() => [...document.querySelectorAll('#sidebar ul')].filter(u => u.clientWidth)"
                          ".map(u => [u.scrollWidth, u.clientWidth])")
    assert sizes and all(scroll <= client for scroll, client in sizes), sizes
    main = page.locator("main").bounding_box()
    assert main["y"] < 100 and main["x"] + main["width"] <= width + 0.5  # the page beside the menu, not below it
    link = page.locator("#sidebar a[aria-current=page]")
    icon, label = link.locator("svg").bounding_box(), link.locator("span").bounding_box()
    assert label["x"] > icon["x"] + icon["width"]  # a wrapped label stays beside its icon


# The page is no wider than the window: nothing pushes a phone's page sideways.
PAGE_SCROLLS_SIDEWAYS = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.mark.parametrize(("width", "lang"), [(390, "zh"), (390, "en"), (1280, "en")])
def test_a_long_title_wraps_beside_its_buttons(page: Any, app: Any, width: int, lang: str) -> None:
    """A visual audit with realistic data: at 390 px an unbroken bizTag in the head of a segment's edit and cache pages
    pushed the page 150-220 px wider than the phone (刷新 beyond the window, wrapped a character a line), and a run's
    long job description squeezed 返回日志列表 to a character a line; in English "Add dictionary item" beside its title
    took two lines. The title wraps now (an unbroken word too) and the buttons keep their words on one line."""
    from tests.factories import make_executor, make_job, make_run, make_segment

    tag = "order_number_for_east_china_region_settlement"
    make_segment(app, tag)
    group = make_executor(app, "audit-app")
    job = make_job(app, group, job_desc="Generate the quarterly enterprise customer success report and send it to "
                                         "every account manager by email")
    run = make_run(app, group, job, handle_code=200)
    page.set_viewport_size({"width": width, "height": 844})
    errors = watch_console(page)
    sign_in(page)
    page.goto(f"/language/{lang}?next=/")
    for path in (f"/integration/segment/{tag}/cache", f"/integration/segment/{tag}/edit", f"/job/log/{run}",
                 "/system/dict/data?dict_type=sys_user_state"):
        page.goto(path)
        page.wait_for_load_state("load")
        assert page.evaluate(PAGE_SCROLLS_SIDEWAYS) <= 1, (width, path)
        assert page.evaluate(WRAPPED_CONTROLS) == [], (width, path)
    assert errors == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_parameter_s_default_fits_a_phone(page: Any, lang: str) -> None:
    """The audit: a parameter's edit page named its environment variable (PCLOUD_ACTION_LOG_RETENTION_DAYS) in one
    unbroken word beside its default, and at 390 px the page scrolled 50 px sideways; the value breaks in its column."""
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page)
    page.goto(f"/language/{lang}?next=/system/config/")
    for key in ("sys.log.actionRetentionDays", "sys.password.changeAtFirstSignIn"):
        page.goto(f"/system/config/{key}/edit")
        page.wait_for_load_state("load")
        assert page.evaluate(PAGE_SCROLLS_SIDEWAYS) <= 1, key
        assert page.evaluate(OUT_OF_CARD.replace("'.card *'", "'main dd'")) == [], key


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_role_with_a_long_code_reads_whole_in_the_user_form(page: Any, app: Any, lang: str) -> None:
    """The audit: in the user form's role list a role named "Enterprise Customer Success Administrator" with its code
    ROLE_ENTERPRISE_CUSTOMER_SUCCESS_ADMIN was cut at the list's right edge at 390 px; the label wraps in the list."""
    from tests.factories import make_role

    make_role(app, "ROLE_ENTERPRISE_CUSTOMER_SUCCESS_ADMIN", "Enterprise Customer Success Administrator")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page)
    page.goto(f"/language/{lang}?next=/system/user/new")
    page.wait_for_load_state("load")
    box = page.locator(".checkbox-list").first
    assert box.get_by_text("ROLE_ENTERPRISE_CUSTOMER_SUCCESS_ADMIN").count() == 1
    spilled = box.evaluate("""list => [...list.querySelectorAll('.form-check, .form-check-label')]
        .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.innerText)""")
    assert spilled == [] and box.evaluate("list => list.scrollWidth <= list.clientWidth + 1")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_home_page_s_notices_show_their_titles_on_a_phone(page: Any, app: Any, lang: str) -> None:
    """The audit: on the home page at 390 px the notice's kind and date kept their line and left the title a letter
    and an ellipsis ("关…"), the 未读 (Unread) badge cut in half under an announcement's longer date; below 576 px the
    kind and date go below the title."""
    from pcloud.extensions import db
    from pcloud.notices import service

    with app.app_context():
        for n in range(2):
            service.create_notice({"title": "关于十二月份华东区域订单中心与结算系统升级维护窗口安排的通知",
                                   "content": "x", "status": 1, "notice_type": 2 - n, "audience": {"all": True}})
        db.session.remove()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page)
    page.goto(f"/language/{lang}?next=/")
    page.wait_for_load_state("load")
    for link in page.locator("[data-testid=home-notices] li a").all():
        badge, box = link.locator(".badge").bounding_box(), link.bounding_box()
        assert badge["x"] + badge["width"] <= box["x"] + box["width"]  # the badge whole
        assert box["width"] - badge["width"] > 150  # and room for the title beside it


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_busy_row_s_actions_leave_its_name_readable_on_a_phone(page: Any, app: Any, lang: str) -> None:
    """The visual audit: at 390 px the job list's sticky actions (编辑 启动 执行一次 更多) were as wide as most of the
    card and covered the job's description, the column that says which job a row is; they take two lines now."""
    from tests.factories import make_executor, make_job

    make_job(app, make_executor(app, "phone-app"), job_desc="每日订单结算汇总")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page)
    page.goto(f"/language/{lang}?next=/job/info/")
    page.wait_for_load_state("load")
    row = page.locator(".table-responsive > table > tbody > tr").first
    name = row.locator("td:nth-child(3)").bounding_box()
    actions = row.locator("td.col-actions").bounding_box()
    assert actions["x"] - name["x"] >= 100, (name, actions)  # at least 100 px of the description in sight
    card = page.locator(".table-responsive").first.bounding_box()
    assert actions["x"] + actions["width"] <= card["x"] + card["width"] + 1  # and the actions still in sight


# Each cell of a notice's Markdown table whose text takes more than one line, with the width its text has (px).
NARROW_WRAPPED_CELLS = """body => {
  const bad = [];
  for (const cell of body.querySelectorAll('table td, table th')) {
    const text = cell.innerText.trim();
    if (!text) continue;
    const range = document.createRange();
    range.selectNodeContents(cell);
    const lines = Math.round(range.getBoundingClientRect().height / parseFloat(getComputedStyle(cell).lineHeight));
    const style = getComputedStyle(cell);
    const width = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (lines > 1 && width < 100) bad.push(text.slice(0, 20) + '@' + Math.round(width) + 'px');
  }
  return bad;
}"""


@pytest.mark.parametrize(("width", "lang"), [(390, "zh"), (390, "en"), (1280, "zh"), (1280, "en")])
def test_a_notice_s_markdown_table_keeps_its_cells_readable_on_a_phone(page: Any, app: Any, width: int,
                                                                         lang: str) -> None:
    """A notice's Markdown table of four columns on a phone: first it ran past its card's edge and the whole page
    scrolled 100 px sideways (the audit), then, kept within the card, each column was squeezed to a few characters a
    line (华东区域 / 全部门店 / 的下单..., the visual audit). A cell keeps a readable width now (8em) and the table
    scrolls sideways within the card, never out of it."""
    from pcloud.extensions import db
    from pcloud.notices import service

    content = ("| 系统 | 负责人 | 时间窗口 | 影响范围 |\n|---|---|---|---|\n"
               "| 订单中心 OrderCenterService | 欧阳晓明 | 2026-12-10 22:00-23:59 "
               "| 华东区域全部门店的下单、支付与退款接口 |\n"
               "| Billing | Alexandra Konstantinopoulou-Whitfield | 2026-12-11 | All enterprise accounts |\n")
    with app.app_context():
        notice = service.create_notice({"title": "发布计划", "content": content, "status": 1,
                                        "audience": {"all": True}}).id
        db.session.remove()
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page)
    page.goto(f"/language/{lang}?next=/notices/{notice}")
    settle(page, f"**/notices/{notice}")
    body = page.get_by_test_id("notice-body")
    assert body.locator("table").count() == 1
    assert body.evaluate(NARROW_WRAPPED_CELLS) == [], width
    table, card = body.locator("table").bounding_box(), body.bounding_box()
    assert table["x"] + table["width"] <= card["x"] + card["width"] + 0.5  # inside its card
    assert page.evaluate(PAGE_SCROLLS_SIDEWAYS) <= 1
    if width < 576:  # wider than a phone's card: it scrolls within it
        assert body.locator("table").evaluate("t => t.scrollWidth > t.clientWidth + 1")


# The left edge (px) of each line of a checkbox label's name, its leading indentation left out.
NAME_LINES = """label => {
  const node = [...label.childNodes].find(function (n) { return n.nodeType === 3 && n.textContent.trim(); });
  const start = node.textContent.length - node.textContent.replace(/^[\\s\\u3000]+/, '').length;
  const range = document.createRange();
  range.setStart(node, start);
  range.setEnd(node, node.textContent.length);
  const lefts = [];
  let top = null;
  for (const rect of range.getClientRects()) {
    if (rect.width === 0 || rect.top === top) continue;
    top = rect.top;
    lefts.push(Math.round(rect.left));
  }
  return lefts;
}"""


@pytest.mark.parametrize(("width", "lang"), [(390, "zh"), (390, "en"), (1280, "zh")])
def test_a_role_s_custom_department_keeps_its_indent_when_its_name_wraps(page: Any, app: Any, width: int,
                                                                        lang: str) -> None:
    """The visual audit: in the role form's 自定义部门 list a long department name three levels down wrapped back to
    the list's left edge, under its parent, so the tree read wrong; every line of a name keeps its level's indent."""
    top = make_dept(app, "华东区域")
    middle = make_dept(app, "订单中心", top)
    long_name = "订单中心与结算系统升级维护保障及应急响应工作小组" * 2 + "East China Settlement Working Group"
    make_dept(app, long_name, middle)
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page)
    page.goto(f"/language/{lang}?next=/system/role/new")
    settle(page, "**/system/role/new")
    items = page.locator(".checkbox-list", has=page.locator("input[name=dept_ids]"))
    parent = items.locator("label", has_text=re.compile("^[\\s\u3000]*订单中心$")).evaluate(NAME_LINES)
    lines = items.locator("label", has_text="East China").evaluate(NAME_LINES)
    assert len(lines) > 1, lines  # the name wraps
    assert max(lines) - min(lines) <= 1, lines  # every line at its first line's left edge
    assert lines[0] > parent[0] + 10, (lines, parent)  # a level below its parent


# The page head's title: how many lines it takes.
TITLE_LINES = """() => {
  const title = document.querySelector('.page-head > h1');
  const range = document.createRange();
  range.selectNodeContents(title);
  return Math.round(range.getBoundingClientRect().height / parseFloat(getComputedStyle(title).lineHeight));
}"""


@pytest.mark.parametrize(("width", "lang"), [(390, "zh"), (390, "en"), (1280, "zh"), (1280, "en")])
def test_a_list_s_title_is_not_squeezed_by_its_buttons(page: Any, app: Any, width: int, lang: str) -> None:
    """The visual audit: at 390 px the job list's title 任务管理 stood a character or two a line beside its four
    buttons (导出选中 导出全部 导入 新增任务), "Jobs" broken in the middle; the title keeps its line and the buttons go
    below it."""
    from tests.factories import make_executor, make_job

    make_job(app, make_executor(app, "title-app"))
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page)
    page.goto(f"/language/{lang}?next=/")
    for path in ("/job/info/", "/job/group/", "/job/log/", "/system/user/", "/system/role/", "/system/dept/"):
        page.goto(path)
        page.wait_for_load_state("load")
        assert page.evaluate(TITLE_LINES) == 1, (width, path)
        assert page.evaluate(WRAPPED_CONTROLS) == [], (width, path)
        assert page.evaluate(PAGE_SCROLLS_SIDEWAYS) <= 1, (width, path)


# A label broken inside a word ("Departmen" / "t"): its text takes more lines than its longest word allows.
BROKEN_LABELS = """selector => [...document.querySelectorAll(selector)].filter(el => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const lines = range.getClientRects().length;
  const words = el.innerText.trim().split(/\\s+/).length;
  return lines > words;
}).map(el => el.innerText.trim())"""


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_profile_s_labels_keep_their_words_whole_on_a_phone(page: Any, lang: str) -> None:
    """A browser review: at 390 px the English profile's 基本信息 read "Departmen" above "t", its label column a
    third of the card; the labels keep their words whole."""
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page)
    page.goto(f"/language/{lang}?next=/profile")
    page.wait_for_load_state("load")
    assert page.evaluate(BROKEN_LABELS, "main dl dt") == []
    assert page.evaluate(PAGE_SCROLLS_SIDEWAYS) <= 1


@pytest.mark.parametrize(("width", "lang"), [(390, "en"), (390, "zh"), (1280, "en")])
def test_the_bell_s_menu_opens_inside_the_window(page: Any, width: int, lang: str) -> None:
    """A browser review: on a phone the bell sits at the left of the top bar's second line, and its menu, aligned to
    the bell's right edge, opened 97 px past the window's left edge: 站内信 and 通知公告 were cut to their badges."""
    page.set_viewport_size({"width": width, "height": 844})
    sign_in(page)
    page.goto(f"/language/{lang}?next=/")
    page.wait_for_load_state("load")
    page.get_by_test_id("bell").click()
    menu = page.locator(".dropdown-menu.show")
    menu.wait_for()
    left, right = menu.evaluate("m => { const r = m.getBoundingClientRect(); return [r.left, r.right]; }")
    assert left >= 0 and right <= width, (left, right)


# A filter select whose chosen option is wider than the room its box leaves beside its arrow (the text cut).
CLIPPED_SELECTS = """() => {
  const ctx = document.createElement('canvas').getContext('2d');
  const bad = [];
  for (const select of document.querySelectorAll('form[role=search] select')) {
    const style = getComputedStyle(select);
    ctx.font = style.font;
    const text = select.options[select.selectedIndex].text;
    const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (ctx.measureText(text).width > room + 0.5) bad.push(`${select.name}: ${text}`);
  }
  return bad;
}"""


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width", [1280, 1024])
def test_the_log_filters_say_which_filter_each_choice_is(page: Any, width: int, lang: str) -> None:
    """A browser review: 登录日志's three choices read 全部 / 全部 / 全部 at 1280 px (All e / All m / All in English),
    and 操作日志's 结果 全部, each in a column a twelfth of the bar wide (7 px beside the arrow at 1024 px): nobody
    could tell the event's from the sign-in method's or the result's. Each choice shows its whole 全部事件,
    全部方式, 全部结果."""
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page)
    page.goto(f"/language/{lang}?next=/")
    for path in ("/monitor/loginlog/", "/system/log/"):
        page.goto(path)
        page.wait_for_load_state("load")
        assert page.evaluate(CLIPPED_SELECTS) == [], path
        name = "result" if path == "/monitor/loginlog/" else "status"
        assert page.locator(f"select[name={name}] option").first.inner_text() in ("全部结果", "All results")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_login_log_shows_every_column_beside_the_actions_at_a_laptops_width(page: Any, language: str) -> None:
    """A browser review: at 1366 px (and 1280) the login log's 客户端 and 详情 lay beneath its sticky 操作 column,
    in both languages: the rows' only way to their detail could not be seen without scrolling the table sideways,
    and a failed row's 解锁账号 解锁 IP (Unlock account Unlock IP) side by side left the other columns less room.
    详情 is the first of a row's actions, a time takes two lines where the table would not fit (its date and its
    time whole), and a failed row's buttons stack."""
    page.set_viewport_size({"width": 1366, "height": 768})
    errors = watch_console(page, form_4xx_expected=True)
    page.goto("/login")
    page.locator("#pw-phone").fill("13900000000")
    page.locator("#pw-password").fill("wrong-password1")
    with page.expect_navigation():
        page.locator("#login-password").click()
    sign_in(page)
    page.goto(f"/language/{language}?next=/monitor/loginlog/")
    settle(page, "**/monitor/loginlog/")
    assert page.locator("#login-log-table button").count() >= 2  # a failed row's 解锁账号 and 解锁 IP
    assert page.evaluate(UNDER_THE_ACTIONS) == []
    assert page.evaluate(WRAPPED_CELLS) == []
    assert page.locator("#login-log-table td.col-actions a").first.is_visible()
    assert errors == []


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_online_list_shows_every_column_beside_the_actions_at_1280_px(page: Any, language: str) -> None:
    """A browser review: at 1280 px the English 在线用户 list's Last active times lay beneath its sticky Actions
    column (2026-12-07 07:1 and the rest hidden). A time takes two lines where the table would not fit (its date
    and its time each whole), so every column is in sight beside the actions."""
    page.set_viewport_size({"width": 1280, "height": 800})
    errors = watch_console(page)
    from tests.conftest import ADMIN_PASSWORD, ADMIN_PHONE

    answer = page.request.post("/api/oauth/token", data={"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD,
                                                         "grantType": "ADMIN"})
    assert answer.ok  # a second session, of the API: a row with 强退
    sign_in(page)
    page.goto(f"/language/{language}?next=/monitor/online/")
    settle(page, "**/monitor/online/")
    assert page.locator("#online-table button").count() >= 1
    assert page.evaluate(UNDER_THE_ACTIONS) == []
    assert page.evaluate(WRAPPED_CELLS) == []
    assert errors == []


# The top bar's avatar: [shown, loaded (its natural width), its box, round] of its image; None without one.
TOP_BAR_AVATAR = """() => {
  const img = document.querySelector('[data-testid=current-user] img');
  if (!img) return null;
  const box = img.getBoundingClientRect();
  return [!img.hidden && box.width > 0, img.naturalWidth > 0, Math.round(box.width), Math.round(box.height),
          getComputedStyle(img).borderTopLeftRadius];
}"""
PERSON_ICON_SHOWN = "() => !!document.querySelector('[data-testid=current-user] svg')?.getBoundingClientRect().width"


@pytest.mark.parametrize(("width", "lang"), [(1280, "zh"), (390, "en")])
def test_the_top_bar_shows_the_user_s_avatar(page: Any, width: int, lang: str, tmp_path: Any) -> None:
    """RuoYi's users look for their avatar at the top right: the one uploaded in 个人中心 shows there, small and round,
    on every page; without one, the person icon and no image; an address that brings no image (no such host) shows
    the person icon, not a broken image."""
    from tests.test_uploads import image_bytes

    picture = tmp_path / "me.png"
    picture.write_bytes(image_bytes(size=(64, 48)))
    page.set_viewport_size({"width": width, "height": 844})
    errors = watch_console(page)
    sign_in(page)
    page.goto(f"/language/{lang}?next=/profile")
    settle(page, "**/profile")
    assert page.evaluate(TOP_BAR_AVATAR) is None and page.evaluate(PERSON_ICON_SHOWN)
    page.locator("#profile-avatar_file").set_input_files(str(picture))
    page.locator("form:has(#profile-avatar_file) button[type=submit]").click()
    settle(page, "**/profile")
    page.goto("/system/user/")
    page.wait_for_load_state("load")
    src = page.locator("[data-testid=current-user] img").get_attribute("src")
    assert src.startswith("/api/oss/files/")
    shown, loaded, box_width, box_height, radius = page.evaluate(TOP_BAR_AVATAR)
    assert shown and loaded and box_width == box_height and 16 <= box_width <= 32, (box_width, box_height)
    assert radius == "50%" and not page.evaluate(PERSON_ICON_SHOWN)
    assert page.evaluate(PAGE_SCROLLS_SIDEWAYS) <= 1
    page.goto("/profile")
    page.locator("#profile-avatar").fill("https://avatar.invalid/me.png")
    page.locator("form:has(#profile-avatar_file) button[type=submit]").click()
    settle(page, "**/profile")
    page.goto("/")
    page.wait_for_load_state("load")
    page.wait_for_function("() => document.querySelector('[data-testid=current-user] img').hidden")
    assert page.evaluate(PERSON_ICON_SHOWN)
    assert [e for e in errors if "avatar.invalid" not in e and "ERR_NAME_NOT_RESOLVED" not in e] == []


BADGE_OUTSIDE_ITS_CELL = """() => [...document.querySelectorAll('[data-testid=beyond-reach]')].filter(function (badge) {
  return badge.getBoundingClientRect().right > badge.closest('td').getBoundingClientRect().right + 0.5;
}).length"""


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_catalogue_shows_every_column_beside_the_actions_at_1280_px(page: Any, app: Any, language: str) -> None:
    """A browser review: at 1280 px the English 接口目录's Created at lay beneath its sticky Actions column, the more so
    once the ID service's entries are marked 内置 and an entry beyond the administrator's reach says so in place of
    its buttons (超出您的权限, which also ran past a phone's screen). A name and a time take two lines where the table
    would not fit (a time's date and its time each whole), and the mark its words: every column is in sight beside
    the actions, for the super administrator and for one who holds only the open platform."""
    from tests.factories import grant_role, make_open_entry, make_role, route_code

    role = make_role(app, "ROLE_OPEN_ONLY")
    codes = tuple(route_code(rule.endpoint, method) for rule in app.url_map.iter_rules()
                  if rule.endpoint.startswith("openplatform_api.")
                  for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    grant_role(app, role, menu_paths=("/open", "/open/account", "/open/resource"), resource_codes=codes)
    make_user(app, phone="13900000077", password="Passw0rd1", role_ids=[role])
    make_open_entry(app, "用户列表", "/api/admin/system/user/page")
    errors = watch_console(page)
    for who in ((), ("13900000077", "Passw0rd1")):  # the super administrator, then the open platform's
        page.context.clear_cookies()
        page.set_viewport_size({"width": 1280, "height": 800})
        sign_in(page, *who)
        page.goto(f"/language/{language}?next=/open/resource/")
        settle(page, "**/open/resource/")
        assert page.evaluate(UNDER_THE_ACTIONS) == [], who
        page.set_viewport_size({"width": 390, "height": 800})
        assert page.evaluate(BADGE_OUTSIDE_ITS_CELL) == 0, who
    assert page.locator("[data-testid=beyond-reach]").count() == 3  # the two built-in entries and the user list's
    assert errors == []
