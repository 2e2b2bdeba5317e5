"""部门管理 in a real browser: build a three-level organisation, assign users and a manager, read the org
chart, filter the user list by a middle department, and be refused when deleting a department with members."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import settle, sign_in
from tests.factories import make_dept, make_user


def dept_row(page: Any, name: str) -> Any:
    return page.locator("#dept-table tbody tr").filter(has=page.locator(".dept-name", has_text=name)).first


def add_child(page: Any, parent: str, name: str) -> None:
    dept_row(page, parent).get_by_role("link", name="新增下级").click()
    assert page.locator("#parent_id option:checked").inner_text().strip() == parent
    page.locator("#name").fill(name)
    page.get_by_role("button", name="保存").click()
    page.get_by_text(f"部门「{name}」已创建").wait_for()


def test_organisation_in_the_browser(page: Any, app: Any) -> None:
    sign_in(page)
    page.get_by_role("link", name="部门管理").click()
    page.wait_for_url("**/system/dept/")

    # Three levels: 星河集团 > 研发中心 > 平台组, and a second branch 市场中心.
    page.get_by_role("link", name="新增部门").click()
    page.locator("#name").fill("星河集团")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("部门「星河集团」已创建").wait_for()
    add_child(page, "星河集团", "研发中心")
    add_child(page, "星河集团", "市场中心")
    add_child(page, "研发中心", "平台组")

    ids = {name: int(dept_row(page, name).get_attribute("data-dept-id"))
           for name in ("星河集团", "研发中心", "市场中心", "平台组")}
    # each level further right (the indent classes, now that the CSP refuses style attributes)
    lefts = [dept_row(page, name).get_by_text(name, exact=True).bounding_box()["x"]
             for name in ("星河集团", "研发中心", "平台组")]
    assert lefts[0] + 15 < lefts[1] and lefts[1] + 15 < lefts[2], lefts
    make_user(app, name="韩研发", phone="13955500001", dept_id=ids["研发中心"])
    make_user(app, name="林平台", phone="13955500002", dept_id=ids["平台组"])
    make_user(app, name="高市场", phone="13955500003", dept_id=ids["市场中心"])

    # One more member through the user form's department picker.
    page.goto("/system/user/new")
    page.locator("#phone").fill("13955500004")
    page.locator("#name").fill("许平台")
    page.locator("#password").fill("Browser123")
    page.locator("#dept_id").select_option(str(ids["平台组"]))
    page.get_by_role("button", name="保存").click()
    page.get_by_text("用户「许平台」已创建").wait_for()

    # A manager for 研发中心, found by typing part of the phone number.
    page.goto("/system/dept/")
    dept_row(page, "研发中心").get_by_role("link", name="编辑").click()
    page.wait_for_url(re.compile(r"/edit\?back="))  # the list it came from rides along
    page.wait_for_load_state("load")  # the picker's script is at the end of the page
    page.locator("#manager-search").fill("55500001")
    page.locator("#manager-results").get_by_role("option", name="韩研发（13955500001）").click()
    assert page.locator("#manager-current").inner_text() == "已选：韩研发（13955500001）"
    page.get_by_role("button", name="保存").click()
    page.get_by_text("部门「研发中心」已保存").wait_for()
    row = dept_row(page, "研发中心")
    assert "韩研发" in row.inner_text()
    assert row.get_by_test_id("members").inner_text() == "1"
    assert row.get_by_test_id("total-members").inner_text() == "3"

    # The org chart: boxes for every department, nested as the organisation is, with lines between them.
    page.get_by_role("link", name="组织架构图").click()
    page.wait_for_url("**/system/dept/org")
    chart = page.locator("#org-chart")
    assert chart.get_by_test_id("org-node").count() == 4
    top = chart.locator(f'[data-dept-id="{ids["星河集团"]}"]')
    assert "4 人" in top.inner_text()
    rnd = chart.locator(f'[data-dept-id="{ids["研发中心"]}"]')
    assert "韩研发" in rnd.inner_text() and "3 人" in rnd.inner_text()
    platform = chart.locator(f'[data-dept-id="{ids["平台组"]}"]')
    market = chart.locator(f'[data-dept-id="{ids["市场中心"]}"]')
    top_box, rnd_box, platform_box, market_box = (b.bounding_box() for b in (top, rnd, platform, market))
    assert top_box["y"] < rnd_box["y"] < platform_box["y"]  # each level drawn below its parent
    assert abs(rnd_box["y"] - market_box["y"]) < 2  # siblings side by side
    assert rnd_box["x"] + rnd_box["width"] <= market_box["x"] or market_box["x"] + market_box["width"] <= rnd_box["x"]
    # the connector from 研发中心's list down to 平台组 is drawn (a ::before line with a border)
    line = page.evaluate("""(id) => {
        const li = document.querySelector(`[data-dept-id="${id}"]`).closest('li').querySelector(':scope > ul');
        return getComputedStyle(li, '::before').borderLeftWidth;
    }""", ids["研发中心"])
    assert line == "2px"

    # Filter the user list by the middle department: its own member and those below it, nobody else.
    page.get_by_role("link", name="用户管理").click()
    page.wait_for_url("**/system/user/")
    page.locator('select[name="dept_id"]').select_option(str(ids["研发中心"]))
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(f"**dept_id={ids['研发中心']}**")
    names = sorted(page.locator("#user-table tbody tr td:nth-child(2)").all_inner_texts())
    assert names == sorted(["韩研发", "林平台", "许平台"])

    # Deleting a department with members would be refused: the dialog says why and offers no confirm.
    page.get_by_role("link", name="部门管理").click()
    settle(page, "**/system/dept/")
    dept_row(page, "平台组").get_by_role("button", name="删除").click()
    page.locator("#confirmModal").wait_for(state="visible")
    body = page.locator("#confirmBody").inner_text()
    assert "不能删除部门「平台组」" in body and "2 名成员" in body
    assert not page.locator("#confirmOk").is_visible()
    page.locator("#confirmOk-cancel").click()  # 知道了
    page.locator("#confirmModal").wait_for(state="hidden")
    assert dept_row(page, "平台组").is_visible()  # still there


@pytest.mark.parametrize("width", [1280, 390])
def test_the_org_chart_scrolls_to_every_root_and_its_subtree(page: Any, app: Any, width: int) -> None:
    """Several roots, each with a wide subtree, are wider than the screen: scrolling the chart reaches the
    first and the last root and the last root's last child (issue 24 item 7)."""
    roots = [make_dept(app, f"根部门{r}") for r in range(5)]
    leaves = [make_dept(app, f"{r}号下级部门{c}", parent_id=root) for r, root in enumerate(roots) for c in range(4)]
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page)
    page.goto("/system/dept/org")
    chart = page.locator("#org-chart")

    def reachable(dept_id: int) -> bool:
        """Scrolled to, is the department's box wholly inside the chart's frame and the window?"""
        node = page.locator(f'#org-chart [data-dept-id="{dept_id}"]')
        node.evaluate("el => el.scrollIntoView({block: 'nearest', inline: 'center'})")
        box, frame = node.bounding_box(), chart.bounding_box()
        return (frame["x"] - 1 <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"] + 1
                and box["x"] >= 0 and box["x"] + box["width"] <= width)

    assert chart.evaluate("el => el.scrollWidth > el.clientWidth")  # wider than the screen: it scrolls
    # nothing lies left of the scrollable area (a centred row wider than its box overflows on both sides, and
    # what overflows on the left cannot be scrolled to)
    assert chart.evaluate("""el => { el.scrollLeft = 0; const left = el.getBoundingClientRect().left;
        return Math.min(...[...el.querySelectorAll('[data-testid="org-node"]')].map(
            n => n.getBoundingClientRect().left - left)); }""") >= 0
    for dept_id in (roots[0], leaves[0], roots[-1], leaves[-1]):
        assert reachable(dept_id), dept_id
    # and the page itself does not scroll sideways: the chart's own scroll bar is the way across
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_department_list_folds_its_tree_beside_the_parent_picker(page: Any, app: Any) -> None:
    """The department list's own tree (its rows' fold buttons, static/js/dept-list.js) is not the pickers' tree:
    when the pickers became WAI-ARIA trees it kept folding a branch's rows and saying so, and the edit form's 上级部门
    picker on the same section folds by its keys."""
    from tests.factories import make_dept_tree

    ids = make_dept_tree(app, {"折叠集团": {"折叠研发": {"折叠平台": {}}}})
    sign_in(page)
    page.goto("/system/dept/")
    fold = dept_row(page, "折叠集团").get_by_role("button", name="折叠/展开「折叠集团」")
    expect(fold).to_have_attribute("aria-expanded", "true")
    fold.click()
    expect(fold).to_have_attribute("aria-expanded", "false")
    expect(dept_row(page, "折叠研发")).to_be_hidden()
    expect(dept_row(page, "折叠平台")).to_be_hidden()
    fold.click()
    expect(dept_row(page, "折叠平台")).to_be_visible()

    page.goto(f"/system/dept/{ids['折叠平台']}/edit")
    page.locator("#parent_id-picker").click()
    tree = page.get_by_role("tree")
    top = tree.get_by_role("treeitem", name="折叠集团", exact=True)
    top.focus()
    page.keyboard.press("ArrowLeft")
    expect(top).to_have_attribute("aria-expanded", "false")
    expect(tree.get_by_role("treeitem", name="折叠研发", exact=True)).to_be_hidden()
