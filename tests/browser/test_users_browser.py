"""用户管理 in a real browser: create, filter, edit, force offline, export, sign out."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import confirm_modal, settle, sign_in, watch_console


def test_user_lifecycle_in_the_browser(page: Any, browser: Any, live_server: Any, app: Any) -> None:
    sign_in(page)
    page.get_by_role("link", name="用户管理").click()
    page.wait_for_url("**/system/user/")

    # create
    page.get_by_role("link", name="新增用户").click()
    page.locator("#phone").fill("13912345678")
    page.locator("#name").fill("浏览器用户")
    page.locator("#password").fill("Browser123")
    page.get_by_label("超级管理员（ROLE_SUPER_ADMIN）").check()
    page.get_by_role("button", name="保存").click()
    page.get_by_text("用户「浏览器用户」已创建").wait_for()

    # a second browser signs in as the new user, so we can force it offline later
    other = browser.new_context(base_url=live_server.url)
    other_tab = other.new_page()
    sign_in(other_tab, "13912345678", "Browser123")

    # find it with the filters
    page.get_by_placeholder("用户名").fill("浏览器")
    page.get_by_role("button", name="查询").click()
    settle(page, "**keyword=*")
    rows = page.locator("#user-table tbody tr")
    assert rows.count() == 1 and "13912345678" in rows.first.inner_text()
    assert rows.first.get_by_test_id("online").is_visible()

    # edit
    rows.first.get_by_role("link", name="编辑").click()
    page.locator("#name").fill("浏览器用户改")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("用户「浏览器用户改」已保存").wait_for()

    # force offline, behind the confirmation
    page.get_by_placeholder("用户名").fill("浏览器用户改")
    page.get_by_role("button", name="查询").click()
    settle(page, "**keyword=%E6%B5%8F%E8%A7%88%E5%99%A8%E7%94%A8%E6%88%B7%E6%94%B9*")
    page.locator("#user-table tbody tr").first.get_by_role("button", name="强制下线").click()
    confirm_modal(page)
    page.get_by_text("已强制「浏览器用户改」下线").wait_for()
    other_tab.goto("/system/user/")
    assert "/login" in other_tab.url  # the other browser's session is gone
    other.close()

    # export the filtered list and read the file
    with page.expect_download() as download_info:
        page.locator("#export-btn").click()
    download = download_info.value
    assert download.suggested_filename == "用户信息.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()), read_only=True).active
    rows_in_file = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows_in_file[0][:3] == ["用户名", "手机号码", "角色"]
    assert [r[:3] for r in rows_in_file[1:]] == [["浏览器用户改", "13912345678", "超级管理员"]]

    # sign out
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/login")
    page.goto("/system/user/")
    assert "/login" in page.url


def test_delete_user_after_confirming(page: Any, live_server: Any, app: Any) -> None:
    from tests.factories import make_user

    make_user(app, phone="13912340000", name="待删除用户")
    sign_in(page)
    page.goto("/system/user/?keyword=待删除")
    page.get_by_role("button", name="删除").click()
    page.get_by_role("button", name="取消").click()  # cancelling leaves it alone
    assert page.locator("#user-table tbody tr").count() == 1
    page.get_by_role("button", name="删除").click()
    confirm_modal(page)
    page.get_by_text("用户「待删除用户」已删除").wait_for()
    page.goto("/system/user/?keyword=待删除")
    page.get_by_text("没有符合条件的用户").wait_for()


def test_the_user_list_by_keyboard(page: Any, live_server: Any, app: Any) -> None:
    """A keyboard and screen-reader review of 用户管理's list: every page's first Tabs went through the top bar and the
    sidebar's thirty-odd links before reaching the page's own content, with no way past them; a sorted column said its
    order only by an arrow (read as a shape); and the pager's page size, reached by Tab, reloaded the page at the first
    arrow key, the focus back at the top, so that only the next size was ever in reach; the breadcrumbs' last item was
    not said to be the current page. Now the first Tab shows
    跳到主要内容, whose Enter takes the next Tab into the page; the sorted header says its order (aria-sort); an arrow
    key changes the size, Enter loads it, and a choice with the mouse loads at once as before; the last crumb is
    aria-current."""
    sign_in(page)
    page.goto("/system/user/?sort=name&dir=asc")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到主要内容")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box and box["y"] >= 0 and box["width"] > 20
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator("main .breadcrumb a").first).to_be_focused()
    expect(page.locator('main .breadcrumb [aria-current="page"]')).to_have_text("用户管理")  # heard as the current page

    sorted_header = page.locator("#user-table th[aria-sort]")
    expect(sorted_header).to_have_count(1)
    expect(sorted_header).to_have_attribute("aria-sort", "ascending")
    expect(sorted_header.get_by_role("link")).to_have_accessible_name("用户名")

    size = page.locator("select[name=size]")
    size.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(size).to_have_value("100")
    expect(size).to_be_focused()
    page.keyboard.press("Enter")
    settle(page, "**/system/user/?*size=100*")
    assert "sort=name" in page.url and "dir=asc" in page.url  # the list's sorting kept
    page.locator("select[name=size]").select_option("10")
    settle(page, "**/system/user/?*size=10&*")


def test_the_user_form_by_keyboard(page: Any, live_server: Any, app: Any) -> None:
    """A keyboard and screen-reader review of the user form: saved with its required fields empty, it came back with
    the focus at the top of the page and the errors in red under their fields but tied to nothing, so a screen reader
    heard neither which field was refused nor why; the password's rule under it was not read with it; 状态's radios and
    角色's boxes were heard without their group's name; the department picker, tabbed through, stayed open over the
    fields below it, and its up and down keys scrolled the page. Now the first refused field has the focus, each field
    is described by its errors and hint and marked invalid, the groups are named, the picker's arrows move between
    its names and tabbing past it closes it."""
    from tests.factories import make_dept

    make_dept(app, "键盘部门")
    sign_in(page)
    page.goto("/system/user/new")
    expect(page.get_by_role("radiogroup", name="状态")).to_be_visible()
    expect(page.get_by_role("group", name="角色")).to_be_visible()
    expect(page.locator("#password")).to_have_accessible_description(re.compile("至少"))

    picker = page.locator("#dept_id-picker")
    picker.focus()
    page.keyboard.press("Enter")
    panel = page.locator(".tree-select").first.locator(".tree-select-panel")
    expect(panel).to_be_visible()
    page.keyboard.press("ArrowDown")  # from the filter box to the first name, （无）
    page.keyboard.press("ArrowDown")
    expect(panel.get_by_role("treeitem", name="键盘部门", exact=True)).to_be_focused()
    page.keyboard.press("Tab")  # past the last name: out of the picker, which closes
    expect(page.locator("#post_id-picker")).to_be_focused()
    expect(panel).to_be_hidden()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(picker).to_be_focused()
    expect(picker).to_have_text("键盘部门")

    page.get_by_role("button", name="保存").focus()
    page.keyboard.press("Enter")
    settle(page, "**/system/user/new*")
    phone = page.locator("#phone")
    expect(phone).to_be_focused()
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_accessible_description("请输入手机号码")
    expect(page.locator("#name")).to_have_accessible_description("请输入用户名")
    expect(page.locator("#password")).to_have_accessible_description(re.compile("^请设置初始密码 至少"))
    expect(page.locator("#dept_id-picker")).to_have_text("键盘部门")  # the pick kept


def test_the_department_picker_folds_and_unfolds_by_keyboard(page: Any, live_server: Any, app: Any) -> None:
    """A keyboard and screen-reader review of the department picker: its arrows moved up and down between the names,
    but only a mouse could fold or unfold a branch, and a screen reader heard each name as a button, never whether a
    branch was open nor at which level it lay. It is a tree as WAI-ARIA's tree view pattern has it: each name a tree
    item (its level, open or folded, the picked one selected), one Tab stop; right opens a folded branch, then goes to
    its first child; left folds an open one, else goes to the parent; Home and End go to the first and last name shown.
    The mouse's fold button says the same."""
    from tests.factories import make_dept_tree

    make_dept_tree(app, {"键总部": {"键研发部": {"键平台组": {}}, "键市场部": {}}})
    sign_in(page)
    page.goto("/system/user/new")
    page.locator("#dept_id-picker").focus()
    page.keyboard.press("Enter")
    tree = page.get_by_role("tree", name="部门")
    expect(tree).to_be_visible()

    def item(name: str) -> Any:
        return tree.get_by_role("treeitem", name=name, exact=True)

    top, rnd, platform, market = item("键总部"), item("键研发部"), item("键平台组"), item("键市场部")
    expect(top).to_have_attribute("aria-level", "1")
    expect(platform).to_have_attribute("aria-level", "3")
    expect(item("（无）")).to_have_attribute("aria-selected", "true")  # what the field holds
    expect(platform).not_to_have_attribute("aria-expanded", re.compile(".*"))  # a name without children
    page.keyboard.press("Tab")  # from the filter box into the tree, at the name picked
    expect(item("（无）")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(top).to_be_focused()
    expect(top).to_have_attribute("aria-expanded", "true")

    page.keyboard.press("ArrowLeft")  # an open branch folds
    expect(top).to_have_attribute("aria-expanded", "false")
    expect(rnd).to_be_hidden()
    expect(top).to_be_focused()
    page.keyboard.press("ArrowRight")  # a folded branch opens
    expect(top).to_have_attribute("aria-expanded", "true")
    expect(rnd).to_be_visible()
    expect(top).to_be_focused()
    page.keyboard.press("ArrowRight")  # an open branch: to its first child
    expect(rnd).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(platform).to_be_focused()
    page.keyboard.press("ArrowRight")  # a name without children: nothing to open
    expect(platform).to_be_focused()
    page.keyboard.press("ArrowLeft")  # a child: to its parent
    expect(rnd).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(rnd).to_have_attribute("aria-expanded", "false")
    expect(platform).to_be_hidden()
    page.keyboard.press("ArrowLeft")
    expect(top).to_be_focused()
    page.keyboard.press("End")
    expect(market).to_be_focused()
    page.keyboard.press("Home")
    expect(item("（无）")).to_be_focused()

    page.keyboard.press("End")
    page.keyboard.press("Space")  # picks (as Enter does), closes, back on the field
    expect(tree).to_be_hidden()
    expect(page.locator("#dept_id-picker")).to_be_focused()
    expect(page.locator("#dept_id-picker")).to_have_text("键市场部")
    page.keyboard.press("Enter")
    expect(item("键市场部")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Tab")
    expect(item("键市场部")).to_be_focused()  # one Tab stop: the name picked
    page.keyboard.press("Tab")  # and on out of the tree, which closes
    expect(tree).to_be_hidden()

    # the mouse's fold button folds the same branch the keys do, and the tree says so
    page.locator("#dept_id-picker").click()
    expect(rnd).to_have_attribute("aria-expanded", "false")  # still folded
    tree.locator("li", has_text="键总部").first.locator(".tree-caret").click()
    expect(top).to_have_attribute("aria-expanded", "false")
    expect(market).to_be_hidden()


def test_import_users_in_the_dialog(page: Any, live_server: Any, app: Any, tmp_path: Path) -> None:
    """The import dialog: template link, a dry run with its error table, then the import, its generated
    passwords shown once and downloaded, and the list showing the new users."""
    sign_in(page)
    page.goto("/system/user/")
    page.locator("#import-btn").click()
    dialog = page.locator("#importModal")
    dialog.get_by_role("link", name="下载导入模板").wait_for()
    bad, good = tmp_path / "bad.xlsx", tmp_path / "good.xlsx"
    header = ["用户名*", "手机号码*", "部门", "岗位", "职级", "角色", "状态", "初始密码"]
    for path, rows in ((bad, [["坏号", "123", "", "", "", "", "", ""]]),
                       (good, [["导入甲", "13711112222", "", "", "", "", "", ""],
                               ["导入乙", "13711113333", "", "", "", "", "", "Passw0rd9"]])):
        workbook = openpyxl.Workbook()
        workbook.active.append(header)
        for row in rows:
            workbook.active.append(row)
        workbook.save(path)
    dialog.locator("#import-file").set_input_files(str(bad))
    dialog.get_by_role("button", name="检查文件").click()
    dialog.get_by_text("发现 1 处错误").wait_for()
    assert "手机号格式不正确" in dialog.locator("#import-errors").inner_text()
    dialog.locator("#import-file").set_input_files(str(good))
    dialog.get_by_role("button", name="检查文件").click()
    dialog.get_by_text("检查通过").wait_for()
    dialog.get_by_role("button", name="开始导入").click()
    dialog.get_by_text("导入完成").wait_for()
    shown = dialog.locator("#import-passwords tbody tr")
    assert shown.count() == 1 and "13711112222" in shown.first.inner_text()
    with page.expect_download() as download_info:
        dialog.get_by_role("button", name="下载初始密码（Excel）").click()
    sheet = openpyxl.load_workbook(io.BytesIO(download_info.value.path().read_bytes())).active
    password = shown.first.locator("td").nth(3).inner_text()
    assert sheet.cell(2, 2).value == "13711112222" and sheet.cell(2, 4).value == password
    dialog.get_by_role("button", name="取消").click()
    page.wait_for_load_state("load")
    page.locator("#user-table").get_by_text("13711113333").wait_for()


# Kept by the page from its first script on: a CSP refusal of anything a payload put in the page
CSP_WATCH = """window.__refused = [];
document.addEventListener('securitypolicyviolation', function (e) { window.__refused.push(e.violatedDirective); });"""


def test_an_import_of_payload_cells_shows_them_as_text(page: Any, live_server: Any, app: Any, tmp_path: Path) -> None:
    """The security review in a real browser: a file whose cells are script, attribute and template payloads, naming a
    department, post, grade and role whose names are payloads too, checked (its errors say the cells back), imported
    (its passwords name the users), then the list showing them, in both languages: no dialog opens, the CSP refuses
    nothing, and every payload is shown as the text it is."""
    from tests.conftest import ApiClient
    from tests.test_users import NAMED, PAYLOADS, REVERSED, next_phone_for_import, text_cells_book

    api = ApiClient(app.test_client())
    api.token = api.sign_in()
    api.data("POST", "/api/admin/dept/create", {"parentId": 0, "name": NAMED["dept"]})
    api.data("POST", "/api/admin/post/create", {"name": NAMED["post"]})
    api.data("POST", "/api/admin/grade/create", {"name": NAMED["grade"], "level": 1})
    api.data("POST", "/api/admin/role/create", {"name": NAMED["role"], "roleCode": "ROLE_PAYLOAD"})
    bad, good = tmp_path / "bad.xlsx", tmp_path / "good.xlsx"
    bad.write_bytes(text_cells_book([["坏", next_phone_for_import(), p, p, p, p, p, ""]
                                     for p in [*PAYLOADS, REVERSED]]).getvalue())
    good.write_bytes(text_cells_book([[p, next_phone_for_import(), *NAMED.values(), "正常", ""]
                                      for p in PAYLOADS]).getvalue())
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.add_init_script(CSP_WATCH)
    errors = watch_console(page)
    sign_in(page)
    page.goto("/system/user/")
    page.locator("#import-btn").click()
    dialog = page.locator("#importModal")
    dialog.locator("#import-file").set_input_files(str(bad))
    dialog.get_by_role("button", name="检查文件").click()
    dialog.get_by_text("处错误").wait_for()
    said = dialog.locator("#import-errors tbody").inner_text()
    assert '岗位不存在："><img src=x onerror=alert(1)>' in said and "角色不存在：' onmouseover='alert(1)" in said
    assert "状态只能填写 正常 或 禁用：x[U+202E]slx.exe" in said
    dialog.locator("#import-file").set_input_files(str(good))
    dialog.get_by_role("button", name="检查文件").click()
    dialog.get_by_text("检查通过").wait_for()
    dialog.get_by_role("button", name="开始导入").click()
    dialog.get_by_text("导入完成").wait_for()
    assert dialog.locator("#import-passwords tbody td:nth-child(3)").all_inner_texts() == PAYLOADS
    dialog.locator("#import-passwords tbody td").first.hover()
    assert page.evaluate("window.__refused") == []  # this document's (the list reloads when the dialog closes)
    with page.expect_navigation():  # the list reloads: a goto before it ends would be aborted by it
        dialog.get_by_role("button", name="取消").click()
    for lang in ("zh", "en"):
        page.goto(f"/language/{lang}?next=/system/user/?page_size=50")
        page.wait_for_load_state("load")
        names = page.locator("#user-table tbody td:nth-child(2)")
        for cell in names.all()[:len(PAYLOADS)]:
            cell.hover()  # an injected onmouseover would fire here
        assert (dialogs, page.evaluate("window.__refused"), errors) == ([], [], []), lang
        assert page.locator("img, script:not([src]):not([type='application/json'])").count() == 0
        assert set(PAYLOADS) <= set(names.all_inner_texts()), lang


# Each error message of the import dialog: the part of its text that lies outside the dialog (or is cut by its
# cell), in px; 0 when the whole sentence is in sight without scrolling.
IMPORT_ERRORS_OUT_OF_SIGHT = """() => {
  const dialog = document.querySelector('#importModal .modal-content').getBoundingClientRect();
  return [...document.querySelectorAll('#import-errors tbody td:last-child')].map(cell => {
    const range = document.createRange();
    range.selectNodeContents(cell);
    const text = range.getBoundingClientRect();
    return Math.max(0, Math.round(text.right - Math.min(dialog.right, cell.closest('.table-responsive')
      .getBoundingClientRect().right)), cell.scrollWidth - cell.clientWidth);
  });
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_an_import_error_is_read_whole(page: Any, live_server: Any, app: Any, tmp_path: Path, width: int) -> None:
    """A browser review: the import dialog's error table kept each message on one line in a narrow dialog, so a
    row's reason (部门不存在：总部/不存在（请填写完整路径，如 总部/研发中心）) ran out of sight at 1280 px, and on a
    phone most of every message did. The messages wrap in a wider dialog: each is read whole where it stands."""
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page)
    page.goto("/system/user/")
    page.locator("#import-btn").click()
    dialog = page.locator("#importModal")
    dialog.get_by_role("link", name="下载导入模板").wait_for()
    bad = tmp_path / "bad.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["用户名*", "手机号码*", "部门", "岗位", "职级", "角色", "状态", "初始密码"])
    workbook.active.append(["坏行", "13711114444", "总部/不存在的部门", "不存在的岗位", "", "ROLE_NOT_THERE", "也许",
                            "abc"])
    workbook.save(bad)
    dialog.locator("#import-file").set_input_files(str(bad))
    dialog.get_by_role("button", name="检查文件").click()
    dialog.get_by_text("发现 5 处错误").wait_for()
    assert page.evaluate(IMPORT_ERRORS_OUT_OF_SIGHT) == [0] * 5
